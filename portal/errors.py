"""Domain errors: a service refuses with a message the user can read."""

from django.utils.functional import Promise


class DomainError(Exception):
    """Raised by services; views show `message` (already translated, lazily)."""

    def __init__(self, message: str | Promise, *, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
