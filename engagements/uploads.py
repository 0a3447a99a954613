"""Files clients send: checks (size, extension, the file's own signature), and storing them
together with the rows that point at them."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models.fields.files import FieldFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from portal.errors import DomainError

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_ANSWER = 5

# extension -> accepted leading bytes (None: plain text, checked as UTF-8)
_SIGNATURES: dict[str, tuple[bytes, ...] | None] = {
    ".pdf": (b"%PDF",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".xlsx": (b"PK\x03\x04",),
    ".docx": (b"PK\x03\x04",),
    ".zip": (b"PK\x03\x04",),
    ".csv": None,
    ".txt": None,
}
ALLOWED_EXTENSIONS = tuple(_SIGNATURES)

FILE_TOO_LARGE = _("%(name)s is larger than %(limit)s.")
FILE_TYPE_REFUSED = _("%(name)s: only PDF, PNG, JPG, XLSX, DOCX, ZIP, CSV and TXT files are accepted.")
FILE_CONTENT_MISMATCH = _("%(name)s does not look like a real %(ext)s file.")
TOO_MANY_FILES = _("Attach at most %(count)d files.")
FILE_NOT_STORED = _(
    "The file could not be saved on the server (it may be out of space), so nothing was sent. "
    "Your text is still here: attach the file again in a while, or write to your consultant."
)


def _looks_like(head: bytes, signatures: tuple[bytes, ...] | None) -> bool:
    if signatures is None:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the end of the sample is fine.
            return exc.start >= len(head) - 3
        return b"\x00" not in head
    return any(head.startswith(signature) for signature in signatures)


def validate_upload(upload: UploadedFile) -> None:
    name = Path(upload.name or "").name
    ext = Path(name).suffix.lower()
    if ext not in _SIGNATURES:
        raise ValidationError(FILE_TYPE_REFUSED, params={"name": name}, code="file_type")
    if (upload.size or 0) > MAX_UPLOAD_BYTES:
        raise ValidationError(
            FILE_TOO_LARGE, params={"name": name, "limit": filesizeformat(MAX_UPLOAD_BYTES)}, code="file_size"
        )
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    if not _looks_like(head, _SIGNATURES[ext]):
        raise ValidationError(FILE_CONTENT_MISMATCH, params={"name": name, "ext": ext[1:].upper()}, code="file_content")


def validate_uploads(uploads: list[UploadedFile]) -> None:
    if len(uploads) > MAX_FILES_PER_ANSWER:
        raise ValidationError(TOO_MANY_FILES, params={"count": MAX_FILES_PER_ANSWER}, code="file_count")
    for upload in uploads:
        validate_upload(upload)


@contextmanager
def stored_with_rows(field: str) -> Iterator[list[FieldFile]]:
    """Files saved inside the block (append each saved FieldFile to the list) are deleted again
    when the block fails, so that they go with the rows the transaction's rollback removes. A
    storage that fails (disk full, no permission) becomes a DomainError on `field`.

    Use it inside the service's transaction, around everything after the first file is saved.
    A rollback of an outer transaction after the service returned is not seen here.
    """
    saved: list[FieldFile] = []
    try:
        yield saved
    except BaseException as error:
        for file in saved:
            if file.name:
                file.storage.delete(file.name)
        if isinstance(error, OSError):
            logger.error("upload not stored: %s", type(error).__name__)
            raise DomainError(FILE_NOT_STORED, field=field) from error
        raise
