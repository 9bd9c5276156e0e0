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
"""Clients of the local cloud for the end-to-end tests.

Everything here talks to real processes started by
``tools/localcloud.py up``: Keystone tokens, Nova servers, os-vm-expire's
API found in the Keystone catalog, the SMTP catcher's mail folder, and
``osvmexpire-manage`` on the service's own configuration.
"""

import email
import email.policy
import json
import os
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from novaclient import client as nova_client
from novaclient import exceptions as nova_exc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
_OFFSET = int(os.environ.get('LOCALCLOUD_PORT_OFFSET') or 0)
ENV_FILE = os.environ.get('CLOUD_ENV_FILE') or os.path.join(
    ROOT, '.state', 'cloud-%d' % _OFFSET if _OFFSET else 'cloud',
    'cloud.env')


class CloudNotUp(Exception):
    pass


def read_env(path: str = ENV_FILE) -> dict:
    """The variables of cloud.env; raises CloudNotUp if the cloud is not up."""
    if not os.path.exists(path):
        raise CloudNotUp('%s does not exist: start the local cloud with '
                         '"python3 tools/localcloud.py up"' % path)
    env = {}
    with open(path) as f:
        for line in f:
            if line.startswith('export '):
                key, _eq, value = line[7:].strip().partition('=')
                env[key] = shlex.split(value)[0] if value else ''
    for url in (env['OS_AUTH_URL'], env['OSVMEXPIRE_API_URL'] + '/'):
        try:
            urllib.request.urlopen(url, timeout=10).close()
        except urllib.error.HTTPError:
            pass
        except OSError as exc:
            raise CloudNotUp('%s does not answer (%s): the local cloud is '
                             'not up; run "python3 tools/localcloud.py up"'
                             % (url, exc))
    return env


def wait_for(what: str, func, timeout: float = 30, interval: float = 0.5):
    """Poll func until it returns something true; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = func()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError('%s: not within %d s' % (what, timeout))
        time.sleep(interval)


class User:
    """One Keystone user: a token, Nova, and os-vm-expire's API."""

    def __init__(self, env: dict, name: str, password: str,
                 project: str) -> None:
        self.env = env
        self.name = name
        auth = v3.Password(auth_url=env['OS_AUTH_URL'], username=name,
                           password=password, project_name=project,
                           user_domain_id='default',
                           project_domain_id='default')
        self.session = ks_session.Session(auth=auth, timeout=30)
        self.project_id = self.session.get_project_id()
        self.user_id = self.session.get_user_id()
        self.nova = nova_client.Client('2.96', session=self.session,
                                       region_name=env['OS_REGION_NAME'])
        self.endpoint = {'service_type': 'vmexpire', 'interface': 'public',
                         'region_name': env['OS_REGION_NAME']}

    def api(self, method: str, path: str, **kwargs):
        """A request to /v1/<own project><path> (URL from the catalog)."""
        return self.session.request(path, method,
                                    endpoint_filter=self.endpoint,
                                    raise_exc=False, **kwargs)

    def raw(self, method: str, url_path: str, **kwargs):
        """A request to OSVMEXPIRE_API_URL + url_path with this token."""
        return self.session.request(
            self.env['OSVMEXPIRE_API_URL'] + url_path, method,
            raise_exc=False, authenticated=True, **kwargs)

    def find_record(self, instance_id: str) -> dict | None:
        resp = self.api('GET', '/vmexpires/?instance_id=' + instance_id)
        assert resp.status_code == 200, resp.text
        records = resp.json()['vmexpires']
        return records[0] if records else None

    def boot(self, name: str, wait_active: bool = True):
        server = self.nova.servers.create(
            name, image=self.env['CLOUD_IMAGE_ID'], flavor='1', nics='none')
        if wait_active:
            self.wait_status(server.id, 'ACTIVE')
        return server

    def wait_status(self, server_id: str, status: str) -> None:
        def check():
            s = self.nova.servers.get(server_id)
            assert s.status != 'ERROR', 'server %s in ERROR' % server_id
            return s.status == status
        wait_for('server %s %s' % (server_id, status), check, 60)

    def server_gone(self, server_id: str) -> bool:
        try:
            self.nova.servers.get(server_id)
        except nova_exc.NotFound:
            return True
        return False

    def delete_quietly(self, server_id: str) -> None:
        try:
            server = self.nova.servers.get(server_id)
            if server.locked:
                self.nova.servers.unlock(server_id)
            self.nova.servers.delete(server_id)
        except nova_exc.NotFound:
            pass


