"""Configuration: the django-q2 check, secrets required in production, seed_demo, lint."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.checks import run_checks
from django.core.management import call_command
from django.test import override_settings

from portal.checks import q_cluster_errors

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"timeout": 300, "retry": 420, "max_attempts": 3}


class TestQClusterCheck:
    def test_the_project_configuration_passes(self):
        from django.conf import settings

        assert q_cluster_errors(settings.Q_CLUSTER) == []

    @pytest.mark.parametrize(
        ("conf", "error_id"),
        [
            ({"retry": 420, "max_attempts": 3}, "portal.E001"),
            ({**GOOD, "retry": 300}, "portal.E002"),
            ({**GOOD, "retry": 200}, "portal.E002"),
            ({"timeout": 300, "max_attempts": 3}, "portal.E002"),
            ({"timeout": 300, "retry": 420}, "portal.E003"),
            ({**GOOD, "max_attempts": 0}, "portal.E003"),
            ({**GOOD, "max_attempts": 50}, "portal.E003"),
        ],
    )
    def test_it_rejects_a_bad_configuration(self, conf, error_id):
        assert error_id in [error.id for error in q_cluster_errors(conf)]

    def test_the_check_is_registered_with_django(self):
        with override_settings(Q_CLUSTER={"timeout": 60, "retry": 60}):
            ids = [message.id for message in run_checks(app_configs=[apps.get_app_config("portal")])]
        assert {"portal.E002", "portal.E003"} <= set(ids)


class TestProductionSettings:
    def _import_settings(self, **env) -> subprocess.CompletedProcess:
        base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "FERNET_KEYS", "DEBUG"}}
        return subprocess.run(
            [sys.executable, "-c", "import portal.settings"],
            cwd=ROOT,
            env={**base, **env},
            capture_output=True,
            text=True,
            check=False,
        )

    def test_a_missing_secret_key_stops_start_up_with_a_clear_message(self):
        result = self._import_settings(DEBUG="0", FERNET_KEYS="x")
        assert result.returncode != 0
        assert "SECRET_KEY is not set" in result.stderr

    def test_missing_fernet_keys_stop_start_up(self):
        result = self._import_settings(DEBUG="0", SECRET_KEY="s" * 50)
        assert result.returncode != 0
        assert "FERNET_KEYS is not set" in result.stderr

    def test_a_malformed_boolean_stops_start_up(self):
        result = self._import_settings(DEBUG="maybe")
        assert "DEBUG must be a boolean" in result.stderr

    def test_debug_runs_without_secrets(self):
        assert self._import_settings(DEBUG="1").returncode == 0


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing():
    from django_q.models import Schedule

    from billing.models import Credit, CreditEntry, Invoice, Quote
    from engagements.models import ChecklistItem, Engagement, EngagementEvent, FormalRequest, ServiceTerms, Session
    from portal.models import AuditEvent, ClientCompany, Membership, User

    out = StringIO()
    call_command("seed_demo", "--i-know-this-is-not-production", stdout=out)
    assert "staff@demo.test" in out.getvalue() and "ana@andina.demo.test" in out.getvalue()

    def snapshot():
        return {
            model.__name__: sorted(model.objects.values_list("pk", flat=True))
            for model in (
                User,
                ClientCompany,
                Membership,
                AuditEvent,
                Engagement,
                EngagementEvent,
                Session,
                FormalRequest,
                ChecklistItem,
                ServiceTerms,
                Schedule,
                Quote,
                Invoice,
                Credit,
                CreditEntry,
            )
        } | {
            "passwords": sorted(User.objects.values_list("password", flat=True)),
            "statuses": sorted(Engagement.objects.values_list("status", "phase")),
        }

    first = snapshot()
    assert len(first["ClientCompany"]) == 3 and len(first["User"]) == 6
    # Every status, and every phase of an active engagement, is in the demo.
    statuses = {status for status, _phase in first["statuses"]}
    assert statuses == {
        "lead",
        "diagnosis",
        "quoted",
        "active",
        "waiting_on_client",
        "closed",
        "admin_closed",
        "cancelled",
    }
    # Three 40 % payment requests, an add-on's and its void; the quotes behind them, the sent one and an
    # hour bank waiting for the client's acceptance; one credit.
    assert len(first["Invoice"]) == 5 and len(first["Quote"]) == 6 and len(first["CreditEntry"]) == 1
    assert {phase for status, phase in first["statuses"] if status == "active"} == {
        "planning",
        "configuration",
        "testing",
        "closing",
    }
    call_command("seed_demo", "--i-know-this-is-not-production", stdout=StringIO())
    assert snapshot() == first


def test_ruff_check_is_clean():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_demo_data_crosses_both_client_wait_rules_within_120_days():
    from datetime import timedelta

    from django.utils import timezone

    call_command("seed_demo", "--i-know-this-is-not-production", stdout=StringIO())
    out = StringIO()
    day = (timezone.localdate() + timedelta(days=120)).isoformat()
    call_command("apply_client_wait_rules", "--dry-run", "--today", day, stdout=out)
    rules_fired = {line.split()[1] for line in out.getvalue().splitlines() if "->" in line}
    assert {"r1", "r2_eligible"} <= rules_fired


@pytest.mark.django_db
def test_the_migrations_match_the_models():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
