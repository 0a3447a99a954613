"""Engagement pages: ownership (404), roles (403), what clients never see, bad input, query counts."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from engagements import rules, services, uploads
from engagements.models import Attachment, ChangeRequest, Engagement, FormalRequest, Inquiry
from tests.conftest import login_with_mfa, make_user
from tests.engagements.fixtures import INQUIRY, hold_session, send_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(engagement, carla, alice):
    """One of each object of alice's engagement, with a published log and an answered request."""
    request = send_request(engagement, carla)
    answered = send_request(engagement, carla, subject="Validación")
    pdf = SimpleUploadedFile("flujo.pdf", b"%PDF-1.4 demo", content_type="application/pdf")
    services.formal_request_answer(actor=alice, request=answered, text="ok", files=[pdf])
    session = hold_session(engagement.sessions.first(), carla)
    services.session_log_publish(
        actor=carla,
        session=session,
        values={"objective": "Objetivo", "activity": "Actividad", "minutes_used": 60, "progress_status": "on_track"},
        next_steps=[{"description": "Enviar SKU", "owner": "client", "due_date": timezone.localdate()}],
    )
    change = services.change_request_raise(actor=alice, engagement=engagement, title="Otro canal", description="x")
    services.internal_note_add(actor=carla, engagement=engagement, body="SECRET-INTERNAL-NOTE")
    return {
        "engagement": engagement,
        "request": request,
        "session": session,
        "change": change,
        "item": engagement.checklist.first(),
        "step": engagement.next_steps.first(),
        "attachment": Attachment.objects.get(),
    }


def _urls(o) -> dict[str, tuple[str, str]]:
    """name -> (method, url) for every page that takes an engagement object."""
    code = o["engagement"].code
    return {
        "detail": ("get", reverse("engagements:detail", args=[code])),
        "diagnosis": ("get", reverse("engagements:diagnosis", args=[code])),
        "phase_complete": ("get", reverse("engagements:phase_complete", args=[code])),
        "convert": ("get", reverse("engagements:lead_convert", args=[code])),
        "assign": ("post", reverse("engagements:assign", args=[code])),
        "action": ("post", reverse("engagements:action", args=[code, "hold"])),
        "request_send": ("post", reverse("engagements:request_send", args=[code])),
        "note": ("post", reverse("engagements:note_add", args=[code])),
        "change_raise": ("post", reverse("engagements:change_raise", args=[code])),
        "answer": ("post", reverse("engagements:request_answer", args=[o["request"].public_id])),
        "record": ("post", reverse("engagements:request_record", args=[o["request"].public_id])),
        "attachment": ("get", reverse("engagements:attachment", args=[o["attachment"].public_id])),
        "schedule": ("post", reverse("engagements:session_schedule", args=[o["session"].public_id])),
        "log": ("get", reverse("engagements:session_log", args=[o["session"].public_id])),
        "step": ("post", reverse("engagements:step_toggle", args=[o["step"].public_id])),
        "deliver": ("post", reverse("engagements:checklist_deliver", args=[o["item"].public_id])),
        "review": ("post", reverse("engagements:checklist_review", args=[o["item"].public_id])),
        "file": ("get", reverse("engagements:checklist_file", args=[o["item"].public_id])),
        "classify": ("post", reverse("engagements:change_classify", args=[o["change"].public_id])),
    }


CLIENT_URLS = {"detail", "change_raise", "answer", "attachment", "step", "deliver", "file"}


class TestOwnership:
    def test_another_companys_client_gets_404_everywhere_with_no_data(self, client, objects, charlie):
        client.force_login(charlie)
        for name, (method, url) in _urls(objects).items():
            response = getattr(client, method)(url)
            if name in CLIENT_URLS:
                assert response.status_code == 404, name
                assert b"Andes" not in response.content and b"SECRET" not in response.content, name
            else:
                assert response.status_code == 403, name

    def test_a_consultant_not_assigned_gets_404(self, client, objects, db):
        other = make_user("otro@consultora.test", "consultant")
        login_with_mfa(client, other)
        for name, (method, url) in _urls(objects).items():
            # Staff-only and client-only actions refuse the role before any lookup.
            expected = 403 if name in {"assign", "convert", "classify", "answer", "deliver"} else 404
            assert getattr(client, method)(url).status_code == expected, name

    def test_anonymous_users_go_to_login(self, client, objects):
        for name, (method, url) in _urls(objects).items():
            response = getattr(client, method)(url)
            assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), name

    def test_the_client_sees_their_engagement_but_never_internal_notes(self, client, objects, alice):
        client.force_login(alice)
        page = client.get(_urls(objects)["detail"][1]).content.decode()
        assert "Objetivo" in page and "Enviar SKU" in page and "Accesos" in page
        assert "SECRET-INTERNAL-NOTE" not in page
        assert "lead converted" not in page  # internal reasons are not shown either

    def test_a_closed_engagement_asks_the_client_for_nothing(self, client, objects, alice):
        engagement = objects["engagement"]
        client.force_login(alice)
        before = client.get(_urls(objects)["detail"][1]).content.decode()
        assert 'id="item-' in before  # the checklist is asked for
        Engagement.objects.filter(pk=engagement.pk).update(status=rules.CLOSED)
        after = client.get(_urls(objects)["detail"][1]).content.decode()
        assert 'id="item-' not in after

    def test_the_consultant_sees_internal_notes(self, client, objects, carla):
        login_with_mfa(client, carla)
        assert "SECRET-INTERNAL-NOTE" in client.get(_urls(objects)["detail"][1]).content.decode()

    def test_a_client_never_sees_a_lead(self, client, make_engagement, andes, alice):
        lead = make_engagement(andes, rules.LEAD)
        Engagement.objects.filter(pk=lead.pk).update(company=andes)  # even one attached to their company
        client.force_login(alice)
        assert client.get(reverse("engagements:detail", args=[lead.code])).status_code == 404


