"""Shared steps of the browser tests."""

from tests.conftest import PASSWORD, totp_code


def sign_in(page, base: str, email: str, password: str = PASSWORD, *, totp: bool = False) -> None:
    """Sign in through the login page; staff and consultants answer the TOTP step."""
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", password)
    page.click("main form button[type=submit]")
    if totp:
        page.wait_for_url(f"{base}/accounts/2fa/authenticate/")
        page.fill("#id_code", totp_code())
        page.click("main form button[type=submit]")
    page.wait_for_load_state()
