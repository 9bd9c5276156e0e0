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
"""Every command against the real API application (in-process server).

The commands run as cliff runs them (parser, take_action, formatter) with
a real :class:`osvmexpireclient.client.Client` on a keystoneauth session.
"""

import datetime
import io
import json
import types
import uuid

import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint

from osvmexpireclient import client as api_client
from osvmexpireclient.v1 import vmexclude
from osvmexpireclient.v1 import vmexpire

ADMIN_ROLES = 'admin,member,reader'


class Runner:
    """Runs one command class as ``openstack`` would, returns its output."""

    def __init__(self, api, project, user='u1', roles='member,reader'):
        token = '%s:%s:%s' % (user, project, roles)
        auth = token_endpoint.Token(api.endpoint(project), token)
        self.client = api_client.Client(ks_session.Session(auth=auth))

    def __call__(self, cls, *argv):
        app = types.SimpleNamespace(
            client_manager=types.SimpleNamespace(vmexpire=self.client),
            stdout=io.StringIO(), stderr=io.StringIO(),
            options=types.SimpleNamespace(debug=False))
        cmd = cls(app, None)
        args = cmd.get_parser('openstack').parse_args(list(argv))
        cmd.run(args)
        return app.stdout.getvalue()

    def json(self, cls, *argv):
        return json.loads(self(cls, *argv, '-f', 'json'))


@pytest.fixture
def member(api, project):
    return Runner(api, project)


@pytest.fixture
def admin(api, project):
    return Runner(api, project, user='admin', roles=ADMIN_ROLES)


def _error(excinfo):
    return str(excinfo.value)


# -- vmexpire list ------------------------------------------------------------


def test_list_own_project_only(api, project, member):
    mine = api.add_record(project, name='mine')
    api.add_record('other-' + project, name='theirs')
    rows = member.json(vmexpire.ListVmExpire)
    assert [r['ID'] for r in rows] == [mine['id']]
    assert rows[0]['Instance Name'] == 'mine'
    assert rows[0]['Next Action'] == 'first_warning'
    assert rows[0]['Expire At'] == mine['expire_at'].isoformat() + 'Z'
    assert 'Project ID' not in rows[0]
    table = member(vmexpire.ListVmExpire)
    assert mine['instance_id'] in table and 'Next Action At' in table


def test_list_all_projects_is_for_admins(api, project, member, admin):
    api.add_record(project)
    api.add_record('other-' + project)
    with pytest.raises(api_client.ApiError) as exc:
        member(vmexpire.ListVmExpire, '--all-projects')
    assert exc.value.code == 403
    rows = admin.json(vmexpire.ListVmExpire, '--all-projects')
    projects = {r['Project ID'] for r in rows}
    assert {project, 'other-' + project} <= projects


def test_list_follows_pages_and_filters(api, project, member):
    # The test API pages by 3 ([api] default_limit = 3).
    made = [api.add_record(project, days=10 + i, user='u%d' % (i % 2))
            for i in range(7)]
    rows = member.json(vmexpire.ListVmExpire)
    assert [r['ID'] for r in rows] == [m['id'] for m in made]
    assert len(member.json(vmexpire.ListVmExpire, '--limit', '4')) == 4
    one = member.json(vmexpire.ListVmExpire, '--instance',
                      made[2]['instance_id'])
    assert [r['ID'] for r in one] == [made[2]['id']]
    mine = member.json(vmexpire.ListVmExpire, '--user', 'u1', '--long')
    assert {r['User ID'] for r in mine} == {'u1'} and len(mine) == 3
    assert {'Delete After', 'Max Expire At', 'Extensions'} <= set(mine[0])


# -- show / extend / events ---------------------------------------------------


def test_show_by_record_or_server_id(api, project, member):
    rec = api.add_record(project, name='web')
    by_id = member.json(vmexpire.ShowVmExpire, rec['id'])
    by_server = member.json(vmexpire.ShowVmExpire, rec['instance_id'])
    assert by_id == by_server
    assert by_id['instance_name'] == 'web'
    assert by_id['next_action'] == 'first_warning'
    assert by_id['next_action_at'].endswith('Z')
    assert isinstance(by_id['expire'], int) and 'links' not in by_id
    assert 'max_expire_at' in by_id and 'delete_after' in by_id


def test_show_errors_are_the_apis(api, project, member):
    missing = str(uuid.uuid4())
    with pytest.raises(api_client.ApiError) as exc:
        member(vmexpire.ShowVmExpire, missing)
    assert _error(exc) == 'vmexpire %s not found (HTTP 404)' % missing
    with pytest.raises(api_client.ApiError) as exc:
        member(vmexpire.ShowVmExpire, 'not-a-uuid')
    assert exc.value.code == 400 and 'not a UUID' in _error(exc)
    theirs = api.add_record('other-' + project)
    with pytest.raises(api_client.ApiError) as exc:
        member(vmexpire.ShowVmExpire, theirs['id'])
    assert exc.value.code == 404


