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
"""The real os-vm-expire API application on a loopback port, for the
plugin's tests.

The API runs with ``[api] auth_strategy = noauth`` on a SQLite database.
A small layer in front of it turns a token ``user:project:roles`` into
the identity headers auth_token would set, so the real ``openstack``
shell (``--os-auth-type admin_token``) talks to it exactly as it talks to
a cloud: token in ``X-Auth-Token``, endpoint ``/v1/<project>``.
"""

import datetime
import os
import tempfile
import threading
import uuid
import wsgiref.simple_server

import pytest


class TokenToHeaders:
    """``X-Auth-Token: user:project:role,role`` → X-User-Id and friends."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        token = environ.pop('HTTP_X_AUTH_TOKEN', '')
        for key in ('HTTP_X_USER_ID', 'HTTP_X_PROJECT_ID', 'HTTP_X_ROLES'):
            environ.pop(key, None)
        if token:
            user, _, rest = token.partition(':')
            project, _, roles = rest.partition(':')
            environ['HTTP_X_USER_ID'] = user
            environ['HTTP_X_PROJECT_ID'] = project
            environ['HTTP_X_ROLES'] = roles or 'member,reader'
        return self.app(environ, start_response)


class _QuietHandler(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        pass


class Api:
    """The running API and a way to put records into its database."""

    def __init__(self, url, conf):
        self.url = url
        self.conf = conf

    def endpoint(self, project: str) -> str:
        return '%s/v1/%s' % (self.url, project)

    def add_record(self, project: str, user: str = 'u1',
                   days: int = 20, name: str = 'vm') -> dict:
        """A tracked server, straight into the database."""
        from osvmexpire import context
        from osvmexpire import expiration
        from osvmexpire.db import api as db_api

        now = db_api.utcnow()
        row = db_api.create_vmexpire(
            context.get_admin_context(), instance_id=str(uuid.uuid4()),
            project_id=project, user_id=user, instance_name=name,
            expire_at=now + datetime.timedelta(days=days),
            created_at=now - datetime.timedelta(days=1),
            settings=expiration.Settings.from_conf(self.conf))
        return {'id': row.id, 'instance_id': row.instance_id,
                'expire_at': row.expire_at}


@pytest.fixture(scope='session')
def api():
    from osvmexpire import service
    from osvmexpire.api import app as api_app
    from osvmexpire.db import migration

    tmp = tempfile.mkdtemp(prefix='osvmexpireclient-')
    conf_path = os.path.join(tmp, 'api.conf')
    with open(conf_path, 'w') as f:
        f.write('[database]\nconnection = sqlite:///%s/api.sqlite\n'
                '[api]\nauth_strategy = noauth\ndefault_limit = 3\n'
                % tmp)
    conf = service.new_config()
    service.prepare_service(['--config-file', conf_path], conf,
                            setup_logging=False)
    migration.upgrade('head')
    app = TokenToHeaders(api_app.setup_app(conf))
    server = wsgiref.simple_server.make_server(
        '127.0.0.1', 0, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Api('http://127.0.0.1:%d' % server.server_port, conf)
    server.shutdown()
    server.server_close()


@pytest.fixture
def project():
    """A project of its own for each test (the database is shared)."""
    return 'p-%s' % uuid.uuid4().hex[:10]
