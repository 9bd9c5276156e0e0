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
"""pytest fixtures shared by every suite."""

import pytest

from osvmexpire import context
from osvmexpire import expiration
from tests import fixtures


@pytest.fixture
def settings():
    return expiration.Settings()


@pytest.fixture
def sqlite_db():
    with fixtures.Database('sqlite') as db:
        yield db


@pytest.fixture(params=fixtures.BACKENDS)
def any_db(request):
    """The test runs once on SQLite, once on MariaDB, once on PostgreSQL."""
    with fixtures.Database(request.param) as db:
        yield db


@pytest.fixture
def admin_ctx():
    return context.get_admin_context()