def test_extend_and_events(api, project, member):
    rec = api.add_record(project, days=3)
    before = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    shown = member.json(vmexpire.ExtendVmExpire, rec['instance_id'],
                        '--days', '7')
    new = datetime.datetime.fromisoformat(shown['expire_at'][:-1])
    assert new >= before.replace(microsecond=0) + datetime.timedelta(days=7)
    assert shown['extensions'] == 1
    shown = member.json(vmexpire.ExtendVmExpire, rec['id'])
    assert shown['extensions'] == 2
    with pytest.raises(api_client.ApiError) as exc:
        member(vmexpire.ExtendVmExpire, rec['id'], '--days', '999')
    assert exc.value.code == 400
    events = member.json(vmexpire.ListVmExpireEvents, rec['instance_id'])
    assert [e['Event'] for e in events] == ['created', 'extended',
                                            'extended']
    assert json.loads(events[1]['Detail'])['days'] == 7
    assert events[1]['Actor'] == 'u1'


def test_delete_is_for_admins(api, project, member, admin):
    rec = api.add_record(project)
    with pytest.raises(api_client.ApiError) as exc:
        member(vmexpire.DeleteVmExpire, rec['id'])
    assert exc.value.code == 403
    assert admin(vmexpire.DeleteVmExpire, rec['instance_id']) == ''
    with pytest.raises(api_client.ApiError) as exc:
        member(vmexpire.ShowVmExpire, rec['id'])
    assert exc.value.code == 404
    other = api.add_record(project)
    with pytest.raises(Exception) as exc:
        admin(vmexpire.DeleteVmExpire, other['id'], str(uuid.uuid4()))
    assert '1 of 2' in str(exc.value)
    assert member.json(vmexpire.ListVmExpire) == []


def test_add_is_for_admins(api, project, member, admin):
    server = str(uuid.uuid4())
    with pytest.raises(api_client.ApiError) as exc:
        member(vmexpire.AddVmExpire, server)
    assert exc.value.code == 403
    with pytest.raises(api_client.ApiError) as exc:
        admin(vmexpire.AddVmExpire, 'bad id')
    assert exc.value.code == 400 and 'not a UUID' in _error(exc)


# -- vmexclude ----------------------------------------------------------------


def test_vmexclude_lifecycle(project, member, admin):
    target = uuid.uuid4().hex
    made = admin.json(vmexclude.CreateVmExclude, '--type', 'project', target)
    assert made['exclude_type'] == 'project' and made['exclude_id'] == target
    shown = admin.json(vmexclude.ShowVmExclude, made['id'])
    assert shown == made
    rows = admin.json(vmexclude.ListVmExclude, '--type', 'project')
    assert made['id'] in [r['ID'] for r in rows]
    assert all(r['Type'] == 'project'
               for r in admin.json(vmexclude.ListVmExclude, '--type',
                                   'project'))
    with pytest.raises(api_client.ApiError) as exc:
        admin(vmexclude.CreateVmExclude, '--type', 'project', target)
    assert exc.value.code == 409
    with pytest.raises(api_client.ApiError) as exc:
        member(vmexclude.ListVmExclude)
    assert exc.value.code == 403
    with pytest.raises(api_client.ApiError) as exc:
        member(vmexclude.CreateVmExclude, '--type', 'user', 'me')
    assert exc.value.code == 403
    assert admin(vmexclude.DeleteVmExclude, made['id']) == ''
    with pytest.raises(api_client.ApiError) as exc:
        admin(vmexclude.ShowVmExclude, made['id'])
    assert exc.value.code == 404


def test_vmexclude_bad_type_is_a_usage_error(admin):
    with pytest.raises(SystemExit) as exc:
        admin(vmexclude.CreateVmExclude, '--type', 'tenant', 'x')
    assert exc.value.code == 2


# -- the client's error handling ----------------------------------------------


class _Resp:
    def __init__(self, code, body, reason='Error'):
        self.status_code = code
        self.text = body
        self.reason = reason

    def json(self):
        return json.loads(self.text)


@pytest.mark.parametrize('resp, text', [
    (_Resp(409, '{"code": 409, "title": "Conflict", "description": '
                '"already excluded"}'), 'already excluded (HTTP 409)'),
    (_Resp(502, '<html>Bad gateway</html>', 'Bad Gateway'),
     '<html>Bad gateway</html> (HTTP 502)'),
    (_Resp(500, '', 'Internal Server Error'),
     'Internal Server Error (HTTP 500)'),
])
def test_api_error_text(resp, text):
    assert str(api_client.ApiError.from_response(resp)) == text
