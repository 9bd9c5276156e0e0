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
    """``excluded``: the answer, or all exclusions to check the row in."""
    if not isinstance(excluded, bool):
        excluded = is_excluded(row, excluded)
    step = expiration.next_step(row, settings)
    return {
        'id': row.id,
        'instance_id': row.instance_id,
        'instance_name': row.instance_name or '',
        'project_id': row.project_id,
        'user_id': row.user_id,
        'expire': unix(row.expire_at),
        'notified': row.notified_at is not None,
        'notified_last': row.notified_last_at is not None,
        'created': iso(row.created_at),
        'updated': iso(row.updated_at or row.created_at),
        'expire_at': iso(row.expire_at),
        'delete_after': iso(expiration.deletion_time(row, now, settings)),
        'max_expire_at': iso(expiration.expiry_cap(row.created_at,
                                                   settings)),
        'extensions': row.extensions or 0,
        'notified_at': iso(row.notified_at),
        'notified_last_at': iso(row.notified_last_at),
        'next_action': {'action': str(step.action), 'at': iso(step.at)},
        'excluded': bool(excluded),
        'links': [{'rel': 'self', 'href': '%s/v1/%s/vmexpires/%s'
                   % (base_url, row.project_id, row.id)}],
    }


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
