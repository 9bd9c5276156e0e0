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
"""The API on one screen (DESIGN.md §5)::

    GET    /                                          version document (300)
    GET    /v1/                                       v1 version (200)
    GET    /v1/{project_id}/vmexpires/                list (200)
    GET    /v1/{project_id}/vmexpires/{id}            one record (200)
    PUT    /v1/{project_id}/vmexpires/{id}            extend (202)
    DELETE /v1/{project_id}/vmexpires/{id}            stop expiring (204)
    POST   /v1/{project_id}/vmexpires/{instance_id}   start tracking (202)
    GET    /v1/{project_id}/vmexpires/{id}/events     audit trail (200)
    GET    /v1/{project_id}/vmexcludes/               exclusions (200)
    POST   /v1/{project_id}/vmexcludes/               exclude (202)
    GET    /v1/{project_id}/vmexcludes/{id}           one exclusion (200)
    DELETE /v1/{project_id}/vmexcludes/{id}           drop exclusion (204)

``/healthcheck`` is answered by oslo.middleware before any of this, and
``/`` is the only route served without a token.
"""

import pecan

from osvmexpire.api.controllers import base
from osvmexpire.api.controllers import v1


def version_doc(base_url: str) -> dict:
    return {
        'id': 'v1',
        'status': 'CURRENT',
        'links': [{'rel': 'self', 'href': base_url + '/v1/'}],
        'media-types': [{'base': 'application/json',
                         'type': 'application/json'}],
    }


class RootController:

    v1 = v1.V1Controller()

    @pecan.expose(template='json')
    def index(self):
        base.only_get()
        base.set_status(300)
        return {'versions': {'values': [version_doc(base.base_url())]}}
