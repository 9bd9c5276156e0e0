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
"""Schema migrations with alembic: upgrade, downgrade, current, history.

The migration scripts live in the top-level ``alembic/`` folder of the
source tree; an installed package finds them under
``<prefix>/share/os-vm-expire/alembic`` (pbr ``data_files``).
"""

import os
import sys
import sysconfig

from alembic.runtime import migration as alembic_migration

from alembic import command
from alembic import config as alembic_config
from alembic import script as alembic_script
from osvmexpire.db import api as db_api

_HERE = os.path.dirname(os.path.abspath(__file__))


def script_location() -> str:
    """Folder holding env.py and versions/ (source tree or installed)."""
    candidates = [
        os.environ.get('OSVMEXPIRE_ALEMBIC_DIR'),
        os.path.join(_HERE, '..', '..', 'alembic'),
        os.path.join(sys.prefix, 'share', 'os-vm-expire', 'alembic'),
        os.path.join(sysconfig.get_path('data'), 'share', 'os-vm-expire',
                     'alembic'),
    ]
    for path in filter(None, candidates):
        if os.path.isfile(os.path.join(path, 'env.py')):
            return os.path.normpath(path)
    raise RuntimeError('alembic migrations not found (looked in %s)'
                       % ', '.join(filter(None, candidates)))


def _config(engine=None) -> alembic_config.Config:
    cfg = alembic_config.Config()
    cfg.set_main_option('script_location', script_location())
    cfg.attributes['engine'] = engine or db_api.get_engine()
    return cfg


def upgrade(revision: str = 'head', engine=None) -> None:
    command.upgrade(_config(engine), revision or 'head')


def downgrade(revision: str, engine=None) -> None:
    command.downgrade(_config(engine), revision)


def stamp(revision: str, engine=None) -> None:
    command.stamp(_config(engine), revision)


def current(engine=None) -> str | None:
    """Revision the database is at (None: no schema yet)."""
    engine = engine or db_api.get_engine()
    with engine.connect() as conn:
        return alembic_migration.MigrationContext.configure(
            conn).get_current_revision()


def history() -> list[tuple[str, str | None, str]]:
    """(revision, down_revision, message), oldest first."""
    scripts = alembic_script.ScriptDirectory(script_location())
    revs = list(scripts.walk_revisions())
    revs.reverse()
    return [(r.revision, r.down_revision, r.doc) for r in revs]


def head() -> str:
    return alembic_script.ScriptDirectory(script_location()).get_current_head()
