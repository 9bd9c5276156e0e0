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
"""/v1/{project_id}/vmexcludes: domains, projects, users that never expire.

Admin only. Exclusions are global, not per project: the project in the
path only satisfies the URL shape clients know.
"""

import pecan
from pecan import rest

from osvmexpire.api import schemas
from osvmexpire.api import views
from osvmexpire.api.controllers import base
from osvmexpire.db import api as db_api
from osvmexpire.policies import vmexclude as rules


class VmExcludesController(rest.RestController):

    @pecan.expose('json')
    def get_all(self):
        kind = schemas.exclude_query(pecan.request.GET)
        base.authorize(rules.GET, base.path_project())
        rows = db_api.list_excludes(base.ctx(), exclude_type=kind)
        return {'vmexcludes': [views.vmexclude(r) for r in rows]}

    @pecan.expose('json')
    def get_one(self, exclude_id=None):
        if not exclude_id:
            pecan.abort(404)
        schemas.no_query(pecan.request.GET)
        base.authorize(rules.GET, base.path_project())
        row = db_api.get_exclude(base.ctx(),
                                 schemas.uuid_id(exclude_id, 'vmexclude id'))
        return {'vmexclude': views.vmexclude(row)}

    @pecan.expose('json')
    def post(self):
        schemas.no_query(pecan.request.GET)
        base.authorize(rules.CREATE, base.path_project())
        body = base.json_body(schemas.EXCLUDE_CREATE, required=True)
        row = db_api.create_exclude(base.ctx(), body['type'], body['id'],
                                    actor=base.ctx().user_id)
        base.set_status(202)
        return {'vmexclude': views.vmexclude(row)}

    @pecan.expose('json')
    def delete(self, exclude_id=None):
        if exclude_id is None:
            raise base.not_allowed('GET, POST')
        schemas.no_query(pecan.request.GET)
        base.authorize(rules.DELETE, base.path_project())
        db_api.delete_exclude(base.ctx(),
                              schemas.uuid_id(exclude_id, 'vmexclude id'),
                              actor=base.ctx().user_id)
        base.set_status(204)
