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
"""The WSGI application: the Pecan app inside its middleware, in one list.

A request goes down :data:`the stack <setup_app>` from the first layer to
the last and into Pecan; the answer comes back up the same way:

1. request id: every answer carries ``x-openstack-request-id``;
2. CORS ([cors] options), for browsers;
3. http_proxy_to_wsgi: honour X-Forwarded-Proto behind a TLS proxy
   ([oslo_middleware] enable_proxy_headers_parsing);
4. ``/healthcheck`` is answered here, without a token;
5. JSON faults: any error from below (auth_token's 401, a crash) leaves
   as ``{"code", "title", "description"}``, never as a traceback;
6. auth_token validates the token with Keystone (or, with
   ``[api] auth_strategy = noauth``, identity headers are trusted: tests
   only); ``GET /`` (the version document) skips it;
7. request bodies above ``[api] max_request_body_size`` (64 KiB) → 413;
8. Pecan, with the hooks of :mod:`osvmexpire.api.hooks`.
"""

import functools
import logging

import pecan
import pecan.util
import webob.multidict
from keystonemiddleware import auth_token
from oslo_config import cfg
from oslo_middleware import cors
from oslo_middleware import healthcheck
from oslo_middleware import http_proxy_to_wsgi
from oslo_middleware import request_id

from osvmexpire import policy
from osvmexpire.api import hooks
from osvmexpire.api import middleware
from osvmexpire.api.controllers import root
from osvmexpire.conf import service_credentials

LOG = logging.getLogger(__name__)
PUBLIC_PATHS = ('', '/')


class Request(pecan.Request):
    """Pecan would merge a JSON or form body into the controllers' arguments.

    Bodies are parsed and validated by the controllers only
    (:func:`osvmexpire.api.controllers.base.json_body`): a body field must
    never stand in for a path argument, and a malicious body (nested
    10,000 deep, a broken multipart form) must not crash routing. Pecan
    catches the ValueError of ``json`` and routes on the path and the
    query string alone.
    """

    @property
    def json(self):
        raise ValueError('request bodies are read by the controllers')

    @property
    def POST(self):
        return webob.multidict.NoVars('request bodies are read by the '
                                      'controllers')


@functools.lru_cache(maxsize=1024)
def _function_argspec(func):
    return _pecan_argspec(func)


_pecan_argspec = pecan.util._getargspec


def _cached_argspec(func):
    """Pecan's argspec of a controller, computed once per function.

    Pecan's RestController routing asks for the argspec of the same
    controller methods several times per request, and each time its
    helper builds a new namedtuple class (an ``eval``) around
    ``inspect.getfullargspec``: about a fifth of a single GET. A bound
    method has the argspec of its function (``self`` included).
    """
    target = getattr(func, '__func__', func)
    try:
        return _function_argspec(target)
    except TypeError:  # unhashable callable: no cache
        return _pecan_argspec(func)


def make_pecan_app(conf: cfg.ConfigOpts, enforcer=None):
    """The bare Pecan application (no authentication)."""
    enforcer = enforcer or policy.init(conf)
    # pecan.util.getargspec (routing) calls this module global; see above.
    pecan.util._getargspec = _cached_argspec
    return pecan.make_app(
        root.RootController(),
        hooks=[hooks.ConfigHook(conf, enforcer), hooks.ContextHook(),
               hooks.TransactionHook(), hooks.NoContentHook(),
               hooks.ErrorHook()],
        debug=False,
        force_canonical=False,
        guess_content_type_from_ext=False,
        request_cls=Request,
    )


def _auth(conf: cfg.ConfigOpts):
    # auth_token's call to Keystone has no deadline unless
    # http_connect_timeout is set: give it the one every other outbound
    # call has (rule 8), so a hung Keystone cannot hang API workers.
    for group, options in auth_token.list_opts():
        if group == 'keystone_authtoken':
            conf.register_opts(options, group=group)
    conf.set_default('http_connect_timeout',
                     service_credentials.DEFAULT_TIMEOUT,
                     group='keystone_authtoken')

    def layer(app):
        if conf.api.auth_strategy == 'noauth':
            LOG.warning('[api] auth_strategy = noauth: identity headers '
                        'are trusted without a token; for tests only')
            checked = middleware.NoAuth(app)
        else:
            checked = auth_token.AuthProtocol(
                app, {'oslo_config_config': conf})
        return middleware.PathRoute(checked, PUBLIC_PATHS, app)
    return layer


def setup_app(conf: cfg.ConfigOpts, enforcer=None):
    """Build the API's WSGI application for a parsed configuration."""
    stack = [
        lambda app: request_id.RequestId(app, conf),
        lambda app: cors.CORS(app, conf),
        lambda app: http_proxy_to_wsgi.HTTPProxyToWSGI(app, conf),
        lambda app: middleware.PathRoute(
            app, ('/healthcheck',), healthcheck.Healthcheck(None, conf),
            methods=('GET', 'HEAD')),
        middleware.FaultWrapper,
        _auth(conf),
        lambda app: middleware.BodySizeLimit(
            app, conf.api.max_request_body_size),
    ]
    app = make_pecan_app(conf, enforcer)
    for layer in reversed(stack):
        app = layer(app)
    return app
