# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.
"""The expiry rules, as pure functions of a record, the settings and time.

Nothing here does I/O or reads the clock: callers pass ``now``. The
worker, the API and the cleaner only apply what these functions decide,
so every safety rule of the design can be tested with a fixed clock.

All datetimes are naive UTC (what the database stores); aware datetimes
are converted with :func:`utc`.

The lifecycle of one expiry date (``expire_at``)::

    first warning  at expire_at - notify_before            (or later)
    last warning   at D - notify_before_last, after the first
    deletion       at max(D, last warning + notify_before_last)
    where D = max(expire_at, first warning + notify_before)

so a warning that goes out late (service down, mail refused) moves the
deletion later and the owner always gets the full notice. Any change of
``expire_at`` clears both warnings and the cycle starts again.
"""

import dataclasses
import datetime
import enum
from typing import Protocol

DAY = datetime.timedelta(days=1)


def utc(value: datetime.datetime) -> datetime.datetime:
    """``value`` as a naive UTC datetime (naive input is taken as UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value


def iso(value: datetime.datetime | None) -> str | None:
    """ISO 8601 in UTC with Z, to the second, or None (API, CLI, audit)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = utc(value)
    if value.microsecond:
        return value.isoformat(timespec='seconds') + 'Z'
    return value.isoformat() + 'Z'  # same text, half the cost


@dataclasses.dataclass(frozen=True)
class Settings:
    """The durations the rules depend on (see ``osvmexpire.conf``)."""

    max_vm_duration: datetime.timedelta = 60 * DAY
    max_vm_extend: datetime.timedelta = 30 * DAY
    max_vm_total_duration: datetime.timedelta = 365 * DAY
    notify_before: datetime.timedelta = 10 * DAY
    notify_before_last: datetime.timedelta = 2 * DAY

    @classmethod
    def from_conf(cls, conf) -> 'Settings':
        return cls(
            max_vm_duration=conf.max_vm_duration * DAY,
            max_vm_extend=conf.max_vm_extend * DAY,
            max_vm_total_duration=conf.max_vm_total_duration * DAY,
            notify_before=conf.cleaner.notify_before_days * DAY,
            notify_before_last=conf.cleaner.notify_before_days_last * DAY)


class Record(Protocol):
    """What the rules read from a ``vmexpire`` row."""

    created_at: datetime.datetime
    expire_at: datetime.datetime
    notified_at: datetime.datetime | None
    notified_last_at: datetime.datetime | None


class Action(enum.StrEnum):
    FIRST_WARNING = 'first_warning'
    LAST_WARNING = 'last_warning'
    DELETE = 'delete'


@dataclasses.dataclass(frozen=True)
class Step:
    """The next thing to do for a record, and the earliest time for it."""

    action: Action
    at: datetime.datetime

    def is_due(self, now: datetime.datetime) -> bool:
        return utc(now) >= self.at


class ExtensionRefused(Exception):
    """The extension would not move the expiry later (HTTP 409)."""


class InvalidExtension(ValueError):
    """The requested number of days is out of range (HTTP 400)."""


def expiry_cap(created_at: datetime.datetime,
               settings: Settings) -> datetime.datetime:
    """Latest expiry any extension may reach."""
    return utc(created_at) + settings.max_vm_total_duration


def initial_expiry(created_at: datetime.datetime,
                   settings: Settings,
                   min_life: datetime.timedelta | None = None,
                   now: datetime.datetime | None = None
                   ) -> datetime.datetime:
    """Expiry of a newly tracked server.

    ``created_at + max_vm_duration``, within the cap. Reconciliation and
    admins start tracking servers that may be old: they pass ``now`` and
    ``min_life`` so the server gets at least that much life from now (it
    may then pass the cap: the owner never learnt of it before).
    """
    created_at = utc(created_at)
    expire_at = min(created_at + settings.max_vm_duration,
                    expiry_cap(created_at, settings))
    if now is not None:
        floor = utc(now) + (settings.max_vm_duration if min_life is None
                            else min_life)
        expire_at = max(expire_at, floor)
    return expire_at


