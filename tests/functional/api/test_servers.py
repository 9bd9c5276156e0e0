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
"""The API served by real HTTP servers (noauth, SQLite built by migrations).

``osvmexpire-wsgi-api`` (port from OSVMEXPIRE_PORT, overridden by --port)
and ``gunicorn osvmexpire.api.wsgi:application``. The same with a real
Keystone is in test_keystone.py.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests import fixtures
from tests.functional.api import base
from tests.functional.api.keystone_server import free_port

BIN = os.path.dirname(sys.executable)


@pytest.fixture
def served_db(tmp_path):
    with fixtures.Database('sqlite', schema='migrations') as db:
        rows = base.seed()
        conf = tmp_path / 'osvmexpire.conf'
        conf.write_text('[database]\nconnection = %s\n[api]\n'
                        'auth_strategy = noauth\n' % db.url)
        yield str(conf), rows


def _request(url, method='GET', headers=None, body=None):
    req = urllib.request.Request(url, method=method, headers=headers or {},
                                 data=body)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


class Server:
    def __init__(self, argv, env, port):
        self.url = 'http://127.0.0.1:%d' % port
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise AssertionError('server exited: %s'
                                     % self.proc.stdout.read().decode())
            try:
                _request(self.url + '/')
                return
            except OSError:
                assert time.monotonic() < deadline, 'server did not start'
                time.sleep(0.2)

    def stop(self) -> str:
        os.killpg(self.proc.pid, signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        return out.decode()


def _exercise(url, rows):
    status, headers, body = _request(url + '/')
    assert status == 300 and b'"v1"' in body
    assert headers['x-openstack-request-id'].startswith('req-')
    member = {k: v for k, v in base.MEMBER.items()}
    status, _, body = _request(url + '/v1/p1/vmexpires/', headers=member)
    assert status == 200 and json.loads(body)['total'] == 3
    row = rows['a']
    status, _, body = _request(
        url + '/v1/p1/vmexpires/' + row.id, 'PUT',
        dict(member, **{'Content-Type': 'application/json'}),
        b'{"days": 30}')
    assert status == 202, body
    assert json.loads(body)['vmexpire']['extensions'] == 1
    status, _, body = _request(
        url + '/v1/p1/vmexpires/' + row.id, 'PUT',
        dict(member, **{'Content-Type': 'application/json'}),
        b'x' * 70000)
    assert status == 413 and json.loads(body)['code'] == 413
    status, _, body = _request(url + '/healthcheck')
    assert status == 200


def test_dev_server_port_from_env_and_cli(served_db):
    conf, rows = served_db
    env_port, cli_port = free_port(), free_port()
    env = dict(os.environ, OSVMEXPIRE_CONFIG=conf,
               OSVMEXPIRE_PORT=str(env_port))
    server = Server([os.path.join(BIN, 'osvmexpire-wsgi-api')], env,
                    env_port)
    try:
        _exercise(server.url, rows)
    finally:
        out = server.stop()
    assert 'serving on http://127.0.0.1:%d/' % env_port in out
    assert server.proc.returncode == 0
    # --port wins over OSVMEXPIRE_PORT.
    server = Server([os.path.join(BIN, 'osvmexpire-wsgi-api'), '--port',
                     str(cli_port)], env, cli_port)
    try:
        status, _, _ = _request(server.url + '/')
        assert status == 300
    finally:
        out = server.stop()
    assert 'serving on http://127.0.0.1:%d/' % cli_port in out


def test_dev_server_bad_input_is_one_line(served_db):
    conf, _ = served_db
    env = dict(os.environ, OSVMEXPIRE_CONFIG=conf, OSVMEXPIRE_PORT='99999')
    result = subprocess.run([os.path.join(BIN, 'osvmexpire-wsgi-api')],
                            env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "osvmexpire-wsgi-api: error: OSVMEXPIRE_PORT must be a TCP port "
        "number, not '99999'"]
    # A port already in use.
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [os.path.join(BIN, 'osvmexpire-wsgi-api'), '--port', str(port)],
            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert 'cannot listen on 127.0.0.1:%d' % port in result.stderr
    assert 'Traceback' not in result.stderr


def test_gunicorn_serves_the_wsgi_module(served_db):
    conf, rows = served_db
    port = free_port()
    env = dict(os.environ, OSVMEXPIRE_CONFIG=conf)
    server = Server([os.path.join(BIN, 'gunicorn'), '--bind',
                     '127.0.0.1:%d' % port, '--workers', '2', '--threads',
                     '2', '--graceful-timeout', '3', '--no-control-socket',
                     'osvmexpire.api.wsgi:application'], env, port)
    try:
        _exercise(server.url, rows)
    finally:
        server.stop()
