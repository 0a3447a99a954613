"""Disk full in the middle of an upload: no 500, the reason next to the file field in Spanish,
the typed text kept, and no file left on disk (neither the partial one nor those already saved)."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from engagements.models import Attachment, ChecklistItem, ChecklistStatus, FormalRequest
from tests.engagements.fixtures import send_request
from tests.fakes.disk import DiskFullStorage

pytestmark = pytest.mark.django_db
NOT_STORED = "No se pudo guardar el archivo en el servidor"
PDF = b"%PDF-1.4\n" + b"0" * 200_000  # several chunks: the disk fills in the middle of this one


def _media_files() -> set[Path]:
    root = Path(settings.MEDIA_ROOT)
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def test_an_answer_whose_second_file_fills_the_disk_keeps_the_text_and_leaves_no_file(
    client, engagement, carla, alice, disk_fills_on
):
    request = send_request(engagement, carla)
    disk_fills_on(2)  # the first file is written whole, the second fills the disk
    before = _media_files()
    client.force_login(alice)
    typed = "Les envío los accesos y el flujo de pedidos"
    response = client.post(
        reverse("engagements:request_answer", args=[request.public_id]),
        {"answer": typed, "files": [_pdf("accesos.pdf"), _pdf("flujo.pdf")]},
    )
    assert response.status_code == 200
    assert DiskFullStorage.saves == 2  # both files reached the storage
    page = response.content.decode()
    assert any(NOT_STORED in str(error) for error in response.context["answer_form"].errors["files"])
    assert f'id="files-{request.public_id}-error"' in page and NOT_STORED in page  # next to the field
    assert f">{typed}</textarea>" in page  # nothing typed is lost
    request.refresh_from_db()
    assert request.answered_at is None and not Attachment.objects.filter(request=request).exists()
    assert _media_files() == before  # neither accesos.pdf nor the partial flujo.pdf is left


def test_a_delivery_that_fills_the_disk_keeps_the_note_and_leaves_no_file(client, engagement, alice, disk_fills_on):
    item = engagement.checklist.filter(status=ChecklistStatus.PENDING).first()
    disk_fills_on(1)
    before = _media_files()
    client.force_login(alice)
    response = client.post(
        reverse("engagements:checklist_deliver", args=[item.public_id]),
        {"note": "Credenciales de prueba adjuntas", "file": _pdf("credenciales.pdf")},
    )
    assert response.status_code == 200
    assert NOT_STORED in str(response.context["deliver_form"].errors["file"])
    page = response.content.decode()
    assert ">Credenciales de prueba adjuntas</textarea>" in page and f'id="file-{item.public_id}-error"' in page
    assert ChecklistItem.objects.get(pk=item.pk).status == ChecklistStatus.PENDING
    assert _media_files() == before


def test_with_space_again_the_same_answer_goes_through(client, engagement, carla, alice, disk_fills_on):
    request = send_request(engagement, carla)
    disk_fills_on(0)  # never
    client.force_login(alice)
    response = client.post(
        reverse("engagements:request_answer", args=[request.public_id]), {"answer": "Listo", "files": [_pdf("a.pdf")]}
    )
    assert response.status_code == 302
    attachment = FormalRequest.objects.get(pk=request.pk).attachments.get()
    assert Path(attachment.file.path).read_bytes() == PDF