class TestClientActions:
    def test_a_client_answers_with_a_file(self, client, objects, alice):
        client.force_login(alice)
        upload = SimpleUploadedFile("accesos.txt", b"usuario: api\n", content_type="text/plain")
        url = _urls(objects)["answer"][1]
        client.post(url, {"answer": "Adjunto", "files": [upload]})
        request = FormalRequest.objects.get(pk=objects["request"].pk)
        assert request.answered_at is not None and request.attachments.get().original_name == "accesos.txt"

    def test_a_second_submission_is_refused_without_a_500(self, client, objects, alice):
        client.force_login(alice)
        url = _urls(objects)["answer"][1]
        client.post(url, {"answer": "Primera"})
        response = client.post(url, {"answer": "Segunda"}, follow=True)
        assert response.status_code == 200
        assert str(services.ALREADY_ANSWERED) in response.content.decode()
        assert FormalRequest.objects.get(pk=objects["request"].pk).answer == "Primera"

    @pytest.mark.parametrize(
        ("name", "content", "message"),
        [
            ("virus.exe", b"MZ\x90\x00", uploads.FILE_TYPE_REFUSED),
            ("fake.pdf", b"<html>not a pdf</html>", uploads.FILE_CONTENT_MISMATCH),
            ("big.pdf", b"%PDF" + b"0" * (10 * 1024 * 1024), uploads.FILE_TOO_LARGE),
        ],
    )
    def test_bad_uploads_are_refused_and_nothing_is_saved(self, client, objects, alice, name, content, message):
        client.force_login(alice)
        upload = SimpleUploadedFile(name, content)
        response = client.post(_urls(objects)["answer"][1], {"answer": "Mi respuesta", "files": [upload]})
        assert response.status_code == 200  # the page again, with the reason next to the files field
        shown = response.context["answer_form"].errors["files"]
        with translation.override("es"), pytest.raises(ValidationError) as refused:
            uploads.validate_upload(SimpleUploadedFile(name, content))
        assert refused.value.messages[0] in shown  # the translated reason, naming the file
        assert ">Mi respuesta</textarea>" in response.content.decode()  # what was typed is kept
        assert refused.value.error_list[0].message == message
        assert FormalRequest.objects.get(pk=objects["request"].pk).answered_at is None
        assert Attachment.objects.count() == 1  # only the fixture's

    def test_a_client_raises_a_change_request(self, client, objects, alice):
        client.force_login(alice)
        client.post(_urls(objects)["change_raise"][1], {"title": "Integrar Mercado Libre", "description": "..."})
        assert ChangeRequest.objects.filter(title="Integrar Mercado Libre", raised_by=alice).exists()

    def test_a_client_cannot_record_answers_or_hold(self, client, objects, alice):
        client.force_login(alice)
        assert client.post(_urls(objects)["record"][1], {"answer": "x"}).status_code == 403
        assert client.post(_urls(objects)["action"][1], {"reason": "x"}).status_code == 403


class TestConsultantActions:
    def test_a_log_missing_a_field_is_refused_and_nothing_saved(self, client, objects, carla):
        session = objects["engagement"].sessions.get(number=2)
        login_with_mfa(client, carla)
        url = reverse("engagements:session_log", args=[session.public_id])
        response = client.post(
            url,
            {
                "objective": "x",
                "activity": "",
                "minutes_used": "60",
                "progress_status": "on_track",
                "step_0_description": "y",
                "step_0_owner": "client",
                "step_0_due_date": "2030-01-01",
            },
        )
        assert response.status_code == 200 and response.context["form"].errors["activity"]
        session.refresh_from_db()
        assert session.log_published_at is None

    def test_publishing_a_log_shows_it_to_the_client_at_once(self, client, objects, carla, alice):
        session = hold_session(objects["engagement"].sessions.get(number=2), carla)
        login_with_mfa(client, carla)
        client.post(
            reverse("engagements:session_log", args=[session.public_id]),
            {
                "objective": "Validar flujo",
                "activity": "Recorrimos el pedido 1001",
                "minutes_used": "75",
                "progress_status": "on_track",
                "step_0_description": "Probar pago",
                "step_0_owner": "client",
                "step_0_due_date": "2030-01-01",
            },
        )
        client.logout()
        client.force_login(alice)
        page = client.get(_urls(objects)["detail"][1]).content.decode()
        assert "Recorrimos el pedido 1001" in page and "Probar pago" in page

    def test_a_transition_not_allowed_shows_a_message(self, client, objects, carla):
        login_with_mfa(client, carla)
        response = client.post(reverse("engagements:action", args=[objects["engagement"].code, "close"]), follow=True)
        assert str(services.CLOSE_BEFORE_CLOSING) in response.content.decode()


