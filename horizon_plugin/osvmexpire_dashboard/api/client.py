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
"""Client of the os-vm-expire REST API (v1) for the dashboard.

Every call goes through a keystoneauth session built from the logged-in
user's token and the ``vmexpire`` endpoint of the user's catalog, so the
API applies its own policy to the user. One small function per call; the
functions raise :class:`VmExpireError` (a Horizon recoverable error) and
views pass it to ``horizon.exceptions.handle``: a failing API gives a
clear message, never an empty table.
"""

import datetime
import logging

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from horizon import exceptions as horizon_exceptions
from horizon.utils import memoized
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from openstack_dashboard.api import base

LOG = logging.getLogger(__name__)

SERVICE_TYPE = 'vmexpire'
# NOTE: DELETE answers 204 without a body; a bare "application/json" made
# the API's DELETE handlers answer 406, so accept anything, JSON first.
ACCEPT = 'application/json, */*;q=0.1'
# Safety net against a server that keeps returning a next page.
MAX_PAGES = 100


class VmExpireError(horizon_exceptions.RecoverableError):
    """An error answer of the API; ``str()`` is its reason, shown as is."""

    def __init__(self, status: int | None, title: str, description: str):
        super().__init__(description)
        self.status = status
        self.title = title
        self.description = description

    def __str__(self) -> str:
        return self.description


class VmExpireUnavailable(VmExpireError):
    """The API could not be reached (down, timeout, TLS failure)."""


class VmExpire(base.APIDictWrapper):
    """One expiration record; the ``*_at`` fields are also parsed."""

    _attrs = ['id', 'instance_id', 'instance_name', 'project_id', 'user_id',
              'expire', 'expire_at', 'delete_after', 'max_expire_at',
              'extensions', 'next_action', 'excluded', 'notified',
              'notified_last']

    @property
    def name(self) -> str:
        return self._apidict.get('instance_name') or self.instance_id

    @property
    def expire_at_dt(self) -> datetime.datetime | None:
        return parse_time(self._apidict.get('expire_at'))

    @property
    def max_expire_at_dt(self) -> datetime.datetime | None:
        return parse_time(self._apidict.get('max_expire_at'))

    @property
    def delete_after_dt(self) -> datetime.datetime | None:
        return parse_time(self._apidict.get('delete_after'))


class VmExclude(base.APIDictWrapper):
    """One exclusion: ``exclude_type`` (domain/project/user), ``exclude_id``.
    """

    _attrs = ['id', 'exclude_id', 'exclude_type', 'created']


def parse_time(value: str | None) -> datetime.datetime | None:
    """Parse the API's ISO 8601 ``...Z`` times into aware UTC datetimes."""
    if not value:
        return None
    parsed = datetime.datetime.fromisoformat(value.replace('Z', '+00:00'))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.astimezone(datetime.UTC)


def _verify() -> bool | str:
    if getattr(settings, 'OPENSTACK_SSL_NO_VERIFY', False):
        return False
    return getattr(settings, 'OPENSTACK_SSL_CACERT', None) or True


@memoized.memoized
def _session(request) -> tuple[ks_session.Session, str]:
    """A session carrying the user's token, and the API's project URL."""
    endpoint = base.url_for(request, SERVICE_TYPE).rstrip('/')
    auth = token_endpoint.Token(endpoint, request.user.token.id)
    sess = ks_session.Session(
        auth=auth, verify=_verify(),
        timeout=getattr(settings, 'VMEXPIRE_API_TIMEOUT', 15),
        user_agent='osvmexpire-dashboard')
    return sess, endpoint


def _error_from(resp) -> VmExpireError:
    """Turn an error answer into a VmExpireError keeping the API's reason."""
    title = resp.reason or ''
    description = ''
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        # The API answers {"code", "title", "description"}; tolerate a
        # wrapper object as some WSGI middlewares (keystonemiddleware) use.
        if 'description' not in body and len(body) == 1:
            inner = next(iter(body.values()))
            if isinstance(inner, dict):
                body = inner
        title = body.get('title') or title
        description = body.get('description') or body.get('message') or ''
    if not description:
        description = (resp.text or '').strip()[:300] or title or (
            'HTTP %s' % resp.status_code)
    return VmExpireError(resp.status_code, title, description)


def _call(request, method: str, path: str, **kwargs):
    sess, endpoint = _session(request)
    url = endpoint + path
    try:
        resp = sess.request(url, method, raise_exc=False,
                            headers={'Accept': ACCEPT}, **kwargs)
    except ks_exceptions.ConnectionError as exc:
        LOG.warning('os-vm-expire API unreachable at %s: %s', url, exc)
        raise VmExpireUnavailable(
            None, 'unavailable',
            str(_('The expiration service is unavailable (%s).')
                % exc.__class__.__name__)) from exc
    if resp.status_code >= 400:
        raise _error_from(resp)
    return resp


def vmexpire_list(request, all_tenants: bool = False,
                  **filters) -> list[VmExpire]:
    """All records visible to the user, following the API's paging."""
    params = {k: v for k, v in filters.items() if v is not None}
    if all_tenants:
        params['all_tenants'] = 1
    records: list[VmExpire] = []
    marker = None
    for _page in range(MAX_PAGES):
        if marker:
            params['marker'] = marker
        body = _call(request, 'GET', '/vmexpires/', params=params).json()
        page = body.get('vmexpires', [])
        records.extend(VmExpire(r) for r in page)
        total = body.get('total')
        if not page or total is None or len(records) >= total:
            break
        marker = page[-1]['id']
    return records


def vmexpire_get(request, vmexpire_id: str) -> VmExpire:
    body = _call(request, 'GET', '/vmexpires/%s' % vmexpire_id).json()
    return VmExpire(body['vmexpire'])


def vmexpire_extend(request, vmexpire_id: str,
                    days: int | None = None) -> VmExpire:
    """Extend an expiry; ``days`` None lets the API use its maximum."""
    body = {} if days is None else {'days': int(days)}
    resp = _call(request, 'PUT', '/vmexpires/%s' % vmexpire_id, json=body)
    return VmExpire(resp.json()['vmexpire'])


def vmexpire_delete(request, vmexpire_id: str) -> None:
    """Remove the expiry of a server (admin): it is kept, never expires."""
    _call(request, 'DELETE', '/vmexpires/%s' % vmexpire_id)


def vmexpire_add(request, instance_id: str) -> VmExpire | None:
    """Start tracking an existing server (admin)."""
    resp = _call(request, 'POST', '/vmexpires/%s' % instance_id, json={})
    try:
        body = resp.json()
    except ValueError:
        return None
    record = body.get('vmexpire') if isinstance(body, dict) else None
    return VmExpire(record) if record else None


def vmexclude_list(request) -> list[VmExclude]:
    body = _call(request, 'GET', '/vmexcludes/').json()
    return [VmExclude(e) for e in body.get('vmexcludes', [])]


def vmexclude_create(request, exclude_type: str,
                     exclude_id: str) -> VmExclude:
    resp = _call(request, 'POST', '/vmexcludes/',
                 json={'id': exclude_id, 'type': exclude_type})
    return VmExclude(resp.json()['vmexclude'])


def vmexclude_delete(request, vmexclude_id: str) -> None:
    _call(request, 'DELETE', '/vmexcludes/%s' % vmexclude_id)
