"""`manage.py publish_service`: the service and its terms from engagements/catalogue.py.

Run once on a new installation (the public service page and inquiries need it) and after every
update: a terms version is added only when the terms in the code changed; running engagements
keep the version they were sold under.
"""

from django.core.management.base import BaseCommand

from engagements import services


class Command(BaseCommand):
    help = "Publish the service and its terms from engagements/catalogue.py (a new terms version only if they changed)."

    def handle(self, *args, **options) -> None:
        service = services.service_publish_catalogue()
        versions = list(service.terms.order_by("-version").values_list("version", "published_at"))
        latest, published_at = versions[0]
        self.stdout.write(
            f"Service {service.slug}: terms version {latest} (published {published_at:%Y-%m-%d %H:%M} UTC), "
            f"{len(versions)} version(s) in all."
        )