class TestPublicServicePage:
    def test_it_presents_the_service_and_takes_an_inquiry(self, client, service, django_capture_on_commit_callbacks):
        page = client.get("/servicio/")
        assert "Integración Odoo Tienda Online" in page.content.decode()
        data = {**INQUIRY, "company_name": "Nueva Tienda", "website": ""}
        response = client.post("/servicio/", data)
        assert response["Location"] == reverse("engagements:inquiry_thanks")
        assert Engagement.objects.get(inquiry__company_name="Nueva Tienda").status == rules.LEAD

    def test_the_honeypot_stores_nothing(self, client, service):
        client.post("/servicio/", {**INQUIRY, "website": "http://spam.example"})
        assert not Inquiry.objects.exists()

    def test_it_rate_limits_by_ip(self, client, service):
        for _ in range(5):
            client.post("/servicio/", INQUIRY)
        response = client.post("/servicio/", INQUIRY)
        assert response.status_code == 200 and response.context["form"].non_field_errors()
        assert Inquiry.objects.count() == 5

    def test_bad_input_keeps_what_was_typed(self, client, service):
        response = client.post("/servicio/", {**INQUIRY, "email": "no-es-email"})
        assert response.context["form"].errors["email"]
        assert "Nina" in response.content.decode()
        assert not Inquiry.objects.exists()


def test_the_client_home_lists_the_company_engagements_and_what_awaits_an_answer(
    client, make_engagement, andes, otra, alice, carla
):
    first, second = make_engagement(andes), make_engagement(andes, rules.QUOTED)
    Engagement.objects.filter(pk=first.pk).update(title="Tienda Andes")
    Engagement.objects.filter(pk=second.pk).update(title="Segunda tienda")
    send_request(first, carla, subject="Credenciales")
    send_request(first, carla, subject="Validación")
    other = make_engagement(otra)
    Engagement.objects.filter(pk=other.pk).update(title="Tienda ajena")
    client.force_login(alice)
    page = client.get(reverse("engagements:home")).content.decode()
    assert "Tienda Andes" in page and "Segunda tienda" in page and "Tienda ajena" not in page
    # What is needed: the two open requests and the five checklist deliverables, in total and listed.
    needs = page.split('id="needs"', 1)[1].split("</section>", 1)[0]
    assert "7 pendientes" in needs
    listed = page.split('id="all-needs"', 1)[1].split("</section>", 1)[0]
    assert "Credenciales" in listed and "Validación" in listed
    assert reverse("engagements:detail", args=[first.code]) in page
    assert reverse("engagements:detail", args=[other.code]) not in page


class TestQueryCounts:
    """Each page runs the same number of queries with one and four times the data."""

    def _grow(self, engagement, carla, alice, n: int) -> None:
        for i in range(n):
            send_request(engagement, carla, subject=f"R{i}")
            services.change_request_raise(actor=alice, engagement=engagement, title=f"C{i}", description="x")
            services.internal_note_add(actor=carla, engagement=engagement, body=f"N{i}")

    def _count(self, client, url) -> int:
        client.get(url)  # warm, as `make bench` does: the count in the navigation is cached a minute
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    def test_client_dashboard(self, client, make_engagement, andes, alice, carla):
        engagement = make_engagement(andes)
        self._grow(engagement, carla, alice, 2)
        client.force_login(alice)
        url = reverse("engagements:detail", args=[engagement.code])
        one = self._count(client, url)
        self._grow(engagement, carla, alice, 6)
        assert self._count(client, url) == one

    def test_consultant_workspace_and_staff_pipeline(self, client, make_engagement, andes, otra, alice, carla, sam):
        for company in (andes, otra):
            self._grow(make_engagement(company), carla, alice, 1)
        client.force_login(carla)
        workspace = self._count(client, "/portal/")
        client.logout()
        client.force_login(sam)
        pipeline = self._count(client, "/portal/")
        for _ in range(3):
            for company in (andes, otra):
                self._grow(make_engagement(company), carla, alice, 2)
        make_engagement(andes, rules.LEAD)
        assert self._count(client, "/portal/") == pipeline
        client.logout()
        client.force_login(carla)
        assert self._count(client, "/portal/") == workspace
