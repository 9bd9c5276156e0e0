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
"""A small client of the os-vm-expire REST API (v1) on a keystoneauth
session.

The endpoint comes from the service catalog (service type ``vmexpire``,
``http://HOST:PORT/v1/%(project_id)s``) or from an explicit override in
which ``%(project_id)s`` is filled in from the token. The API's error
documents ``{"code", "title", "description"}`` become :class:`ApiError`
with the description unchanged.
"""

import json
import urllib.parse

from keystoneauth1 import adapter

SERVICE_TYPE = 'vmexpire'


class ApiError(Exception):
    """An error answered by the API; ``str()`` is its own description."""

    def __init__(self, code: int, title: str, description: str):
        super().__init__(description)
        self.code = code
        self.title = title
        self.description = description

    def __str__(self) -> str:
        return '%s (HTTP %d)' % (self.description, self.code)

    @classmethod
    def from_response(cls, resp) -> 'ApiError':
        title = resp.reason or 'Error'
        description = ''
        try:
            body = resp.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            title = body.get('title') or title
            description = body.get('description') or ''
        if not description:
            description = (resp.text or '').strip()[:300] or title
        return cls(resp.status_code, title, description)


class Client:
    """The calls of the v1 API, one method each, returning plain dicts."""

    def __init__(self, session, endpoint: str | None = None,
                 interface: str | None = None,
                 region_name: str | None = None):
        self.adapter = adapter.Adapter(
            session, service_type=SERVICE_TYPE, interface=interface,
            region_name=region_name, endpoint_override=endpoint,
            client_name='python-osvmexpireclient')

    # -- plumbing -----------------------------------------------------------

    def _request(self, method: str, path: str, body=None, params=None):
        kwargs = {'raise_exc': False, 'headers': {}}
        if method != 'DELETE':
            # A DELETE answers 204 without a body; asking it for JSON
            # makes Pecan answer 406.
            kwargs['headers']['Accept'] = 'application/json'
        if body is not None:
            kwargs['data'] = json.dumps(body)
            kwargs['headers']['Content-Type'] = 'application/json'
        if params:
            path += '?' + urllib.parse.urlencode(params)
        resp = self.adapter.request(path, method, **kwargs)
        if resp.status_code >= 400:
            raise ApiError.from_response(resp)
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise ApiError(resp.status_code, 'Bad answer',
                           'the API answered with something other than '
                           'JSON: %r' % resp.text[:200])

    @staticmethod
    def _quote(ident: str) -> str:
        return urllib.parse.quote(ident, safe='')

    def _follow(self, path: str, key: str, params: dict,
                limit: int | None) -> list[dict]:
        """Every page of a list, following the ``next`` links."""
        items: list[dict] = []
        page = self._request('GET', path, params=params)
        while True:
            items.extend(page.get(key) or [])
            if limit is not None and len(items) >= limit:
                return items[:limit]
            nxt = [link['href'] for link in page.get('links') or []
                   if link.get('rel') == 'next']
            if not nxt:
                return items
            query = urllib.parse.urlsplit(nxt[0]).query
            params = dict(urllib.parse.parse_qsl(query))
            page = self._request('GET', path, params=params)

    # -- vmexpires ----------------------------------------------------------

    def list_vmexpires(self, all_projects: bool = False,
                       instance_id: str | None = None,
                       user_id: str | None = None,
                       limit: int | None = None) -> list[dict]:
        params = {}
        if all_projects:
            params['all_tenants'] = '1'
        if instance_id:
            params['instance_id'] = instance_id
        if user_id:
            params['user_id'] = user_id
        return self._follow('vmexpires/', 'vmexpires', params, limit)

    def get_vmexpire(self, vmexpire_id: str) -> dict:
        return self._request(
            'GET', 'vmexpires/%s' % self._quote(vmexpire_id))['vmexpire']

    def find_vmexpire(self, ident: str) -> dict:
        """A record by record id, else by instance id (one match only)."""
        try:
            return self.get_vmexpire(ident)
        except ApiError as exc:
            if exc.code not in (400, 404):
                raise
            first = exc
        for all_projects in (False, True):
            try:
                found = self.list_vmexpires(all_projects=all_projects,
                                            instance_id=ident)
            except ApiError as exc:
                if exc.code in (400, 403):
                    break
                raise
            if len(found) == 1:
                return found[0]
        raise first

    def extend_vmexpire(self, vmexpire_id: str,
                        days: int | None = None) -> dict:
        body = {'days': days} if days is not None else None
        return self._request('PUT', 'vmexpires/%s' % self._quote(vmexpire_id),
                             body=body)['vmexpire']

    def delete_vmexpire(self, vmexpire_id: str) -> None:
        self._request('DELETE', 'vmexpires/%s' % self._quote(vmexpire_id))

    def add_vmexpire(self, instance_id: str) -> dict:
        return self._request(
            'POST', 'vmexpires/%s' % self._quote(instance_id))['vmexpire']

    def list_events(self, vmexpire_id: str) -> list[dict]:
        return self._request(
            'GET', 'vmexpires/%s/events' % self._quote(vmexpire_id)
        )['events']

    # -- vmexcludes ---------------------------------------------------------

    def list_vmexcludes(self, exclude_type: str | None = None) -> list[dict]:
        params = {'type': exclude_type} if exclude_type else None
        return self._request('GET', 'vmexcludes/',
                             params=params)['vmexcludes']

    def get_vmexclude(self, exclude_id: str) -> dict:
        return self._request(
            'GET', 'vmexcludes/%s' % self._quote(exclude_id))['vmexclude']

    def create_vmexclude(self, exclude_type: str, ident: str) -> dict:
        return self._request('POST', 'vmexcludes/',
                             body={'id': ident, 'type': exclude_type}
                             )['vmexclude']

    def delete_vmexclude(self, exclude_id: str) -> None:
        self._request('DELETE', 'vmexcludes/%s' % self._quote(exclude_id))
