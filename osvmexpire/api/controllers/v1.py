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
"""/v1 and the /v1/{project_id} scope check."""

import pecan
import webob.exc

from osvmexpire.api import schemas
from osvmexpire.api.controllers import base
from osvmexpire.api.controllers import vmexcludes
from osvmexpire.api.controllers import vmexpires


class ProjectController:
    """Resources of the path's project (:func:`base.path_project`).

    Built once: Pecan's RestController inspects its class on every
    instantiation, which per request cost more than the routing itself.
    """

    vmexpires = vmexpires.VmExpiresController()
    vmexcludes = vmexcludes.VmExcludesController()


_PROJECT = ProjectController()


class V1Controller:

    @pecan.expose(template='json')
    def index(self):
        base.only_get()
        from osvmexpire.api.controllers import root
        return {'version': root.version_doc(base.base_url())}

    @pecan.expose()
    def _lookup(self, project_id, *remainder):
        """Check the path's project against the token, then route."""
        schemas.text_id(project_id, 'project id')
        current = base.ctx()
        if not current.is_admin and current.project_id != project_id:
            raise webob.exc.HTTPForbidden(
                detail='The project in the URL (%s) is not the project of '
                       'your token.' % project_id)
        if not remainder:
            pecan.abort(404)
        pecan.request.context['project_id'] = project_id
        return _PROJECT, list(remainder)
