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
"""JSON documents of the API, built from database rows.

The field names of ``vmexpire`` are those of the original service
(``expire`` in Unix seconds, ``notified``, ``notified_last``, ``created``,
``updated``) plus the fields that say exactly what will happen when.
"""

import datetime
import typing

from osvmexpire import expiration
from osvmexpire.db import models

iso = expiration.iso


_EPOCH = datetime.datetime(1970, 1, 1)
_SECOND = datetime.timedelta(seconds=1)


def unix(value: datetime.datetime) -> int:
    """Unix seconds (whole, like ``calendar.timegm``)."""
    return (expiration.utc(value) - _EPOCH) // _SECOND


def is_excluded(row: models.VmExpire, excluded: dict[str, set[str]]) -> bool:
    return bool((row.domain_id and row.domain_id in excluded['domain'])
                or row.project_id in excluded['project']
                or (row.user_id and row.user_id in excluded['user']))


def vmexpire(row: models.VmExpire, base_url: str, now: datetime.datetime,
             settings: expiration.Settings,
             excluded: bool | dict[str, set[str]]) -> dict:
    """``excluded``: the answer, or all exclusions to check the row in.

    Each column is read once: on the API's plain rows an attribute read
    costs as much as formatting a date, and a page has a hundred rows.
    """
    if not isinstance(excluded, bool):
        excluded = is_excluded(row, excluded)
    times = _Times(row.created_at, row.expire_at, row.notified_at,
                   row.notified_last_at)
    step = expiration.next_step(times, settings)
    row_id, project_id = row.id, row.project_id
    return {
        'id': row_id,
        'instance_id': row.instance_id,
        'instance_name': row.instance_name or '',
        'project_id': project_id,
        'user_id': row.user_id,
        'expire': unix(times.expire_at),
        'notified': times.notified_at is not None,
        'notified_last': times.notified_last_at is not None,
        'created': iso(times.created_at),
        'updated': iso(row.updated_at or times.created_at),
        'expire_at': iso(times.expire_at),
        'delete_after': iso(expiration.deletion_time(times, now, settings)),
        'max_expire_at': iso(expiration.expiry_cap(times.created_at,
                                                   settings)),
        'extensions': row.extensions or 0,
        'notified_at': iso(times.notified_at),
        'notified_last_at': iso(times.notified_last_at),
        'next_action': {'action': step.action.value, 'at': iso(step.at)},
        'excluded': bool(excluded),
        'links': [{'rel': 'self', 'href': '%s/v1/%s/vmexpires/%s'
                   % (base_url, project_id, row_id)}],
    }


class _Times(typing.NamedTuple):
    """The dates the expiry rules read (:class:`expiration.Record`)."""

    created_at: datetime.datetime
    expire_at: datetime.datetime
    notified_at: datetime.datetime | None
    notified_last_at: datetime.datetime | None


def event(row: models.VmExpireEvent) -> dict:
    return {
        'id': row.id,
        'event': row.event,
        'actor': row.actor,
        'created': iso(row.created_at),
        'instance_id': row.instance_id,
        'detail': row.detail or {},
    }


def vmexclude(row: models.VmExclude) -> dict:
    return {
        'id': row.id,
        'exclude_id': row.exclude_id,
        'exclude_type': row.exclude_type,
        'created': iso(row.created_at),
    }
