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
"""Presentation helpers shared by the project and admin panels.

Dates are shown in UTC, as the API and the warning mails show them, with
a relative hint ("in 12 days") so users need not compute.
"""

import datetime

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from osvmexpire_dashboard.api import client

DATE_FORMAT = '%Y-%m-%d %H:%M UTC'
# Must match the API's [DEFAULT] max_vm_extend; the API has the last word.
DEFAULT_MAX_EXTEND_DAYS = 30


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def max_extend_days() -> int:
    return int(getattr(settings, 'VMEXPIRE_MAX_EXTEND_DAYS',
                       DEFAULT_MAX_EXTEND_DAYS))


def format_date(when: datetime.datetime | None) -> str:
    return when.strftime(DATE_FORMAT) if when else '-'


def relative_days(when: datetime.datetime,
                  now: datetime.datetime | None = None) -> str:
    """'in 3 days', 'in 5 hours', '2 days ago' (rounded down)."""
    now = now or utcnow()
    seconds = (when - now).total_seconds()
    days = int(abs(seconds) // 86400)
    if days == 0:
        hours = int(abs(seconds) // 3600)
        text = ngettext('%(n)d hour', '%(n)d hours', hours) % {'n': hours}
        if seconds < 0:
            return str(_('%s ago') % text)
        return str(_('in %s') % text)
    text = ngettext('%(n)d day', '%(n)d days', days) % {'n': days}
    if seconds > 0:
        return str(_('in %s') % text)
    return str(_('%s ago') % text)


def expires_text(record, now: datetime.datetime | None = None) -> str:
    when = record.expire_at_dt
    if when is None:
        return '-'
    return '%s (%s)' % (format_date(when), relative_days(when, now))


def next_step_text(record) -> str:
    """Where the record is in its life: warnings sent, deletion after..."""
    if record.get('excluded'):
        return str(_('Excluded: never deleted'))
    step = record.get('next_action') or {}
    action = step.get('action')
    at = format_date(client.parse_time(step.get('at')))
    if action == 'first_warning':
        return str(_('First warning on %s') % at)
    if action == 'last_warning':
        return str(_('Warning sent; last warning on %s') % at)
    if action == 'delete':
        return str(_('Warnings sent; deletion after %s') % at)
    return '-'


def cap_text(record, now: datetime.datetime | None = None) -> str:
    """How much later the expiry may still move (up to the hard cap)."""
    cap = record.max_expire_at_dt
    if cap is None:
        return '-'
    start = record.expire_at_dt or now or utcnow()
    if cap <= start:
        return str(_('Cap reached (%s)') % format_date(cap))
    days = int((cap - start).total_seconds() // 86400)
    return ngettext('%(n)d more day possible (cap %(cap)s)',
                    '%(n)d more days possible (cap %(cap)s)', days) % {
                        'n': days, 'cap': format_date(cap)}


def default_extend_days(record, now: datetime.datetime | None = None) -> int:
    """The maximum useful extension: the configured max, capped."""
    days = max_extend_days()
    cap = record.max_expire_at_dt
    if cap is not None:
        now = now or utcnow()
        to_cap = int(-(-(cap - now).total_seconds() // 86400))
        days = max(1, min(days, to_cap))
    return days


def extended_expiry(record, days: int,
                    now: datetime.datetime | None = None
                    ) -> datetime.datetime:
    """The expiry the API will set: now + days, clamped to the cap."""
    now = now or utcnow()
    new = now + datetime.timedelta(days=days)
    cap = record.max_expire_at_dt
    if cap is not None and new > cap:
        new = cap
    return new

