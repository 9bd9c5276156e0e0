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
"""Helpers every controller uses: who asks, may they, what did they send."""

import json

import pecan
import webob.exc

from osvmexpire import context
from osvmexpire import policy
from osvmexpire.api import schemas


def ctx() -> context.RequestContext:
    return pecan.request.context['ctx']


def path_project() -> str:
    """The project of the URL (/v1/{project_id}/...), checked against the
    token by the V1 controller."""
    return pecan.request.context['project_id']


def authorize(rule: str, project_id: str) -> None:
    """Policy check on a target built from the row's (or path's) project."""
    policy.authorize(pecan.request.enforcer, ctx(), rule,
                     {'project_id': project_id})


def scope() -> str | None:
    """The project records are looked up in: the token's, or any (admin)."""
    current = ctx()
    return None if current.is_admin else current.project_id


def base_url() -> str:
    """Where clients reach the API: [api] public_endpoint or this host."""
    public = pecan.request.conf.api.public_endpoint
    return (public or pecan.request.application_url).rstrip('/')


def json_body(schema: dict, required: bool = False) -> dict:
    """The request's JSON object, validated against ``schema``.

    No body (or an empty one) is ``{}`` unless ``required``. A body that
    is not declared as JSON is 415; one that does not parse is 400.
    """
    req = pecan.request
    raw = req.body
    if not raw:
        if required:
            raise schemas.bad_request('A JSON request body is required.')
        body = {}
    else:
        if req.content_type != 'application/json':
            raise webob.exc.HTTPUnsupportedMediaType(
                detail='The request body must be JSON, sent with '
                       '"Content-Type: application/json" (got %r).'
                       % (req.content_type or 'none'))
        try:
            body = json.loads(raw.decode('utf-8'))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise schemas.bad_request('Malformed JSON in request body: %s'
                                      % exc)
    schemas.validate(body, schema)
    return body


def set_status(code: int) -> None:
    pecan.response.status = code


def not_allowed(allow: str) -> webob.exc.HTTPMethodNotAllowed:
    return webob.exc.HTTPMethodNotAllowed(headers={'Allow': allow})


def only_get() -> None:
    """Read-only documents answer 405 to any other method."""
    if pecan.request.method not in ('GET', 'HEAD'):
        raise not_allowed('GET, HEAD')