def extended_expiry(created_at: datetime.datetime,
                    expire_at: datetime.datetime,
                    now: datetime.datetime,
                    settings: Settings,
                    days: int | None = None,
                    force: bool = False) -> datetime.datetime:
    """New expiry after an extension of ``days`` (default: the maximum).

    The result is ``now + days`` clamped to the cap. The extension is
    refused only when it would not move the date later. ``force`` (admins,
    through osvmexpire-manage) lifts the cap and the day limit.
    """
    max_days = settings.max_vm_extend // DAY
    if days is None:
        days = max_days
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise InvalidExtension('days must be a whole number of at least 1')
    if days > max_days and not force:
        raise InvalidExtension(
            'days must be between 1 and %d (max_vm_extend)' % max_days)
    expire_at = utc(expire_at)
    new = utc(now) + days * DAY
    cap = expiry_cap(created_at, settings)
    if not force:
        new = min(new, cap)
    if new <= expire_at:
        if not force and expire_at >= cap:
            raise ExtensionRefused(
                'The expiry %sZ is already at the cap: servers may not live '
                'past %d days after their creation.'
                % (cap.isoformat(timespec='seconds'),
                   settings.max_vm_total_duration // DAY))
        raise ExtensionRefused(
            'The server already expires on %sZ, later than the requested '
            'extension of %d days.'
            % (expire_at.isoformat(timespec='seconds'), days))
    return new


def _deadline(record: Record, first: datetime.datetime,
              settings: Settings) -> datetime.datetime:
    """The expiry pushed back so the owner has the full first notice."""
    return max(utc(record.expire_at), first + settings.notify_before)


def next_step(record: Record, settings: Settings) -> Step:
    """What comes next for ``record`` and the earliest time for it.

    Depends only on the record, not on the clock, so it can be stored
    (indexed ``next_action_at``) and the cleaner selects due rows with a
    plain range query.
    """
    expire_at = utc(record.expire_at)
    if record.notified_at is None:
        return Step(Action.FIRST_WARNING,
                    expire_at - settings.notify_before)
    first = utc(record.notified_at)
    deadline = _deadline(record, first, settings)
    if record.notified_last_at is None:
        return Step(Action.LAST_WARNING,
                    max(first, deadline - settings.notify_before_last))
    last = utc(record.notified_last_at)
    return Step(Action.DELETE,
                max(deadline, last + settings.notify_before_last))


def due_step(record: Record, now: datetime.datetime,
             settings: Settings) -> Step | None:
    """The step to take at ``now``, or None if nothing is due yet."""
    step = next_step(record, settings)
    return step if step.is_due(now) else None


def may_delete(record: Record, now: datetime.datetime,
               settings: Settings) -> bool:
    """Safety rule 1 as one predicate: deletion is allowed at ``now``."""
    now = utc(now)
    if record.notified_at is None or record.notified_last_at is None:
        return False
    first, last = utc(record.notified_at), utc(record.notified_last_at)
    return (now >= utc(record.expire_at)
            and last >= first
            and now >= first + settings.notify_before
            and now >= last + settings.notify_before_last)


def deletion_time(record: Record, now: datetime.datetime,
                  settings: Settings) -> datetime.datetime:
    """Earliest time the server can be deleted, as seen at ``now``.

    Warnings not yet sent are assumed to go out as soon as they are due
    (never before ``now``), so this is what the API shows as
    ``delete_after``: it only moves later, never earlier.
    """
    now = utc(now)
    expire_at = utc(record.expire_at)
    if record.notified_at is not None:
        first = utc(record.notified_at)
    else:
        first = max(now, expire_at - settings.notify_before)
    deadline = _deadline(record, first, settings)
    if record.notified_last_at is not None:
        last = utc(record.notified_last_at)
    else:
        last = max(now, first, deadline - settings.notify_before_last)
    return max(deadline, last + settings.notify_before_last)
