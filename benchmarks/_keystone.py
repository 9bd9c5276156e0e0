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
"""A throw-away real Keystone (PyPI, SQLite, fernet) for the API benchmark.

The virtualenv comes from ``tools/keystone-venv.sh``; the server runs under
gunicorn on 127.0.0.1 (port of 18400-18499) in a scratch directory that
:meth:`Keystone.stop` removes. Token issue is made cheap (in-memory cache,
4 bcrypt rounds) as the benchmark measures os-vm-expire, not Keystone.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

from benchmarks import _common as c

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = 'bench-%d' % os.getpid()


class Keystone:

    def __init__(self):
        out = subprocess.run([os.path.join(ROOT, 'tools', 'keystone-venv.sh')],
                             capture_output=True, text=True, timeout=900)
        if out.returncode != 0:
            raise RuntimeError('tools/keystone-venv.sh failed: %s'
                               % out.stderr[-2000:])
        self.venv = out.stdout.strip().splitlines()[-1]
        self.dir = tempfile.mkdtemp(prefix='osvmexpire-bench-ks-')
        self.port = c.free_port()
        self.url = 'http://%s:%d/v3' % (c.HOST, self.port)
        self.conf = os.path.join(self.dir, 'keystone.conf')
        self.proc = None
        self.ids = {}

    def _manage(self, *args: str) -> None:
        subprocess.run([os.path.join(self.venv, 'bin', 'keystone-manage'),
                        '--config-file', self.conf, *args], check=True,
                       capture_output=True, timeout=300)

    def start(self) -> 'Keystone':
        d = self.dir
        with open(self.conf, 'w') as f:
            f.write('\n'.join([
                '[DEFAULT]', 'log_file = %s/keystone.log' % d,
                '[database]', 'connection = sqlite:///%s/keystone.db' % d,
                '[token]', 'provider = fernet',
                '[fernet_tokens]', 'key_repository = %s/fernet-keys' % d,
                '[fernet_receipts]', 'key_repository = %s/fernet-rcpt' % d,
                '[credential]', 'key_repository = %s/credential-keys' % d,
                '[cache]', 'enabled = true', 'backend = dogpile.cache.memory',
                '[identity]', 'password_hash_rounds = 4', '']))
        with open(os.path.join(d, 'ks_wsgi.py'), 'w') as f:
            f.write('import sys\nsys.argv = sys.argv[:1]\n'
                    'from keystone.wsgi.api import application  # noqa\n')
        self._manage('db_sync')
        for step in ('fernet_setup', 'credential_setup'):
            self._manage(step, '--keystone-user', 'root',
                         '--keystone-group', 'root')
        self._manage('bootstrap', '--bootstrap-password', PASSWORD,
                     '--bootstrap-public-url', self.url + '/',
                     '--bootstrap-internal-url', self.url + '/',
                     '--bootstrap-admin-url', self.url + '/',
                     '--bootstrap-region-id', 'RegionOne')
        self.proc = subprocess.Popen(
            [os.path.join(self.venv, 'bin', 'gunicorn'), '--bind',
             '%s:%d' % (c.HOST, self.port), '--workers', '1', '--threads',
             '4', '--no-control-socket', '--chdir', d, 'ks_wsgi:application'],
            env=dict(os.environ, OS_KEYSTONE_CONFIG_FILES=self.conf),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        c.wait_for(self._up, 60, 0.2, 'Keystone on %s' % self.url)
        self._populate()
        return self

    def _up(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + '/', timeout=2):
                return True
        except OSError:
            return False

    def session(self, user: str, project: str):
        from keystoneauth1 import session
        from keystoneauth1.identity import v3
        return session.Session(auth=v3.Password(
            auth_url=self.url, username=user, password=PASSWORD,
            project_name=project, user_domain_id='default',
            project_domain_id='default'))

    def _populate(self) -> None:
        """Project ``bench`` with member ``bench``; ``svc`` for
        auth_token (service role on project ``service``)."""
        from keystoneclient.v3 import client
        ks = client.Client(session=self.session('admin', 'admin'))
        roles = {r.name: r for r in ks.roles.list()}
        for user, role, project in (('bench', 'member', 'bench'),
                                    ('svc', 'service', 'service')):
            proj = ks.projects.create(project, 'default')
            account = ks.users.create(user, domain='default',
                                      password=PASSWORD)
            ks.roles.grant(roles[role], user=account, project=proj)
            self.ids[project] = proj.id

    def authtoken_section(self) -> str:
        return '\n'.join([
            '[keystone_authtoken]', 'www_authenticate_uri = %s' % self.url,
            'auth_url = %s' % self.url, 'auth_type = password',
            'username = svc', 'password = %s' % PASSWORD,
            'project_name = service', 'user_domain_id = default',
            'project_domain_id = default', 'memcached_servers =', ''])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def wait_http(url: str, timeout: float = 60) -> None:
    """Until ``url`` answers anything (even 401)."""
    def up():
        try:
            urllib.request.urlopen(url, timeout=2).close()
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True
    c.wait_for(up, timeout, 0.2, url)
    time.sleep(0.2)
