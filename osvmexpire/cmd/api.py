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
"""osvmexpire-wsgi-api: the API on a small threaded development server.

    osvmexpire-wsgi-api [--config-file F] [--host H] [--port P]

Port: ``--port``, else OSVMEXPIRE_PORT, else ``[api] bind_port`` (8000).
Host: ``--host``, else ``[api] bind_host`` (127.0.0.1). Production runs
``osvmexpire.api.wsgi:application`` under uwsgi or gunicorn instead.
"""

import logging
import os
import signal
import socketserver
import sys
from wsgiref import simple_server

from oslo_config import cfg

from osvmexpire import exception
from osvmexpire import service
from osvmexpire.api import app
from osvmexpire.cmd import run

LOG = logging.getLogger(__name__)
PORT_ENV = 'OSVMEXPIRE_PORT'

CLI_OPTS = [
    cfg.HostAddressOpt('host', dest='wsgi_host',
                       help='Address to listen on (default: [api] '
                            'bind_host).'),
    cfg.PortOpt('port', dest='wsgi_port',
                help='Port to listen on (default: $OSVMEXPIRE_PORT, else '
                     '[api] bind_port).'),
]


class ThreadingWSGIServer(socketserver.ThreadingMixIn,
                          simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class QuietHandler(simple_server.WSGIRequestHandler):
    """Access lines go to the log, not raw to stderr."""

    def log_message(self, format, *args):
        LOG.info('%s %s', self.address_string(), format % args)


def listen_address(conf: cfg.ConfigOpts,
                   environ=os.environ) -> tuple[str, int]:
    """(host, port) from the command line, the environment, the config."""
    host = conf.wsgi_host or conf.api.bind_host
    port = conf.wsgi_port
    if port is None and environ.get(PORT_ENV):
        value = environ[PORT_ENV]
        if not value.isdigit() or not 0 < int(value) < 65536:
            raise exception.OsVmExpireError(
                '%s must be a TCP port number, not %r' % (PORT_ENV, value))
        port = int(value)
    if port is None:
        port = conf.api.bind_port
    return host, port


def _stop(signum, frame):
    raise SystemExit(0)


@run
def main(argv: list[str] | None = None) -> int:
    conf = service.new_config()
    conf.register_cli_opts(CLI_OPTS)
    service.prepare_service(argv, conf)
    host, port = listen_address(conf)
    application = app.setup_app(conf)
    try:
        server = simple_server.make_server(
            host, port, application, server_class=ThreadingWSGIServer,
            handler_class=QuietHandler)
    except OSError as exc:
        raise exception.OsVmExpireError('cannot listen on %s:%s: %s'
                                        % (host, port, exc.strerror))
    signal.signal(signal.SIGTERM, _stop)
    print('osvmexpire-wsgi-api: serving on http://%s:%d/ (development '
          'server)' % (host, server.server_port), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
