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
"""Real servers on 127.0.0.1 for the cleaner's functional tests.

* :class:`SmtpServer`: aiosmtpd in this process (plain, STARTTLS, implicit
  TLS, AUTH); records each message as received and can refuse recipients.
* :class:`FakeCloud`: a small HTTP Keystone v3 + Nova v2.1 stand-in, so
  keystoneauth1, python-keystoneclient and python-novaclient do real HTTP
  (token, catalog, microversion headers, timeouts). Faults are injected
  per request: status codes, delays, a blocking gate.
"""

import email
import email.policy
import json
import re
import socket
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from keystoneauth1 import loading as ks_loading


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def make_cert(directory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 / localhost."""
    cert, key = str(directory / 'cert.pem'), str(directory / 'key.pem')
    subprocess.run(
        ['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
         '-days', '2', '-subj', '/CN=localhost', '-keyout', key, '-out',
         cert, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
        check=True, capture_output=True)
    return cert, key


class Received:
    def __init__(self, envelope):
        self.mail_from = envelope.mail_from
        self.rcpt_tos = list(envelope.rcpt_tos)
        self.raw = envelope.original_content or envelope.content
        self.message = email.message_from_bytes(
            self.raw, policy=email.policy.default)

    def text(self) -> str:
        body = self.message.get_body(('plain',)).get_content()
        return body.replace('\r\n', '\n')        # SMTP wire line ends


class _Handler:
    def __init__(self, server):
        self.server = server

    async def handle_RCPT(self, srv, session, envelope, address, options):
        if address in self.server.refuse:
            return '550 5.1.1 <%s>: mailbox unavailable' % address
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, srv, session, envelope):
        with self.server.lock:
            self.server.messages.append(Received(envelope))
        return '250 Message accepted for delivery'


class SmtpServer:
    def __init__(self, port=None, **smtp_kwargs):
        self.port = port or free_port()
        self.running = False
        self.messages: list[Received] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()
        self.controller = Controller(_Handler(self), hostname='127.0.0.1',
                                     port=self.port, **smtp_kwargs)

    def start(self):
        self.controller.start()
        self.running = True
        return self

    def stop(self):
        if self.running:
            self.running = False
            self.controller.stop()

    def to(self, addr) -> list[Received]:
        return [m for m in self.messages if m.message['To'] == addr]


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login == user.encode()
              and auth_data.password == password.encode())
        return AuthResult(success=ok)
    return check


# -- Keystone + Nova over HTTP ----------------------------------------------


class FakeCloud:
    """One HTTP server: /identity/v3 (Keystone) and /compute/v2.1 (Nova)."""

    def __init__(self):
        self.users = {}
        self.projects = {}
        self.servers = {}
        self.requests = []            # (method, path, headers)
        self.deleted = []
        self.faults = []              # [regex, method, action, remaining]
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), self._handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = 'http://127.0.0.1:%d' % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    # data
    def add_user(self, user_id, email='%s@example.org', domain='default'):
        if email and '%s' in email:
            email = email % user_id
        self.users[user_id] = {'id': user_id, 'name': 'user-' + user_id,
                               'email': email, 'domain_id': domain,
                               'enabled': True}

    def add_project(self, project_id, domain='default'):
        self.projects[project_id] = {'id': project_id,
                                     'name': 'proj-' + project_id,
                                     'domain_id': domain, 'enabled': True}

    def add_server(self, server_id, project_id, locked=False):
        self.servers[server_id] = {'id': server_id, 'name': 's-' + server_id,
                                   'tenant_id': project_id, 'locked': locked,
                                   'status': 'ACTIVE', 'user_id': 'u1'}

    def fault(self, pattern, action, method=None, times=None):
        """action: int status | ('sleep', s) | ('gate', threading.Event)."""
        with self.lock:
            self.faults.append([re.compile(pattern), method, action, times])

    def clear_faults(self):
        with self.lock:
            self.faults.clear()

    def calls(self, method=None, prefix='/compute'):
        return [(m, p) for m, p, _ in self.requests
                if p.startswith(prefix) and (method is None or m == method)]

    def credentials(self, timeout=3) -> dict:
        """[service_credentials] for this cloud."""
        return {
            'auth_type': 'v3password',
            'auth_url': self.url + '/identity/v3',
            'username': 'svc', 'password': 'svcpass',
            'project_name': 'service', 'user_domain_id': 'default',
            'project_domain_id': 'default', 'timeout': timeout,
        }

    def configure(self, conf, timeout=3):
        """Point a parsed ConfigOpts at this cloud (as a config file
        would: the auth plugin's options are registered first)."""
        conf.register_opts(
            ks_loading.get_auth_plugin_conf_options('v3password'),
            group='service_credentials')
        for name, value in self.credentials(timeout).items():
            conf.set_override(name, value, group='service_credentials')
        return conf

    def config_file_section(self, timeout=3) -> str:
        return '[service_credentials]\n' + ''.join(
            '%s = %s\n' % kv for kv in self.credentials(timeout).items())

    # HTTP
    def _handler(cloud):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def _send(self, code, body=None, headers=None):
                data = json.dumps(body).encode() if body is not None else b''
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if data:
                    self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _fault(self):
                with cloud.lock:
                    for f in cloud.faults:
                        regex, method, action, times = f
                        if method and method != self.command:
                            continue
                        if not regex.search(self.path):
                            continue
                        if times is not None:
                            if times <= 0:
                                continue
                            f[3] = times - 1
                        return action
                return None

            def _route(self):
                length = int(self.headers.get('Content-Length') or 0)
                if length:
                    self.rfile.read(length)
                with cloud.lock:
                    cloud.requests.append((self.command, self.path,
                                           dict(self.headers)))
                action = self._fault()
                if isinstance(action, tuple) and action[0] == 'sleep':
                    time.sleep(action[1])
                elif isinstance(action, tuple) and action[0] == 'gate':
                    action[1].wait(60)
                elif isinstance(action, int):
                    return self._send(action, {'error': {
                        'code': action, 'message': 'injected fault'}})
                path = self.path.split('?')[0].rstrip('/')
                if path.startswith('/identity'):
                    return self._identity(path[len('/identity'):])
                if path.startswith('/compute/v2.1'):
                    return self._compute(path[len('/compute/v2.1'):])
                self._send(404, {'error': 'no route'})

            def _identity(self, path):
                if path == '/v3' and self.command == 'GET':
                    return self._send(200, {'version': {
                        'id': 'v3.14', 'status': 'stable', 'links': [
                            {'rel': 'self',
                             'href': cloud.url + '/identity/v3/'}]}})
                if path == '/v3/auth/tokens' and self.command == 'POST':
                    now = time.time()
                    fmt = '%Y-%m-%dT%H:%M:%S.000000Z'
                    token = {
                        'methods': ['password'],
                        'user': {'id': 'svc', 'name': 'svc',
                                 'domain': {'id': 'default',
                                            'name': 'Default'}},
                        'project': {'id': 'service', 'name': 'service',
                                    'domain': {'id': 'default',
                                               'name': 'Default'}},
                        'roles': [{'id': 'r', 'name': 'admin'}],
                        'issued_at': time.strftime(fmt, time.gmtime(now)),
                        'expires_at': time.strftime(
                            fmt, time.gmtime(now + 3600)),
                        'catalog': [
                            {'type': 'identity', 'name': 'keystone',
                             'id': 'k', 'endpoints': [{
                                 'id': 'k1', 'interface': 'public',
                                 'region': 'RegionOne',
                                 'region_id': 'RegionOne',
                                 'url': cloud.url + '/identity/v3'}]},
                            {'type': 'compute', 'name': 'nova', 'id': 'n',
                             'endpoints': [{
                                 'id': 'n1', 'interface': 'public',
                                 'region': 'RegionOne',
                                 'region_id': 'RegionOne',
                                 'url': cloud.url + '/compute/v2.1'}]}]}
                    return self._send(201, {'token': token}, {
                        'X-Subject-Token': uuid.uuid4().hex})
                m = re.fullmatch(r'/v3/(users|projects)/([^/]+)', path)
                if m and self.command == 'GET':
                    table = (cloud.users if m.group(1) == 'users'
                             else cloud.projects)
                    item = table.get(m.group(2))
                    if item is None:
                        return self._send(404, {'error': {
                            'code': 404, 'message': 'Could not find it.'}})
                    return self._send(200, {m.group(1)[:-1]: item})
                self._send(404, {'error': {'code': 404, 'message': path}})

            def _compute(self, path):
                m = re.fullmatch(r'/servers/([^/]+)', path)
                if not m:
                    return self._send(404, {'itemNotFound': {
                        'code': 404, 'message': path}})
                sid = m.group(1)
                with cloud.lock:
                    server = cloud.servers.get(sid)
                    if server is not None and self.command == 'DELETE':
                        del cloud.servers[sid]
                        cloud.deleted.append(sid)
                if server is None:
                    return self._send(404, {'itemNotFound': {
                        'code': 404,
                        'message': 'Instance %s could not be found.' % sid}})
                if self.command == 'GET':
                    version = self.headers.get(
                        'X-OpenStack-Nova-API-Version', '2.1')
                    body = dict(server)
                    if tuple(map(int, version.split('.'))) < (2, 9):
                        body.pop('locked')
                    return self._send(200, {'server': body})
                if self.command == 'DELETE':
                    return self._send(204)
                self._send(405, {'error': 'method'})

            do_GET = do_POST = do_DELETE = do_PUT = _route
        return Handler
