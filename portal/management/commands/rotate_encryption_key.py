"""Re-encrypt every stored secret under the first key of FERNET_KEYS (MultiFernet rotate).

Covers every EncryptedTextField of every installed model (found through the app
registry) and the allauth MFA seeds (TOTP secret, recovery-code seed) when the
MFA adapter encrypts them. Rows are read raw (the ciphertext, not the Secret),
locked and rewritten in batches, one transaction a batch. A value no key can
decrypt is reported by model, pk and field, never by content, is left as it is,
and makes the command exit non-zero.

Drill: add the new key first in FERNET_KEYS, restart web and workers, run this,
then drop the old key (README, "Rotating the encryption key").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from allauth.mfa.adapter import DefaultMFAAdapter, get_adapter
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.db.models.functions import Cast

from portal import crypto
from portal.fields import EncryptedTextField

MFA_KEYS = {Authenticator.Type.TOTP: "secret", Authenticator.Type.RECOVERY_CODES: "seed"}


@dataclass
class Tally:
    rotated: int = 0
    empty: int = 0
    failures: list[str] = field(default_factory=list)


def encrypted_fields() -> Iterator[tuple[type[models.Model], list[EncryptedTextField]]]:
    for model in apps.get_models():
        found = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if found:
            yield model, found


def _batches(queryset: models.QuerySet, size: int) -> Iterator[list[int]]:
    """Primary keys in ascending batches (keyset pagination: rows added meanwhile do not shift it)."""
    last = None
    while True:
        page = queryset.order_by("pk")
        page = list((page.filter(pk__gt=last) if last is not None else page).values_list("pk", flat=True)[:size])
        if not page:
            return
        yield page
        last = page[-1]


def _rotate(token: str, rotate: Callable[[str], str], tally: Tally, where: str) -> str | None:
    if not token:
        tally.empty += 1
        return None
    try:
        new = rotate(token)
    except crypto.InvalidToken:
        tally.failures.append(where)
        return None
    tally.rotated += 1
    return new


def rotate_model(model, fields: list[EncryptedTextField], *, batch: int, dry_run: bool) -> Tally:
    tally = Tally()
    raw = {f.attname: Cast(f.attname, output_field=models.TextField()) for f in fields}  # the ciphertext
    for pks in _batches(model._base_manager.all(), batch):
        with transaction.atomic():
            locked = model._base_manager.filter(pk__in=pks).select_for_update().order_by("pk")
            rows = locked.values("pk", **{f"raw_{name}": expression for name, expression in raw.items()})
            for row in rows:
                changes = {}
                for name in raw:
                    new = _rotate(
                        row[f"raw_{name}"], crypto.rotate, tally, f"{model._meta.label} pk={row['pk']} {name}"
                    )
                    if new is not None:
                        changes[name] = models.Value(new, output_field=models.TextField())  # stored as is
                if changes and not dry_run:
                    model._base_manager.filter(pk=row["pk"]).update(**changes)
    return tally


def rotate_mfa(*, batch: int, dry_run: bool) -> Tally | None:
    """allauth's seeds, when the project's adapter encrypts them (the default adapter stores them plain)."""
    adapter = get_adapter()
    if type(adapter).encrypt is DefaultMFAAdapter.encrypt:
        return None
    tally = Tally()
    queryset = Authenticator.objects.filter(type__in=list(MFA_KEYS))
    for pks in _batches(queryset, batch):
        with transaction.atomic():
            for authenticator in Authenticator.objects.filter(pk__in=pks).select_for_update().order_by("pk"):
                key = MFA_KEYS[authenticator.type]
                where = f"mfa.Authenticator pk={authenticator.pk} {key}"
                new = _rotate(
                    authenticator.data.get(key, ""), lambda t: adapter.encrypt(adapter.decrypt(t)), tally, where
                )
                if new is not None and not dry_run:
                    Authenticator.objects.filter(pk=authenticator.pk).update(data={**authenticator.data, key: new})
    return tally


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with the first key of FERNET_KEYS."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="decrypt and re-encrypt in memory, write nothing")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, dry_run: bool, batch_size: int, **options):
        results = {
            model._meta.label: rotate_model(model, fields, batch=batch_size, dry_run=dry_run)
            for model, fields in encrypted_fields()
        }
        mfa = rotate_mfa(batch=batch_size, dry_run=dry_run)
        if mfa is not None:
            results["mfa.Authenticator"] = mfa
        verb = "would rotate" if dry_run else "rotated"
        for label, tally in results.items():
            self.stdout.write(f"{label}: {verb} {tally.rotated}, empty {tally.empty}, failures {len(tally.failures)}")
        failures = [where for tally in results.values() for where in tally.failures]
        for where in failures:
            self.stderr.write(f"cannot decrypt with any key of FERNET_KEYS: {where}")
        if failures:
            raise CommandError(f"{len(failures)} value(s) could not be decrypted; they were left unchanged.")
        self.stdout.write(f"0 failures{' (dry run: nothing written)' if dry_run else ''}.")
