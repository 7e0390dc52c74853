"""Whether the next submit holds: sync mode (one request, the result in its answer) or async mode (the
id at once, the result from a status read later). Pure: told when each held submit started and what
it took, on the planner's clock.

A held submit costs one request and keeps its slot (one of ``concurrency``) for the task's whole run;
an async one costs two requests (the submit and at least one read) and frees the slot at once. So
holding pays only for tasks that end about as fast as a request goes and comes back: a batch of
quick tasks then needs half the requests (and half the client's CPU). Long tasks would each keep a
slot for their whole run, and a first Ctrl-C would wait for them: those are submitted in async mode.

``"auto"`` learns which from the tasks themselves. It keeps the latest :data:`WINDOW` durations of
held submits (``h``; one whose hold expired with only an id counts as endless) and of plain requests,
async submits and status reads (``r``); both include the service's queueing, so the choice follows
its load. With ``C`` slots and a rate limit of ``R`` requests/s, holding completes up to
``C / mean(h)`` tasks a second and async mode up to ``min(R / 2, C / 2r)`` (two requests a task): so
it holds while the *mean* ``h`` (a few slow tasks among quick ones weigh as they cost: their slots)
is at most ``max(2 median(r), 2C / R, QUICK)``. Held submits still in flight and already older than
that count at their age, so slow tasks turn holding off before they end. Near that bound the two
modes complete about as many tasks a second, so a mode is kept until the other is clearly better:
holding stops only when the mean is over :data:`KEEP` times the bound (switching at every blip
would cost the reads of async mode and gain nothing). The bound leaves out what the service itself
can do: when it is the limit (its own queue makes holds slow), async mode completes no more tasks a
second, with twice the requests. So when holding stops, async mode is on trial: unless it completes
the next :data:`TRIAL` tasks :data:`BETTER` times as fast as holding at that mean would (``C / mean(h)``),
holds as slow are proven as good and holding resumes. The other way round, a probe in async mode
waits behind the batch's own executions queued at the service, so it looks slow however quick the
tasks are, and probes alone could keep async mode on: so once async mode has seen
:data:`HOLD_TRIAL_AFTER` tasks end (the batch's start included), holding is on trial: every submit
holds until :data:`TRIAL` held ones have ended after the first; if they ended at least 1 / BETTER as
fast as async mode's latest TRIAL, holds as slow are proven as good and holding stays on, else async
mode resumes, and the next hold trial waits twice as many ends. Only while the probes' median hold
is at most :data:`HOLD_TRIAL_MAX`: slower tasks would keep every slot that long. :data:`QUICK` is the floor
where nothing is known yet, and where the client's own CPU, not a slot, is what runs out first: a
second request costs more of it than 50 ms of a waiting slot. Otherwise it submits in async mode with
held submits (probes): one at a time for the first :data:`LEARN`; then, while the median held
submit is quick (a blip, not slow tasks, turned holding off), back to back and up to a quarter of
``concurrency`` at once, so that quick probes soon push the blip out of the window; else one every
:data:`PROBE_EVERY` submits, so a batch whose tasks become quick finds out.
"""

from __future__ import annotations

import collections
import math
import statistics
from typing import Literal

from .. import ValidationError

__all__ = [
    "BETTER",
    "HOLD_TRIAL_AFTER",
    "HOLD_TRIAL_MAX",
    "KEEP",
    "LEARN",
    "PROBE_EVERY",
    "QUICK",
    "TRIAL",
    "WINDOW",
    "HoldChoice",
    "check_hold",
]

#: A held submit answered within this many seconds is always worth it (see the module docstring).
QUICK = 0.05
#: How many of the latest held submits (and plain requests) decide.
WINDOW = 16
#: In async mode, one held submit (a probe) per this many submits...
PROBE_EVERY = 64
#: ...once this many held ones are known; until then, a probe whenever none is in flight.
LEARN = 8
#: Holding, once on, stays on until the mean hold is over this many times the bound.
KEEP = 1.5
#: When holding stops, async mode has this many task completions to show that it is quicker...
TRIAL = 64
#: ...by this factor over holding's rate; else holds as slow are proven as good, and resume.
BETTER = 1.25
#: In async mode, holding is on trial once this many tasks ended since async mode began (or since
#: the last hold trial failed: then twice as many as the time before)...
HOLD_TRIAL_AFTER = 4 * TRIAL
#: ...while the probes' median hold is at most this many seconds.
HOLD_TRIAL_MAX = 1.0

