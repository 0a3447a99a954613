"""Demo people for `manage.py seed_demo`: idempotent, fixed logins.

Every app may have a `demo.py` with `seed(out) -> list[str]`; seed_demo calls
them in INSTALLED_APPS order, so later apps build on the people made here.
"""

from typing import TextIO

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP

from portal.models import ClientCompany, Membership, Role, User

DEMO_PASSWORD = "Portal.Demo-2026"
DEMO_DOMAIN = "demo.test"
# Well-known base32 secrets so the demo staff and consultant can add them to an
# authenticator app (or read the current code with `manage.py demo_totp`).
DEMO_TOTP_SECRETS = {
    f"staff@{DEMO_DOMAIN}": "JBSWY3DPEHPK3PXP",
    f"consultor@{DEMO_DOMAIN}": "KRSXG5CTMVRXEZLU",
}

INTERNAL = [
    (f"staff@{DEMO_DOMAIN}", "Sofía Staff", Role.STAFF),
    (f"consultor@{DEMO_DOMAIN}", "Carlos Consultor", Role.CONSULTANT),
]
COMPANIES = [
    # legal name, RUT, address, billing email, users
    (
        "Tienda Andina SpA",
        "76.543.210-3",
        "Av. Providencia 1234, Santiago",
        "pagos@andina.demo.test",
        [("ana@andina.demo.test", "Ana Andina"), ("bruno@andina.demo.test", "Bruno Andina")],
    ),
    (
        "Café Austral Ltda.",
        "77.123.456-9",
        "Calle Prat 55, Valparaíso",
        "facturas@austral.demo.test",
        [("camila@austral.demo.test", "Camila Austral")],
    ),
    (
        "Librería del Sur S.A.",
        "96.555.444-0",
        "Av. Alemania 890, Temuco",
        "admin@delsur.demo.test",
        [("diego@delsur.demo.test", "Diego del Sur")],
    ),
]


def _user(email: str, full_name: str, role: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, full_name=full_name, role=role)
    EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


def _totp(user: User) -> None:
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, DEMO_TOTP_SECRETS[user.email])


def seed(out: TextIO) -> list[str]:
    logins: list[str] = []
    for email, name, role in INTERNAL:
        user = _user(email, name, role)
        _totp(user)
        logins.append(f"{role:<10} {email:<28} {DEMO_PASSWORD}   TOTP secret {DEMO_TOTP_SECRETS[email]}")
    for legal_name, rut, address, billing_email, people in COMPANIES:
        compact = rut.replace(".", "").replace("-", "")
        company, _ = ClientCompany.objects.get_or_create(
            rut=compact, defaults={"legal_name": legal_name, "address": address, "billing_email": billing_email}
        )
        for email, name in people:
            user = _user(email, name, Role.CLIENT)
            Membership.objects.get_or_create(user=user, defaults={"company": company})
            logins.append(f"{'client':<10} {email:<28} {DEMO_PASSWORD}   ({legal_name})")
    return logins
