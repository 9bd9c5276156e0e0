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
"""Pecan hooks: what every request gets before a controller runs.

- :class:`ConfigHook` puts the configuration, the policy enforcer and the
  expiry settings on ``pecan.request`` (no globals).
- :class:`ContextHook` builds the :class:`RequestContext` from the
  identity headers auth_token set, and decides once whether it is admin.
- :class:`TransactionHook` runs each /v1 request in one database
  transaction (reader for GET, writer otherwise): committed when the
  answer is a success, rolled back otherwise, so a state change and its
  audit event are stored together or not at all.
- :class:`ErrorHook` maps exceptions to the JSON error document.
"""

import logging

import webob
import webob.exc
from keystoneauth1 import exceptions as ks_exc
from novaclient import exceptions as nova_exc
from oslo_db import exception as db_exc
from pecan import hooks

from osvmexpire import context
from osvmexpire import exception
from osvmexpire import expiration
from osvmexpire import policy
from osvmexpire.api import middleware
from osvmexpire.db import api as db_api

LOG = logging.getLogger(__name__)


class ConfigHook(hooks.PecanHook):
    priority = 10

    def __init__(self, conf, enforcer):
        self.conf = conf
        self.enforcer = enforcer
        self.settings = expiration.Settings.from_conf(conf)

    def on_route(self, state):
        state.request.conf = self.conf
        state.request.enforcer = self.enforcer
        state.request.settings = self.settings


class ContextHook(hooks.PecanHook):
    priority = 20

    def on_route(self, state):
        req = state.request
        ctx = context.RequestContext.from_environ(req.environ)
        ctx.is_admin = policy.authorize(req.enforcer, ctx,
                                        'context_is_admin', {},
                                        do_raise=False)
        req.context['ctx'] = ctx


class _Rollback(Exception):
    """Thrown into the transaction to roll back an error answer."""


class TransactionHook(hooks.PecanHook):
    priority = 30
    READ_METHODS = ('GET', 'HEAD', 'OPTIONS')

    def before(self, state):
        req = state.request
        if not req.path_info.startswith('/v1/'):
            return
        facade = db_api.context_manager()
        mode = (facade.reader if req.method in self.READ_METHODS
                else facade.writer)
        txn = mode.using(req.context['ctx'])
        txn.__enter__()
        req.context['txn'] = txn

    def after(self, state):
        txn = state.request.context.pop('txn', None)
        if txn is None:
            return
        if state.response.status_int < 400:
            txn.__exit__(None, None, None)
        else:
            txn.__exit__(_Rollback, _Rollback(), None)

    def on_error(self, state, exc):
        txn = state.request.context.pop('txn', None)
        if txn is not None:
            txn.__exit__(type(exc), exc, exc.__traceback__)


def _http_error(exc: webob.exc.HTTPException, req) -> webob.Response:
    description = exc.detail
    headers = {}
    if 'Allow' in exc.headers:
        headers['Allow'] = exc.headers['Allow']
    if not description:
        if exc.code == 404:
            description = 'There is no resource at %s.' % req.path
        elif exc.code == 405:
            description = 'Method %s is not allowed on %s%s.' % (
                req.method, req.path, '; allowed: %s' % headers['Allow']
                if headers else '')
        else:
            description = exc.explanation
    return middleware.error_response(exc.code, str(description),
                                     title=exc.title, headers=headers)


# Domain errors and the answer each one gets.
_STATUS = (
    (exception.NotFound, 404),
    (exception.Conflict, 409),
    (policy.PolicyNotAuthorized, 403),
    (expiration.ExtensionRefused, 409),
    (expiration.InvalidExtension, 400),
)


class NoContentHook(hooks.PecanHook):
    """A 204 has no body, whatever the JSON renderer made of None."""

    def after(self, state):
        if state.response.status_int == 204:
            state.response.body = b''
            del state.response.content_type


class ErrorHook(hooks.PecanHook):
    """Every exception becomes ``{"code", "title", "description"}``."""

    priority = 1000

    def on_error(self, state, exc):
        if isinstance(exc, webob.exc.HTTPException):
            return _http_error(exc, state.request)
        for kind, code in _STATUS:
            if isinstance(exc, kind):
                text = str(exc)
                if kind is policy.PolicyNotAuthorized:
                    text = 'Policy does not allow %s.' % text
                return middleware.error_response(code, text)
        if isinstance(exc, db_exc.DBConnectionError):
            LOG.error('database unavailable: %s', exc)
            return middleware.error_response(
                503, 'The database is unavailable; retry later.')
        if isinstance(exc, (ks_exc.ClientException,
                            nova_exc.ClientException)):
            LOG.error('OpenStack service call failed: %s', exc)
            return middleware.error_response(
                503, 'A call to another OpenStack service failed: %s'
                     % type(exc).__name__)
        LOG.exception('unexpected error: %s %s', state.request.method,
                      state.request.path)
        return middleware.error_response(
            500, 'The server failed to process the request; the operator '
                 'can find the error in the logs under its request id.')
