"""A disk that fills up: the real file storage writing to MEDIA_ROOT, until the `n`-th file it
stores stops after its first chunk with ENOSPC, as write(2) does on a full file system.

`disk_fills_on(n)` (a fixture) makes it the default storage for the test; n = 0: never full.
"""

import errno
import os

import pytest
from django.core.files import File

from portal.storage import CleanFileSystemStorage


class _FillsTheDisk(File):
    """An upload whose write stops after the first chunk, as write(2) does with ENOSPC."""

    def chunks(self, chunk_size=None):
        self.seek(0)
        yield self.read(64 * 1024)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class DiskFullStorage(CleanFileSystemStorage):
    """The real storage writing to MEDIA_ROOT, until the disk fills up during the `fail_on`-th file."""

    fail_on = 1
    saves = 0

    def _save(self, name, content):
        DiskFullStorage.saves += 1
        if DiskFullStorage.saves == self.fail_on:
            content = _FillsTheDisk(content.file, name=content.name)
        return super()._save(name, content)


@pytest.fixture
def disk_fills_on(settings):
    def configure(nth: int) -> None:
        DiskFullStorage.saves, DiskFullStorage.fail_on = 0, nth
        settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "tests.fakes.disk.DiskFullStorage"}}

    return configure
