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
"""The installed ``openstack`` command finds the plugin and talks to the
API: entry points, ClientManager, make_client, formatters, exit codes."""

import json
import os
import subprocess
import sys
import uuid

import pytest

OPENSTACK = os.path.join(os.path.dirname(sys.executable), 'openstack')


def openstack(api, project, *argv, roles='member,reader', extra=()):
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    cmd = [OPENSTACK, '--os-auth-type', 'admin_token',
           '--os-token', 'u1:%s:%s' % (project, roles),
           '--os-endpoint', api.endpoint(project), *extra, *argv]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env,
                          timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def test_plugin_commands_are_listed():
    proc = subprocess.run([OPENSTACK, 'help'], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0
    for name in ('vmexpire list', 'vmexpire show', 'vmexpire extend',
                 'vmexpire delete', 'vmexpire add', 'vmexpire events',
                 'vmexclude list', 'vmexclude show', 'vmexclude create',
                 'vmexclude delete'):
        assert name in proc.stdout, name


def test_list_show_extend_json(api, project):
    rec = api.add_record(project, days=2, name='shell-vm')
    rc, out, err = openstack(api, project, 'vmexpire', 'list', '-f', 'json')
    assert rc == 0, err
    assert [r['ID'] for r in json.loads(out)] == [rec['id']]
    rc, out, err = openstack(api, project, 'vmexpire', 'extend',
                             rec['instance_id'], '--days', '5', '-f',
                             'json')
    assert rc == 0, err
    assert json.loads(out)['extensions'] == 1
    rc, out, err = openstack(api, project, 'vmexpire', 'show', rec['id'],
                             '-f', 'value', '-c', 'instance_name')
    assert (rc, out) == (0, 'shell-vm\n')


def test_errors_shown_as_the_api_says(api, project):
    missing = str(uuid.uuid4())
    rc, out, err = openstack(api, project, 'vmexpire', 'show', missing)
    assert rc == 1 and out == ''
    assert err.strip().splitlines()[-1] == (
        'vmexpire %s not found (HTTP 404)' % missing)
    rc, out, err = openstack(api, project, 'vmexclude', 'list')
    assert rc == 1
    assert err.strip().splitlines()[-1] == (
        'Policy does not allow vmexclude:get. (HTTP 403)')
    rc, out, err = openstack(api, project, 'vmexclude', 'create',
                             '--type', 'tenant', 'x')
    assert rc == 2 and "invalid choice: 'tenant'" in err


def test_endpoint_override_and_version(api, project):
    # The override wins over the auth plugin's endpoint.
    rc, out, err = openstack(
        api, project, 'vmexpire', 'list', '-f', 'json',
        extra=('--os-vmexpire-endpoint-override',
               api.endpoint(project) + '-nowhere'))
    assert rc == 1 and '(HTTP 40' in err
    rc, out, err = openstack(api, project, 'vmexpire', 'list',
                             extra=('--os-vmexpire-api-version', '9'))
    assert rc != 0 and 'not supported' in err


@pytest.mark.parametrize('argv', [['vmexpire', 'show'],
                                  ['vmexpire', 'extend', 'x', '--days',
                                   'many']])
def test_usage_errors(api, project, argv):
    rc, _, err = openstack(api, project, *argv)
    assert rc == 2 and 'usage:' in err
