"""Errors every shop adapter raises (same taxonomy as the Odoo gateway)."""

from engagements.integration.gateway.base import GatewayError


class ShopError(GatewayError):
    code = "shop_error"


class ShopRetryableError(ShopError):
    """The shop was busy, rate-limited or unreachable: try again later."""

    code = "shop_busy"


class ShopPermanentError(ShopError):
    """The shop refused the request itself: retrying changes nothing."""

    code = "shop_rejected"


class ShopAuthError(ShopPermanentError):
    """The keys were revoked or are wrong: pause the flow, mark the connection unhealthy."""

    code = "shop_auth"