class Mailbox:
    """The SMTP catcher's folder: one .eml file per mail."""

    def __init__(self, path: str) -> None:
        self.path = path

    def messages(self, to: str | None = None, containing: str = '') -> list:
        found = []
        for name in sorted(os.listdir(self.path)):
            if not name.endswith('.eml'):
                continue
            with open(os.path.join(self.path, name), 'rb') as f:
                msg = email.message_from_binary_file(
                    f, policy=email.policy.default)
            if to and to not in str(msg['X-Envelope-To']):
                continue
            body = msg.get_body(('plain',))
            text = body.get_content() if body else ''
            if containing and containing not in text:
                continue
            found.append(msg)
        return found


class Admin:
    """The operator's side: osvmexpire-manage, the demo expiry tool, and
    stopping or starting one os-vm-expire process of the local cloud."""

    def __init__(self, env: dict) -> None:
        self.env = env
        self.child_env = dict(os.environ, **env)
        self.venv_bin = os.path.join(env['OSVMEXPIRE_VENV'], 'bin')

    def _run(self, argv: list, timeout: float = 120) -> str:
        proc = subprocess.run(argv, capture_output=True, text=True,
                              env=self.child_env, timeout=timeout)
        assert proc.returncode == 0, '%s failed: %s%s' % (
            ' '.join(argv), proc.stdout, proc.stderr)
        return proc.stdout

    def manage(self, *args: str):
        return self._run([os.path.join(self.venv_bin, 'osvmexpire-manage')]
                         + list(args))

    def events(self, instance_id: str) -> list[dict]:
        """The audit trail of an instance (also after its record is gone)."""
        rows = json.loads(self.manage('vm', 'events', instance_id,
                                      '-f', 'json'))
        for row in rows:
            detail = row.get('Detail')
            row['Detail'] = json.loads(detail) if detail else {}
        return rows

    def event_kinds(self, instance_id: str) -> list[str]:
        return [row['Event'] for row in self.events(instance_id)]

    def expire_soon(self, instance_id: str, seconds: int) -> str:
        return self._run([os.path.join(self.venv_bin, 'python'),
                          os.path.join(ROOT, 'tools', 'localcloud',
                                       'expire_soon.py'),
                          instance_id, str(seconds)]).strip()

    def service(self, action: str, name: str) -> None:
        self._run([sys.executable,
                   os.path.join(ROOT, 'tools', 'localcloud.py'), 'service',
                   action, name], timeout=90)
        if action == 'start' and name == 'osvmexpire-worker':
            wait_for('the worker consuming its pool queue',
                     self._worker_consumes, 60, interval=1)

    def _pool_queue(self) -> tuple[int, int]:
        """(consumers, messages) of the worker's pool queue."""
        vhost = self.env['CLOUD_RABBIT_URL'].rsplit('/', 1)[1]
        out = self._run(['rabbitmqctl', '-q', 'list_queues', '-p', vhost,
                         'name', 'consumers', 'messages_ready',
                         'messages_unacknowledged'], timeout=60)
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[0] == 'os_vm_expire':
                return int(parts[1]), int(parts[2]) + int(parts[3])
        return 0, 0

    def _worker_consumes(self) -> bool:
        return self._pool_queue()[0] > 0

    def worker_queue_empty(self) -> bool:
        consumers, messages = self._pool_queue()
        return consumers > 0 and messages == 0
