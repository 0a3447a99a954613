"""Publishing the service and its terms: a new terms version only when they change."""

from __future__ import annotations

from django.db import transaction

from engagements import catalogue, rules
from engagements.models import Service, ServiceTerms

_TERMS_FIELDS = ("sessions", "milestone_plan", "policy_es", "policy_en", "phase_weights")


def _catalogue_terms() -> dict:
    return {
        "sessions": catalogue.SESSIONS,
        "milestone_plan": catalogue.MILESTONE_PLAN,
        "policy_es": catalogue.POLICY_ES,
        "policy_en": catalogue.POLICY_EN,
        "phase_weights": dict(rules.DEFAULT_PHASE_WEIGHTS),
    }


@transaction.atomic
def service_publish(*, slug: str, content: dict, terms: dict) -> Service:
    """Create or update the service; add a terms version if `terms` differ from
    the latest one. Running engagements keep the version they were sold under."""
    service, _created = Service.objects.select_for_update().get_or_create(slug=slug, defaults=content)
    changed = [field for field, value in content.items() if getattr(service, field) != value]
    if changed:
        for field in changed:
            setattr(service, field, content[field])
        service.save(update_fields=changed)
    latest = service.terms.order_by("-version").first()
    if latest is None or any(getattr(latest, field) != terms[field] for field in terms):
        ServiceTerms.objects.create(service=service, version=(latest.version + 1 if latest else 1), **terms)
    return service


def service_publish_catalogue() -> Service:
    """The one service this consultancy sells, from engagements.catalogue."""
    content = {
        "name_es": catalogue.NAME_ES,
        "name_en": catalogue.NAME_EN,
        "summary_es": catalogue.SUMMARY_ES,
        "summary_en": catalogue.SUMMARY_EN,
        "sheet": catalogue.SHEET,
    }
    return service_publish(slug=catalogue.SLUG, content=content, terms=_catalogue_terms())