Hold = bool | Literal["auto"]


def check_hold(value: object) -> Hold:
    """``hold=`` of a batch: ``True``, ``False`` or ``"auto"``."""
    if value is True or value is False or value == "auto":
        return value
    raise ValidationError("hold", f"must be True, False or 'auto', not {value!r}")


class HoldChoice:
    """See the module docstring. :meth:`next` says whether the next submit (starting at ``now``)
    holds; :meth:`ended` is told how each held one went, with the start :meth:`next` was given."""

    def __init__(self, hold: Hold = "auto", *, concurrency: int = 16, rate: float | None = None) -> None:
        self._fixed = None if hold == "auto" else bool(hold)
        self._floor = max(QUICK, 2 * concurrency / rate) if rate else QUICK
        self._times: collections.deque[float] = collections.deque(maxlen=WINDOW)  # h
        self._plain: collections.deque[float] = collections.deque(maxlen=WINDOW)  # r
        self._out: list[float] = []  # when each held submit in flight started
        self._since_probe = 0
        self._probes: list[float] = []  # when each probe (a held submit in async mode) in flight started
        self._on = False  # whether the last look said "hold"
        self._concurrency = concurrency
        self._trial: tuple[float, float, float] | None = None  # async mode's: since, to beat, mean h
        self._trial_done = 0
        self._proven = 0.0  # a mean hold shown to complete as many tasks a second as async mode
        self._first_probe: float | None = None  # when the batch's first probe went, until it answers
        self._async_ends: collections.deque[float] = collections.deque(maxlen=TRIAL)  # in async mode
        self._ends_since = 0  # tasks ended in async mode since it began or the last hold trial
        self._hold_after = HOLD_TRIAL_AFTER
        self._hold_trial: _HoldTrial | None = None

    def __repr__(self) -> str:
        mode = "auto" if self._fixed is None else self._fixed
        return f"HoldChoice({mode!r}, floor={self._floor:g}, held={len(self._times)}, out={len(self._out)})"

    def holding(self, now: float) -> bool:
        """Whether submits hold at ``now`` (a probe aside)."""
        if self._fixed is not None:
            return self._fixed
        if self._hold_trial is not None:
            if not self._hold_trial.failed(now):
                return True
            self._end_hold_trial(proven=False)
        if not self._times:
            return False
        worth = self._worth()
        bound = worth * KEEP if self._on else worth
        late = [now - start for start in self._out if now - start > bound]
        mean = statistics.fmean([*self._times, *late])
        on = mean <= bound
        if self._on and not on and self._trial is None:
            # Holding's rate at these holds, all slots busy (Little's law); async mode's counts
            # once the holds still out have had their time to end.
            self._trial, self._trial_done = (now + mean, self._concurrency / mean, mean), 0
        if not on and self._trial is None and self._hold_trial_due():
            ends = self._async_ends
            rate = (len(ends) - 1) / max(ends[-1] - ends[0], 1e-9)
            self._hold_trial = _HoldTrial(now, rate / BETTER, 2 * statistics.median(self._times))
            return True
        self._on = on
        return on

    def _hold_trial_due(self) -> bool:
        return (
            len(self._async_ends) == TRIAL
            and self._ends_since >= self._hold_after
            and statistics.median(self._times) <= HOLD_TRIAL_MAX
        )

    def _end_hold_trial(self, *, proven: bool) -> None:
        self._hold_trial, self._ends_since = None, 0
        if proven:  # holds as slow as the latest complete as many tasks a second as async mode
            self._proven = max(self._proven, statistics.fmean(self._times))
            self._hold_after, self._on = HOLD_TRIAL_AFTER, True
        else:
            self._hold_after *= 2

    def _worth(self) -> float:
        """The longest mean hold worth its slot (see the module docstring)."""
        floor = max(self._floor, self._proven)
        return max(2 * statistics.median(self._plain), floor) if self._plain else floor

    def finished(self, now: float) -> None:
        """A task of the batch ended (its result known, from a hold or a status read) at ``now``."""
        if not self._on and self._hold_trial is None:
            self._async_ends.append(now)
            self._ends_since += 1
        if self._trial is None:
            return
        since, to_beat, mean = self._trial
        if now < since:
            return
        if self._trial_done == 0:
            self._trial = (now, to_beat, mean)  # async mode's rate counts from its first end
        self._trial_done += 1
        if self._trial_done <= TRIAL:
            return
        rate = TRIAL / max(now - self._trial[0], 1e-9)
        if rate < to_beat * BETTER:  # no quicker: the service, not the slots, is the limit
            self._proven = max(self._proven, mean)
        self._trial = None

    def wait_until(self, now: float) -> float | None:
        """Until when the next submit should wait, or ``None``: only while the batch's first probe is
        out and younger than a hold worth making. A quick first answer then makes every submit held,
        where an async rush behind it would have sent them all the long way; a slow one releases
        them once it has been out that long."""
        if self._first_probe is None:
            return None
        until = self._first_probe + self._worth()
        return until if until > now else None

    def next(self, now: float) -> bool:
        """Whether the submit starting at ``now`` holds; in async mode it counts toward the next probe."""
        hold = self._decide(now)
        if hold:
            self._out.append(now)
        return hold

    def _decide(self, now: float) -> bool:
        if self.holding(now):
            return True
        if self._fixed is False:
            return False
        self._since_probe += 1
        # Back to back until a few held ones are known, and while the typical one is quick: then a
        # blip (one stalled hold among quick ones) turned holding off, and quick probes soon push
        # it out of the window, where one probe every PROBE_EVERY would keep it there for long.
        if len(self._times) < LEARN:
            most = 1  # one at a time: too little is known to spend more slots on probes
        elif statistics.median(self._times) <= self._worth():
            most = max(1, self._concurrency // 4)
        else:
            most = 1 if self._since_probe >= PROBE_EVERY else 0
        if len(self._probes) >= most:
            return False
        if not self._times and not self._out:  # the very first probe of the batch
            self._first_probe = now
        self._since_probe = 0
        self._probes.append(now)
        return True

    def ended(self, started: float, seconds: float | None, at: float | None = None) -> None:
        """The held submit that started at ``started`` ended (at ``at``, if known): with its result
        after ``seconds``; ``math.inf`` when the hold expired with only an id (slow); ``None`` when
        it failed (no news of the task's speed)."""
        trial = self._hold_trial
        if trial is not None and seconds is not None and started >= trial.since:
            done = trial.ended(math.inf if math.isinf(seconds) else started + seconds if at is None else at)
            if done is not None:
                self._end_hold_trial(proven=done)
        if started in self._out:
            self._out.remove(started)
        if started in self._probes:
            self._probes.remove(started)
        self._first_probe = None
        if seconds is not None:
            self._times.append(seconds)

    def plain(self, seconds: float) -> None:
        """An async submit or a status read answered after ``seconds``."""
        self._plain.append(seconds)


class _HoldTrial:
    """Holding on trial from async mode (see the module docstring): it must see ``TRIAL`` held
    submits end after the first, at ``to_beat`` a second or more; the first may take ``first``
    seconds (it waits behind the executions async mode left at the service)."""

    __slots__ = ("count", "deadline", "since", "to_beat")

    def __init__(self, since: float, to_beat: float, first: float) -> None:
        self.since, self.to_beat = since, to_beat
        self.deadline = since + first  # for the first end, then for the TRIAL-th after it
        self.count = -1  # ends after the first

    def failed(self, now: float) -> bool:
        return now > self.deadline

    def ended(self, at: float) -> bool | None:
        """A held submit of the trial ended at ``at``: whether holding is proven, or ``None`` (not
        known yet). A hold that expired (``at`` infinite) fails it."""
        if at > self.deadline:
            return False
        self.count += 1
        if self.count == 0:
            self.deadline = at + TRIAL / self.to_beat
        return True if self.count >= TRIAL else None
