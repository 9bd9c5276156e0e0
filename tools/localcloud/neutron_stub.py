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
"""A minimal Neutron API stub for the local cloud (test and demo only).

os-vm-expire never talks to Neutron, but Nova does: deleting a server
lists its ports, showing one lists security groups and networks. This
answers those reads with empty lists, enough for servers booted with
``networks='none'``. Usage: ``neutron_stub.py PORT``.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from urllib.parse import urlparse

COLLECTIONS = ('ports', 'networks', 'subnets', 'floatingips',
               'security-groups', 'trunks', 'routers')


def _version(port: int) -> dict:
    return {'versions': [{'id': 'v2.0', 'status': 'CURRENT', 'links': [
        {'rel': 'self', 'href': 'http://127.0.0.1:%d/v2.0/' % port}]}]}


class Handler(BaseHTTPRequestHandler):
    def _send(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        path = urlparse(self.path).path.rstrip('/')
        if path in ('', '/v2.0'):
            return self._send(200, _version(self.server.server_port))
        if path == '/v2.0/extensions':
            return self._send(200, {'extensions': []})
        for name in COLLECTIONS:
            if path == '/v2.0/' + name:
                return self._send(200, {name.replace('-', '_'): []})
        self._send(404, {'NeutronError': {'type': 'NotFound',
                                          'message': 'not found',
                                          'detail': ''}})

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get('Content-Length') or 0))
        self._send(404, {'NeutronError': {'type': 'NotFound',
                                          'message': 'stub: read only',
                                          'detail': ''}})

    do_PUT = do_DELETE = do_POST  # noqa: N815

    def log_message(self, fmt, *args) -> None:
        sys.stderr.write('neutron-stub %s\n' % (fmt % args))


if __name__ == '__main__':
    ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])),
                        Handler).serve_forever()
