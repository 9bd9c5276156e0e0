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
"""The small WSGI layers, each against a tiny inner app."""

import io
import json

import webob
import webtest
from webob.util import status_reasons

from osvmexpire.api import middleware


def _inner(status=200, body=b'{}', content_type='application/json',
           headers=None, boom=False):
    def app(environ, start_response):
        if boom:
            raise RuntimeError('secret detail')
        start_response('%d %s' % (status, status_reasons[status]),
                       [('Content-Type', content_type)]
                       + list((headers or {}).items()))
        return [body]
    return app


def test_fault_wrapper_rewrites_foreign_errors_and_keeps_headers():
    body = json.dumps({'error': {'code': 401, 'title': 'Unauthorized',
                                 'message': 'The request you have made '
                                            'requires authentication.'}})
    app = webtest.TestApp(middleware.FaultWrapper(_inner(
        401, body.encode(), headers={'WWW-Authenticate': 'Keystone uri=x'})))
    resp = app.get('/', status=401)
    assert resp.json == {'code': 401, 'title': 'Unauthorized',
                         'description': 'The request you have made '
                                        'requires authentication.'}
    assert resp.headers['WWW-Authenticate'] == 'Keystone uri=x'


def test_fault_wrapper_hides_crashes_and_plain_text():
    resp = webtest.TestApp(middleware.FaultWrapper(_inner(boom=True))).get(
        '/', status=500)
    assert resp.json['code'] == 500
    assert 'secret' not in resp.text and 'Traceback' not in resp.text
    resp = webtest.TestApp(middleware.FaultWrapper(_inner(
        503, b'Service down\n', 'text/plain'))).get('/', status=503)
    assert resp.json == {'code': 503, 'title': 'Service Unavailable',
                         'description': 'Service down'}
    # Successes and our own error documents pass untouched.
    ours = middleware.error_response(404, 'no such thing').body
    resp = webtest.TestApp(middleware.FaultWrapper(_inner(404, ours))).get(
        '/', status=404)
    assert resp.body == ours


def test_body_size_limit():
    app = webtest.TestApp(middleware.BodySizeLimit(_inner(), 10))
    app.post('/', b'x' * 10, status=200)
    resp = app.post('/', b'x' * 11, status=413)
    assert resp.json['code'] == 413 and '10 bytes' in resp.json['description']


def test_body_size_limit_chunked():
    seen = {}

    def inner(environ, start_response):
        seen['body'] = environ['wsgi.input'].read()
        start_response('200 OK', [])
        return [b'']
    limiter = middleware.BodySizeLimit(inner, 10)
    for data, status in ((b'x' * 11, 413), (b'x' * 5, 200)):
        req = webob.Request.blank('/', method='POST')
        req.environ.pop('CONTENT_LENGTH', None)
        req.environ['HTTP_TRANSFER_ENCODING'] = 'chunked'
        req.environ['wsgi.input'] = io.BytesIO(data)
        assert req.get_response(limiter).status_int == status
    assert seen['body'] == b'x' * 5


def test_noauth_needs_a_project():
    app = webtest.TestApp(middleware.NoAuth(_inner()))
    assert app.get('/', status=401).json['code'] == 401
    app.get('/', headers={'X-Project-Id': 'p'}, status=200)


def test_path_route_limits_methods():
    target = _inner(body=b'"target"')
    app = webtest.TestApp(middleware.PathRoute(_inner(), ('/h',), target,
                                               methods=('GET',)))
    assert app.get('/h').json == 'target'
    assert app.get('/other').json == {}
    resp = app.post('/h', status=405)
    assert resp.headers['Allow'] == 'GET'
