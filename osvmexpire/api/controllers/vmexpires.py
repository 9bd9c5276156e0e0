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
"""/v1/{project_id}/vmexpires: list, show, extend, remove, track, events.

Non-admins only ever see rows of their own project (the lookup is scoped,
so another project's record is 404, never 403); the policy target is the
row's own project.
"""

import urllib.parse

import pecan
import webob.exc
from pecan import rest

from osvmexpire import exception
from osvmexpire.api import schemas
from osvmexpire.api import views
from osvmexpire.api.controllers import base
from osvmexpire.db import api as db_api
from osvmexpire.policies import vmexpire as rules


def _render(rows) -> list[dict]:
    """Rows of the ``*_view`` queries carry ``excluded``; a row a write
    returned is checked against the exclusions of its own ids."""
    settings = pecan.request.settings  # read once: pecan.request is a proxy
    now = db_api.utcnow()
    url = base.base_url()
    if rows and not hasattr(rows[0], 'excluded'):
        excluded = db_api.excluded_ids(base.ctx())
        return [views.vmexpire(row, url, now, settings,
                               views.is_excluded(row, excluded))
                for row in rows]
    return [views.vmexpire(row, url, now, settings, row.excluded)
            for row in rows]


def _get_row(vmexpire_id: str | None, get=None):
    if not vmexpire_id:
        # An empty path segment (/vmexpires//events): nothing lives there.
        pecan.abort(404)
    vmexpire_id = schemas.uuid_id(vmexpire_id, 'vmexpire id')
    return (get or db_api.get_vmexpire)(base.ctx(), vmexpire_id,
                                        base.scope())


# Methods of /vmexpires/ itself (records are created by Nova events, or
# with POST /vmexpires/{instance_id}).
COLLECTION_METHODS = 'GET'


class EventsController(rest.RestController):
    """/vmexpires/{id}/events: the audit trail of one record."""

    @pecan.expose('json')
    def get_all(self, vmexpire_id=None):
        schemas.no_query(pecan.request.GET)
        row = _get_row(vmexpire_id)
        base.authorize(rules.GET, row.project_id)
        events = db_api.list_events(base.ctx(), vmexpire_id=row.id,
                                    instance_id=row.instance_id,
                                    project_id=row.project_id)
        return {'events': [views.event(e) for e in events]}


class VmExpiresController(rest.RestController):

    events = EventsController()

    @pecan.expose('json')
    def get_all(self):
        req = pecan.request
        query = schemas.list_query(req.GET, req.conf.api.default_limit,
                                   req.conf.api.max_limit)
        project = base.path_project()
        base.authorize(rules.GET, project)
        if query['all_tenants']:
            base.authorize(rules.LIST_ALL, project)
            project = None
        try:
            rows, total = db_api.list_vmexpires_view(
                base.ctx(), project_id=project,
                instance_id=query['instance_id'], user_id=query['user_id'],
                expire_before=query['expire_before'],
                limit=query['limit'] + 1, marker=query['marker'])
        except exception.NotFound as exc:
            raise schemas.bad_request(str(exc))
        links = []
        if len(rows) > query['limit']:
            rows = rows[:query['limit']]
            params = [(k, v) for k, v in req.GET.items() if k != 'marker']
            params.append(('marker', rows[-1].id))
            links.append({'rel': 'next', 'href': '%s%s?%s' % (
                base.base_url(), req.path_info,
                urllib.parse.urlencode(params))})
        return {'vmexpires': _render(rows), 'total': total, 'links': links}

    @pecan.expose('json')
    def get_one(self, vmexpire_id=None):
        schemas.no_query(pecan.request.GET)
        row = _get_row(vmexpire_id, db_api.get_vmexpire_view)
        base.authorize(rules.GET, row.project_id)
        return {'vmexpire': _render([row])[0]}

    @pecan.expose('json')
    def put(self, vmexpire_id=None):
        """Extend: the expiry becomes now + days (default max_vm_extend)."""
        if vmexpire_id is None:
            raise base.not_allowed(COLLECTION_METHODS)
        req = pecan.request
        schemas.no_query(req.GET)
        row = _get_row(vmexpire_id)
        base.authorize(rules.EXTEND, row.project_id)
        body = base.json_body(schemas.extend_schema(
            req.conf.max_vm_extend))
        row = db_api.extend_vmexpire(
            base.ctx(), row.id, db_api.utcnow(), req.settings,
            days=body.get('days'), project_id=base.scope(),
            actor=base.ctx().user_id)
        base.set_status(202)
        return {'vmexpire': _render([row])[0]}

    @pecan.expose('json')
    def delete(self, vmexpire_id=None):
        """Remove the expiry: the server is kept and never expires."""
        if vmexpire_id is None:
            raise base.not_allowed(COLLECTION_METHODS)
        schemas.no_query(pecan.request.GET)
        row = _get_row(vmexpire_id)
        base.authorize(rules.DELETE, row.project_id)
        db_api.remove_vmexpire(base.ctx(), row.id, base.scope(),
                               actor=base.ctx().user_id)
        base.set_status(204)

    @pecan.expose('json')
    def post(self, instance_id=None):
        """Start tracking an existing server, read from Nova (admin)."""
        req = pecan.request
        schemas.no_query(req.GET)
        if instance_id is None:
            raise base.not_allowed(COLLECTION_METHODS)
        base.authorize(rules.ADD, base.path_project())
        instance_id = schemas.uuid_id(instance_id, 'instance id')
        base.json_body(schemas.TRACK)
        # Lazy: the reconciliation code pulls in Nova clients.
        from osvmexpire.cleaner import reconcile
        nova_error = getattr(reconcile, 'NovaError', ())
        try:
            row = reconcile.track_server(req.conf, base.ctx(), instance_id,
                                         nova=None,
                                         actor=base.ctx().user_id)
        except nova_error as exc:
            raise webob.exc.HTTPServiceUnavailable(detail=str(exc))
        base.set_status(202)
        return {'vmexpire': _render([row])[0]}
