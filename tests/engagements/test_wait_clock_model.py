"""R1 and reactivation against a simple model (hypothesis).

The model knows nothing of datetimes or time zones: it counts midnights. Each
day it adds one to the "quiet days" of the latest formal request while that
request is open; sending a request or reactivating the engagement sets the count
back to 0; R1 fires at a morning sweep once the count is over 60; answering the
request the wait is about, or staff, reactivate.

The rules (engagements.rules: r1_clock, r1_days, r1_applies, answer_reactivates)
are driven with real aware datetimes in America/Santiago over a year that
crosses both daylight-saving changes, with events at random times of day
before and after the sweep, the way the services and the sweep call them.
Both must agree every day.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from engagements import rules

SCL = ZoneInfo("America/Santiago")
WAIT = rules.WaitRules()
FIRST_DAY = date(2026, 2, 1)  # the year after crosses 5 April and 6 September 2026
DAYS = 320
SWEEP = time(8)  # the daily schedule's time

KINDS = ("send", "answer_latest", "answer_hold", "answer_oldest_open", "staff_reactivate")
events = st.lists(
    st.tuples(st.integers(0, DAYS - 1), st.sampled_from(KINDS), st.integers(0, 23), st.integers(0, 59)),
    max_size=25,
)


@dataclass
class Model:
    """Midnight counting only."""

    waiting: bool = False
    open: dict[int, bool] = field(default_factory=dict)  # request id -> still open
    latest: int | None = None
    quiet: int = 0
    hold: int | None = None

    def midnight(self) -> None:
        if self.latest is not None and self.open[self.latest]:
            self.quiet += 1

    def send(self, request: int) -> None:
        self.open[request], self.latest, self.quiet = True, request, 0

    def answer(self, request: int) -> None:
        self.open[request] = False
        if self.waiting and request == self.hold:
            self.reactivate()

    def reactivate(self) -> None:
        if self.waiting:
            self.waiting, self.hold, self.quiet = False, None, 0

    def sweep(self) -> None:
        if (
            not self.waiting
            and self.latest is not None
            and self.open[self.latest]
            and self.quiet > WAIT.wait_after_days
        ):
            self.waiting, self.hold = True, self.latest


@dataclass
class Engagement:
    """Stored dates and the rules, as the services and the sweep use them."""

    waiting: bool = False
    sent: dict[int, datetime] = field(default_factory=dict)
    answered: set[int] = field(default_factory=set)
    reactivated_at: datetime | None = None
    hold: int | None = None

    def latest(self) -> int | None:
        return max(self.sent, key=lambda r: (self.sent[r], r), default=None)

    def send(self, request: int, now: datetime) -> None:
        self.sent[request] = now

    def answer(self, request: int, now: datetime) -> None:
        self.answered.add(request)
        status = rules.WAITING if self.waiting else rules.ACTIVE
        if rules.answer_reactivates(
            status=status, held_manually=False, hold_request=self.hold, answered_request=request
        ):
            self.reactivate(now)

    def reactivate(self, now: datetime) -> None:
        if self.waiting:
            self.waiting, self.hold, self.reactivated_at = False, None, now

    def sweep(self, now: datetime) -> None:
        latest = self.latest()
        if self.waiting or latest is None:
            return
        clock = rules.r1_clock(self.sent[latest], latest in self.answered, self.reactivated_at)
        if rules.r1_applies(rules.r1_days(clock, now, SCL), WAIT):
            self.waiting, self.hold = True, latest


def _target(kind: str, model: Model) -> int | None:
    open_ids = [r for r, is_open in model.open.items() if is_open]
    if kind == "answer_latest":
        return model.latest if model.latest is not None and model.open[model.latest] else None
    if kind == "answer_hold":
        return model.hold
    return min(open_ids, default=None)  # answer_oldest_open


def _apply(kind: str, model: Model, real: Engagement, now: datetime, next_id: list[int]) -> None:
    if kind == "send":
        next_id[0] += 1
        model.send(next_id[0])
        real.send(next_id[0], now)
    elif kind == "staff_reactivate":
        model.reactivate()
        real.reactivate(now)
    else:
        request = _target(kind, model)
        if request is not None:
            model.answer(request)
            real.answer(request, now)


@settings(max_examples=300, deadline=None)
@given(events)
def test_r1_and_reactivation_follow_the_midnight_counting_model(plan):
    model, real, next_id = Model(), Engagement(), [0]
    by_day: dict[int, list] = {}
    for day, kind, hour, minute in sorted(plan):
        by_day.setdefault(day, []).append((time(hour, minute), kind))
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        if offset:
            model.midnight()
        todays = by_day.get(offset, [])
        for moment, kind in [e for e in todays if e[0] < SWEEP]:
            _apply(kind, model, real, datetime.combine(day, moment, tzinfo=SCL), next_id)
        model.sweep()
        real.sweep(datetime.combine(day, SWEEP, tzinfo=SCL))
        assert (real.waiting, real.hold) == (model.waiting, model.hold), day
        for moment, kind in [e for e in todays if e[0] >= SWEEP]:
            _apply(kind, model, real, datetime.combine(day, moment, tzinfo=SCL), next_id)
        assert (real.waiting, real.hold) == (model.waiting, model.hold), day


def test_the_model_itself_fires_on_day_61_and_a_reactivation_restarts_it():
    """A fixed story through both, so the property above is known to exercise R1 at all."""
    model, real, next_id = Model(), Engagement(), [0]
    _apply("send", model, real, datetime.combine(FIRST_DAY, time(10), tzinfo=SCL), next_id)
    holds, was_waiting = [], False
    for offset in range(1, 200):
        day = FIRST_DAY + timedelta(days=offset)
        model.midnight()
        if offset == 70:  # staff reactivate on day 70 before the sweep, the request still open
            _apply("staff_reactivate", model, real, datetime.combine(day, time(7), tzinfo=SCL), next_id)
        model.sweep()
        real.sweep(datetime.combine(day, SWEEP, tzinfo=SCL))
        assert real.waiting == model.waiting
        if model.waiting and not was_waiting:
            holds.append(offset)
        was_waiting = model.waiting
    assert holds == [61, 131]  # 61 days after sending, then 61 days after the reactivation
