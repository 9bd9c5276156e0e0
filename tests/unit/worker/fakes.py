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
"""Real-shaped Nova notifications and a paging fake of python-novaclient."""

import copy
import json
import pathlib

from novaclient import exceptions as nova_exc

FIXTURES = (pathlib.Path(__file__).resolve().parents[2]
            / 'fixtures' / 'nova_notifications')

# The ids in the fixtures (captured from Nova 34 with its in-process
# functional harness: boot, rename, delete of one server).
INSTANCE_ID = 'fcdf4d91-2d35-407f-91cd-47ba62f9adee'
PROJECT_ID = '6f70656e737461636b20342065766572'


def notification(name: str, instance_id: str | None = None,
                 **changes) -> dict:
    """A fixture message {event_type, publisher_id, priority, payload},
    optionally for another instance id and with payload fields changed."""
    msg = json.loads((FIXTURES / (name + '.json')).read_text())
    payload = msg['payload']
    data = payload.get('nova_object.data', payload)
    if instance_id is not None:
        data['uuid' if 'nova_object.data' in payload
             else 'instance_id'] = instance_id
    data.update(changes)
    return msg


def payload(name: str, instance_id: str | None = None, **changes) -> dict:
    return notification(name, instance_id, **changes)['payload']


class Server:
    def __init__(self, id, tenant_id='p1', user_id='u1', name=None,
                 created='2030-01-01T00:00:00Z', status='ACTIVE'):
        self.id = id
        self.tenant_id = tenant_id
        self.user_id = user_id
        self.name = name or 'vm-' + id
        self.created = created
        self.status = status


class Servers:
    """``list`` pages like Nova: sorted, ``limit`` capped, ``marker``."""

    def __init__(self, max_limit=1000):
        self.servers = {}
        self.max_limit = max_limit
        self.list_calls = []
        self.get_calls = []
        self.fail_list_after = None   # fail on the Nth list call (0-based)
        self.fail_get = None
        self.ignore_marker = False

    def add(self, id, **kw):
        self.servers[id] = Server(id, **kw)
        return self.servers[id]

    def list(self, detailed=True, search_opts=None, marker=None, limit=None):
        self.list_calls.append(dict(search_opts=search_opts, marker=marker,
                                    limit=limit))
        if (self.fail_list_after is not None
                and len(self.list_calls) > self.fail_list_after):
            raise nova_exc.ClientException(500, 'Unexpected API Error')
        ids = sorted(self.servers)
        if marker is not None and not self.ignore_marker:
            if marker not in self.servers:
                raise nova_exc.BadRequest(400, 'marker not found')
            ids = ids[ids.index(marker) + 1:]
        size = min(limit or self.max_limit, self.max_limit)
        return [copy.copy(self.servers[i]) for i in ids[:size]]

    def get(self, id):
        self.get_calls.append(id)
        if self.fail_get is not None:
            raise self.fail_get
        if id not in self.servers:
            raise nova_exc.NotFound(404, 'Instance %s could not be found.'
                                    % id)
        return copy.copy(self.servers[id])


class Nova:
    def __init__(self, **kw):
        self.servers = Servers(**kw)
