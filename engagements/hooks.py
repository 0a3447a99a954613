"""Lifecycle hook points that other apps subscribe to.

`engagements` never imports `billing` or `integration`. Where the lifecycle
must cause money (scope confirmed → 40% invoice), billing registers a
callable here from its AppConfig.ready(). Hooks run inside the transaction of
the transition, so a failing subscriber rolls the transition back.

To find every subscriber, search for the hook's name (e.g. PHASE_COMPLETED).
"""

from portal.hooks import HookRegistry

SCOPE_CONFIRMED = "scope_confirmed"  # kwargs: engagement, actor
PHASE_COMPLETED = "phase_completed"  # kwargs: engagement, phase, actor
CLOSED = "closed"  # kwargs: engagement, actor
ADMIN_CLOSED = "admin_closed"  # kwargs: engagement, actor, reason
HOOKS = (SCOPE_CONFIRMED, PHASE_COMPLETED, CLOSED, ADMIN_CLOSED)

_hooks = HookRegistry(*HOOKS)
register, unregister, run = _hooks.register, _hooks.unregister, _hooks.run
