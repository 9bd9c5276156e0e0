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
"""What a valid request looks like: JSON bodies, ids and query strings.

Everything a client sends is checked here before it reaches the
database, so bad input is a 400 that names the problem, never a 500 from
a backend that dislikes a NUL byte or a 70-character id.
"""

import datetime
import re
import uuid

import jsonschema
import webob.exc
from oslo_utils import strutils

# Keystone ids (hex, "default", LDAP names such as "j.doe@example.org"),
# at most 64 characters: what the id columns (String(64)) hold. Anything
# else (control characters, NUL, lone surrogates...) never reaches the DB.
ID_PATTERN = r'^[A-Za-z0-9_.@:-]{1,64}$'
_ID_RE = re.compile(ID_PATTERN)

EXCLUDE_TYPES = ('domain', 'project', 'user')


def extend_schema(max_days: int) -> dict:
    """Body of PUT /vmexpires/{id}: optional ``days``, 1..max_vm_extend."""
    return {
        'type': 'object',
        'properties': {
            'days': {'type': 'integer', 'minimum': 1, 'maximum': max_days},
        },
        'additionalProperties': False,
    }


EXCLUDE_CREATE = {
    'type': 'object',
    'properties': {
        'id': {'type': 'string', 'pattern': ID_PATTERN},
        'type': {'type': 'string', 'enum': list(EXCLUDE_TYPES)},
    },
    'required': ['id', 'type'],
    'additionalProperties': False,
}

# POST /vmexpires/{instance_id}: everything is in the path.
TRACK = {'type': 'object', 'properties': {}, 'additionalProperties': False}


def bad_request(message: str) -> webob.exc.HTTPBadRequest:
    return webob.exc.HTTPBadRequest(detail=message)


def validate(body, schema: dict) -> None:
    """Raise 400 naming the first problem of ``body``."""
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is None:
        return
    where = '/'.join(str(p) for p in error.absolute_path)
    if error.validator == 'pattern':
        message = ('%r is not a valid id: 1 to 64 letters, digits or '
                   '"_.@:-"' % error.instance)
    else:
        message = error.message
    raise bad_request('Invalid request body%s: %s'
                      % (' at "%s"' % where if where else '', message))


def uuid_id(value: str, what: str = 'id') -> str:
    """The canonical (dashed, lower case) form of a UUID, else 400."""
    try:
        return str(uuid.UUID(value))
    except (TypeError, ValueError):
        raise bad_request('%s %r is not a UUID' % (what, value))


def text_id(value: str, what: str = 'id') -> str:
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise bad_request('%s %r is not valid: 1 to 64 letters, digits '
                          'or "_.@:-"' % (what, value))
    return value


def _one(params, name: str) -> str | None:
    values = params.getall(name)
    if not values:
        return None
    if len(values) > 1:
        raise bad_request('query parameter %s given more than once' % name)
    return values[0]


def _int(value: str, name: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise bad_request('%s must be an integer, not %r' % (name, value))
    if number < minimum:
        raise bad_request('%s must be at least %d' % (name, minimum))
    return number


def _datetime(value: str, name: str) -> datetime.datetime:
    try:
        when = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise bad_request('%s must be an ISO 8601 date and time such as '
                          '2030-01-31T12:00:00Z, not %r' % (name, value))
    if when.tzinfo is not None:
        try:
            when = when.astimezone(datetime.UTC).replace(tzinfo=None)
        except OverflowError:
            raise bad_request('%s is out of range: %r' % (name, value))
    return when


def _bool(value: str, name: str) -> bool:
    try:
        return strutils.bool_from_string(value, strict=True)
    except ValueError:
        raise bad_request('%s must be a boolean (1/0, true/false), not %r'
                          % (name, value))


LIST_PARAMS = ('limit', 'marker', 'instance_id', 'user_id',
               'expire_before', 'all_tenants')


def list_query(params, default_limit: int, max_limit: int) -> dict:
    """Parse the query string of GET /vmexpires/ (400 on anything odd).

    ``limit`` above ``max_limit`` is clamped, as the option says.
    """
    unknown = sorted(set(params) - set(LIST_PARAMS))
    if unknown:
        raise bad_request('unknown query parameter(s): %s; known: %s'
                          % (', '.join(unknown), ', '.join(LIST_PARAMS)))
    result = {'limit': default_limit, 'marker': None, 'instance_id': None,
              'user_id': None, 'expire_before': None, 'all_tenants': False}
    value = _one(params, 'limit')
    if value is not None:
        result['limit'] = min(_int(value, 'limit', 1), max_limit)
    value = _one(params, 'marker')
    if value is not None:
        result['marker'] = uuid_id(value, 'marker')
    value = _one(params, 'instance_id')
    if value is not None:
        result['instance_id'] = uuid_id(value, 'instance_id')
    value = _one(params, 'user_id')
    if value is not None:
        result['user_id'] = text_id(value, 'user_id')
    value = _one(params, 'expire_before')
    if value is not None:
        result['expire_before'] = _datetime(value, 'expire_before')
    value = _one(params, 'all_tenants')
    if value is not None:
        result['all_tenants'] = _bool(value, 'all_tenants')
    return result


def no_query(params) -> None:
    """Routes without query parameters refuse any (clear 400)."""
    if list(params):
        raise bad_request('unknown query parameter(s): %s'
                          % ', '.join(sorted(set(params))))


def exclude_query(params) -> str | None:
    unknown = sorted(set(params) - {'type'})
    if unknown:
        raise bad_request('unknown query parameter(s): %s; known: type'
                          % ', '.join(unknown))
    value = _one(params, 'type')
    if value is not None and value not in EXCLUDE_TYPES:
        raise bad_request('type must be one of %s' % ', '.join(EXCLUDE_TYPES))
    return value
