"""The file storage of uploads and PDFs: Django's file-system storage, minus the partial file a
failed write leaves behind (disk full in the middle of an upload)."""

import contextlib
import os

from django.core.files.storage import FileSystemStorage


class CleanFileSystemStorage(FileSystemStorage):
    def _save(self, name, content):
        path = self.path(name)
        existed = os.path.lexists(path)  # Storage.save chose a free name; this is a guard, not a lock
        try:
            return super()._save(name, content)
        except OSError:
            if not existed:
                with contextlib.suppress(OSError):
                    os.remove(path)
            raise
