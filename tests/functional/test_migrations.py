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
"""Every migration, up and down, on SQLite, MariaDB and PostgreSQL; the
models match the migrated schema."""

import pytest
import sqlalchemy as sa
from alembic.runtime import migration as alembic_migration
from oslo_db import exception as db_exc

from alembic import autogenerate
from osvmexpire.db import migration
from osvmexpire.db import models
from tests import fixtures


@pytest.fixture(params=fixtures.BACKENDS)
def empty_db(request):
    with fixtures.Database(request.param, schema='none') as db:
        yield db


def _tables(engine):
    return set(sa.inspect(engine).get_table_names()) - {'alembic_version'}


def test_walk_migrations_up_and_down(empty_db):
    engine = empty_db.engine
    revisions = [rev for rev, _down, _doc in migration.history()]
    assert revisions[0] == '0001_initial'
    assert migration.current(engine) is None
    for rev in revisions:
        migration.upgrade(rev, engine)
        assert migration.current(engine) == rev
    assert _tables(engine) == {'vmexpire', 'vmexclude', 'vmexpire_event'}
    for rev in reversed(revisions[:-1]):
        migration.downgrade(rev, engine)
        assert migration.current(engine) == rev
    migration.downgrade('base', engine)
    assert _tables(engine) == set()
    # and up again from nothing
    migration.upgrade('head', engine)
    assert migration.current(engine) == migration.head()


def test_history_is_linear():
    history = migration.history()
    for (rev, _down, _doc), (_next, next_down, _d) in zip(history[:-1],
                                                          history[1:],
                                                          strict=True):
        assert next_down == rev
    assert history[-1][0] == migration.head()


def test_models_match_migrations(empty_db):
    migration.upgrade('head', empty_db.engine)
    with empty_db.engine.connect() as conn:
        ctx = alembic_migration.MigrationContext.configure(
            conn, opts={'compare_type': True,
                        'compare_server_default': False})
        diff = autogenerate.compare_metadata(ctx, models.Base.metadata)
    assert diff == []


def test_failed_migration_leaves_previous_revision(tmp_path, monkeypatch):
    """A migration that fails is rolled back (transactional DDL)."""
    import shutil
    good = migration.head()
    scripts = tmp_path / 'alembic'
    shutil.copytree(migration.script_location(), scripts)
    (scripts / 'versions' / '9999_broken.py').write_text(
        "from alembic import op\n"
        "revision = '9999_broken'\n"
        "down_revision = %r\n"
        "branch_labels = None\ndepends_on = None\n"
        "def upgrade():\n"
        "    op.execute('CREATE TABLE half_done (id INTEGER)')\n"
        "    op.execute('THIS IS NOT SQL')\n"
        "def downgrade():\n    pass\n" % good)
    monkeypatch.setenv('OSVMEXPIRE_ALEMBIC_DIR', str(scripts))
    with fixtures.Database('postgresql', schema='none') as db:
        migration.upgrade(good, db.engine)
        with pytest.raises(db_exc.DBError):
            migration.upgrade('head', db.engine)
        assert migration.current(db.engine) == good
        assert 'half_done' not in _tables(db.engine)
