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
"""A real Keystone (PyPI ``keystone``, SQLite, fernet) under gunicorn.

Its virtualenv is made by ``tools/keystone-venv.sh`` (run here if needed).
Keystone listens on 127.0.0.1 on a free port, in a scratch directory that
:meth:`Keystone.stop` removes. :meth:`Keystone.populate` creates the
accounts of the access-matrix tests::

    admin    admin role on project admin (from bootstrap)
    member   member of project "owner"   (member implies reader)
    reader   reader of project "owner"
    other    member of project "other"
    svc      service role on project "service" (auth_token's own account)

Run as a script to keep one running for manual tests (curl): it prints
the URL, the ids and the passwords, and stops on Ctrl-C.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
PASSWORD = 'Secret-%s' % os.getpid()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def keystone_venv() -> str:
    """The Keystone virtualenv, created on first use (fails loudly)."""
    result = subprocess.run(
        [os.path.join(ROOT, 'tools', 'keystone-venv.sh')],
        capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise RuntimeError('tools/keystone-venv.sh failed:\n%s\n%s'
                           % (result.stdout[-3000:], result.stderr[-3000:]))
    return result.stdout.strip().splitlines()[-1]


class Keystone:

    def __init__(self):
        self.venv = keystone_venv()
        self.dir = tempfile.mkdtemp(prefix='osvmexpire-keystone-')
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d/v3' % self.port
        self.proc = None
        self.ids = {}
        self._configure()

    def _manage(self, *args):
        cmd = [os.path.join(self.venv, 'bin', 'keystone-manage'),
               '--config-file', self.conf] + list(args)
        result = subprocess.run(cmd, capture_output=True, text=True,
                                timeout=300)
        if result.returncode != 0:
            raise RuntimeError('%s failed:\n%s' % (' '.join(args),
                                                   result.stderr[-3000:]))

    def _configure(self):
        d = self.dir
        self.conf = os.path.join(d, 'keystone.conf')
        with open(self.conf, 'w') as f:
            f.write('\n'.join([
                '[DEFAULT]', 'log_file = %s/keystone.log' % d,
                '[database]', 'connection = sqlite:///%s/keystone.db' % d,
                '[token]', 'provider = fernet', 'expiration = 3600',
                '[fernet_tokens]', 'key_repository = %s/fernet-keys' % d,
                '[fernet_receipts]', 'key_repository = %s/fernet-receipts' % d,
                '[credential]', 'key_repository = %s/credential-keys' % d,
                '[cache]', 'enabled = true',
                'backend = dogpile.cache.memory',
                '[identity]', 'password_hash_rounds = 4', '']))
        with open(os.path.join(d, 'ks_wsgi.py'), 'w') as f:
            # keystone's oslo.config would parse gunicorn's arguments.
            f.write('import sys\nsys.argv = sys.argv[:1]\n'
                    'from keystone.wsgi.api import application  # noqa\n')
        self._manage('db_sync')
        for what in ('fernet_setup', 'credential_setup'):
            self._manage(what, '--keystone-user', 'root',
                         '--keystone-group', 'root')
        self._manage('bootstrap', '--bootstrap-password', PASSWORD,
                     '--bootstrap-admin-url', self.url + '/',
                     '--bootstrap-internal-url', self.url + '/',
                     '--bootstrap-public-url', self.url + '/',
                     '--bootstrap-region-id', 'RegionOne')

    def start(self, timeout: float = 60) -> None:
        env = dict(os.environ, OS_KEYSTONE_CONFIG_FILES=self.conf)
        self.log = open(os.path.join(self.dir, 'gunicorn.log'), 'wb')
        self.proc = subprocess.Popen(
            [os.path.join(self.venv, 'bin', 'gunicorn'),
             '--bind', '127.0.0.1:%d' % self.port, '--workers', '1',
             '--threads', '4', '--timeout', '60', '--graceful-timeout', '3',
             '--no-control-socket',
             '--chdir', self.dir, 'ks_wsgi:application'],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + '/', timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop(keep=True)
        raise RuntimeError('Keystone did not answer on %s; see %s'
                           % (self.url, self.dir))

    def session(self, username: str, password: str, project: str,
                project_domain: str = 'default'):
        from keystoneauth1 import session
        from keystoneauth1.identity import v3
        auth = v3.Password(auth_url=self.url, username=username,
                           password=password, project_name=project,
                           user_domain_id='default',
                           project_domain_id=project_domain)
        return session.Session(auth=auth)

    def token(self, username: str, project: str) -> str:
        password = PASSWORD
        return self.session(username, password, project).get_token()

    def populate(self) -> dict:
        """Projects, users and roles of the access matrix; returns ids."""
        from keystoneclient.v3 import client
        ks = client.Client(session=self.session('admin', PASSWORD, 'admin'))
        roles = {r.name: r for r in ks.roles.list()}
        projects = {p.name: p for p in ks.projects.list()}
        for name in ('owner', 'other', 'service'):
            if name not in projects:
                projects[name] = ks.projects.create(name, 'default')
        grants = [('member', 'member', 'owner'), ('reader', 'reader', 'owner'),
                  ('other', 'member', 'other'), ('svc', 'service', 'service')]
        for user, role, project in grants:
            account = ks.users.create(user, domain='default',
                                      password=PASSWORD,
                                      email='%s@example.org' % user)
            ks.roles.grant(roles[role], user=account,
                           project=projects[project])
            self.ids[user] = account.id
        for name, project in projects.items():
            self.ids['project:' + name] = project.id
        return self.ids

    def __enter__(self) -> 'Keystone':
        """Started and populated with the tests' accounts; stopped (and
        its directory removed) on exit."""
        try:
            self.start()
            self.populate()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self, keep: bool = False) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if getattr(self, 'log', None):
            self.log.close()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def authtoken_section(self) -> str:
        """[keystone_authtoken] of an os-vm-expire configuration file."""
        return '\n'.join([
            '[keystone_authtoken]',
            'www_authenticate_uri = %s' % self.url,
            'auth_url = %s' % self.url,
            'auth_type = password',
            'username = svc',
            'password = %s' % PASSWORD,
            'project_name = service',
            'user_domain_id = default',
            'project_domain_id = default',
            'memcached_servers =',
            '']) + '\n'


def main() -> int:
    ks = Keystone()
    try:
        ks.start()
        ids = ks.populate()
        print('keystone: %s (state %s)' % (ks.url, ks.dir))
        print('password of every account: %s' % PASSWORD)
        for key, value in sorted(ids.items()):
            print('%s = %s' % (key, value))
        with open(os.path.join(ks.dir, 'authtoken.conf'), 'w') as f:
            f.write(ks.authtoken_section())
        print('[keystone_authtoken] section: %s/authtoken.conf' % ks.dir,
              flush=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        ks.stop()
    return 0


if __name__ == '__main__':
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    sys.exit(main())
