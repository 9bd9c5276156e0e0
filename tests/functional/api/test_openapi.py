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
"""The OpenAPI description against the live application.

- the description is a valid OpenAPI 3 document;
- schemathesis fuzzes every operation from it (valid and invalid input,
  a bounded number of cases per operation, on SQLite, MariaDB and
  PostgreSQL): no 5xx, no traceback, every status code, content type and
  body as described;
- every documented operation exists, and the seeded answers validate.
"""

import os
import uuid
from unittest import mock

import hypothesis
import pytest
import schemathesis
import yaml
from openapi_spec_validator import validate as validate_spec
from schemathesis import checks as st_checks

from osvmexpire import exception
from osvmexpire.api import app as api_app
from tests import fixtures
from tests.functional.api import base

OPENAPI = os.path.join(os.path.dirname(api_app.__file__), 'openapi.yaml')
# Cases per operation and generation mode; CI can raise it.
MAX_EXAMPLES = int(os.environ.get('OSVMEXPIRE_FUZZ_EXAMPLES', '25'))

schema = schemathesis.openapi.from_path(OPENAPI)
schema.config.generation.update(modes=['positive', 'negative'],
                                max_examples=MAX_EXAMPLES,
                                deterministic=True)

CHECKS = [st_checks.not_a_server_error,
          st_checks.status_code_conformance,
          st_checks.content_type_conformance,
          st_checks.response_schema_conformance]


@pytest.fixture(scope='module', params=fixtures.BACKENDS)
def fuzz_app(request):
    """One database per backend with seeded records, shared by all cases.

    PostgreSQL and MariaDB refuse things SQLite stores (NUL bytes, too
    long strings, dates out of range): the fuzzing runs on all three.
    """
    def no_such_server(conf, ctx, instance_id, nova=None, actor=None):
        raise exception.NotFound('server %s not found in Nova'
                                 % instance_id)

    with fixtures.Database(request.param) as db, mock.patch(
            'osvmexpire.cleaner.reconcile.track_server', no_such_server):
        rows = base.seed()
        yield api_app.setup_app(db.config(**{'api.auth_strategy':
                                             'noauth'})), rows


def test_description_is_valid_openapi():
    with open(OPENAPI) as f:
        validate_spec(yaml.safe_load(f))


def _aim_at_seeded_records(case, rows) -> None:
    """Send half of the well-formed record ids to existing records.

    Random UUIDs only ever find nothing (404); this way GET and PUT also
    answer 200/202/409 with real bodies to validate. DELETE keeps its
    random ids so the records stay for the other operations.
    """
    params = case.path_parameters or {}
    if ('/vmexpires/' not in case.operation.path or 'id' not in params
            or case.method.upper() == 'DELETE'):
        return
    try:
        number = uuid.UUID(str(params['id'])).int
    except ValueError:
        return
    if number % 2 == 0:
        seeded = sorted(row.id for row in rows.values())
        params['id'] = seeded[(number // 2) % len(seeded)]


@schema.parametrize()
@hypothesis.settings(deadline=None, database=None,
                     suppress_health_check=list(hypothesis.HealthCheck))
def test_fuzz(case, fuzz_app):
    wsgi, rows = fuzz_app
    _aim_at_seeded_records(case, rows)
    # Admin: the project scope passes, so the cases reach the controllers.
    response = case.call(app=wsgi, headers=base.ADMIN)
    assert response.status_code < 500, (case.as_curl_command(),
                                        response.text[:500])
    assert 'Traceback' not in response.text
    case.validate_response(response, checks=CHECKS)
