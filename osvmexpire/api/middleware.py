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
"""Small WSGI layers of the API stack that oslo.middleware lacks.

Each one exists so that every answer of the API, even one produced
before the request reaches Pecan (no token, body too large, a crash), is
the JSON error document ``{"code", "title", "description"}``.
"""

import io
import json
import logging

import webob
import webob.exc

LOG = logging.getLogger(__name__)

JSON = 'application/json'


def error_response(code: int, description: str,
                   title: str | None = None,
                   headers: dict | None = None) -> webob.Response:
    """The JSON error document every failure of the API is answered with."""
    status = webob.exc.status_map.get(code)
    title = title or (status.title if status else 'Error')
    resp = webob.Response(status=code, content_type=JSON, charset=None)
    resp.text = json.dumps({'code': code, 'title': title,
                            'description': description})
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def _is_error_document(resp: webob.Response) -> bool:
    if resp.content_type != JSON:
        return False
    try:
        body = json.loads(resp.body)
    except ValueError:
        return False
    return isinstance(body, dict) and {'code', 'title',
                                       'description'} <= set(body)


def _describe(resp: webob.Response) -> str:
    """The message of an error body written by someone else."""
    text = ''
    try:
        body = json.loads(resp.body)
        if isinstance(body, dict):
            inner = body.get('error', body)
            if isinstance(inner, dict):
                text = (inner.get('message') or inner.get('description')
                        or inner.get('detail') or '')
    except ValueError:
        if resp.content_type == 'text/plain':
            text = resp.text.strip().splitlines()[-1] if resp.text else ''
    if not text:
        status = webob.exc.status_map.get(resp.status_int)
        text = getattr(status, 'explanation', '') or resp.status
    return str(text)


class FaultWrapper:
    """Turn any error response or exception into the JSON error document.

    auth_token answers 401 in its own JSON shape, and a crash anywhere
    below must not show a traceback: both are rewritten here. Headers such
    as WWW-Authenticate and Allow are kept.
    """

    KEEP = ('WWW-Authenticate', 'Allow', 'Retry-After')

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        req = webob.Request(environ)
        try:
            resp = req.get_response(self.app)
        except Exception:
            LOG.exception('unhandled error serving %s %s', req.method,
                          req.path)
            resp = error_response(
                500, 'The server failed to process the request; the '
                     'operator can find the error in the logs under its '
                     'request id.')
        if resp.status_int >= 400 and not _is_error_document(resp):
            headers = {name: resp.headers[name] for name in self.KEEP
                       if name in resp.headers}
            resp = error_response(resp.status_int, _describe(resp),
                                  headers=headers)
        return resp(environ, start_response)


class PathRoute:
    """Send exact paths to another WSGI app (healthcheck, version doc).

    With ``methods``, other methods on those paths are answered 405.
    """

    def __init__(self, app, paths, target, methods=None):
        self.app = app
        self.paths = frozenset(paths)
        self.target = target
        self.methods = tuple(methods) if methods else None

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO', '') not in self.paths:
            return self.app(environ, start_response)
        if self.methods and environ['REQUEST_METHOD'] not in self.methods:
            resp = error_response(
                405, 'Method %s is not allowed on %s; allowed: %s.'
                % (environ['REQUEST_METHOD'], environ['PATH_INFO'],
                   ', '.join(self.methods)),
                headers={'Allow': ', '.join(self.methods)})
            return resp(environ, start_response)
        return self.target(environ, start_response)


class NoAuth:
    """Trust the identity headers (``[api] auth_strategy = noauth``).

    For tests and development only: X-User-Id, X-Project-Id and X-Roles
    (comma separated) are taken as given, the way auth_token would set
    them. A request without X-Project-Id is refused with 401, as a request
    without a token would be.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if not environ.get('HTTP_X_PROJECT_ID'):
            resp = error_response(
                401, 'The request you have made requires authentication '
                     '(noauth mode: send X-Project-Id, X-User-Id and '
                     'X-Roles).')
            return resp(environ, start_response)
        environ['HTTP_X_IDENTITY_STATUS'] = 'Confirmed'
        environ.setdefault('HTTP_X_ROLES', '')
        environ.setdefault('HTTP_X_USER_ID', 'noauth-user')
        return self.app(environ, start_response)


class BodySizeLimit:
    """Refuse request bodies larger than ``limit`` bytes with 413.

    Bodies of unknown length (chunked) are read up to the limit, so a
    client cannot stream an endless body either.
    """

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    def _too_large(self, environ, start_response):
        resp = error_response(
            413, 'The request body is larger than the limit of %d bytes.'
                 % self.limit)
        return resp(environ, start_response)

    def __call__(self, environ, start_response):
        length = environ.get('CONTENT_LENGTH')
        if length:
            try:
                size = int(length)
            except ValueError:
                resp = error_response(400, 'Invalid Content-Length header.')
                return resp(environ, start_response)
            if size > self.limit:
                return self._too_large(environ, start_response)
        elif environ.get('HTTP_TRANSFER_ENCODING', '').lower() == 'chunked':
            data = environ['wsgi.input'].read(self.limit + 1)
            if len(data) > self.limit:
                return self._too_large(environ, start_response)
            environ['wsgi.input'] = io.BytesIO(data)
            environ['CONTENT_LENGTH'] = str(len(data))
            environ.pop('HTTP_TRANSFER_ENCODING', None)
        return self.app(environ, start_response)
