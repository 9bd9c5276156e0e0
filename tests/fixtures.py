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
"""Shared test helpers: real databases with a unique name per test.

``Database(backend)`` creates a fresh database on the real server
(SQLite file, MariaDB on 127.0.0.1:3306, PostgreSQL on 127.0.0.1:5432),
points :mod:`osvmexpire.db.api` at it and drops it afterwards. Server
addresses can be overridden with OSVMEXPIRE_TEST_MYSQL_URL and
OSVMEXPIRE_TEST_POSTGRESQL_URL (server URLs without a database name).
A server that does not answer fails the test loudly; nothing is skipped.
"""

import os
import shutil
import tempfile
import uuid

import sqlalchemy as sa
from oslo_db.sqlalchemy import enginefacade

from osvmexpire import service
from osvmexpire.db import api as db_api
from osvmexpire.db import migration
from osvmexpire.db import models

BACKENDS = ('sqlite', 'mysql', 'postgresql')

SERVER_URLS = {
    'mysql': os.environ.get('OSVMEXPIRE_TEST_MYSQL_URL',
                            'mysql+pymysql://root@127.0.0.1:3306'),
    'postgresql': os.environ.get(
        'OSVMEXPIRE_TEST_POSTGRESQL_URL',
        'postgresql+psycopg2://postgres@127.0.0.1:5432'),
}


class Database:
    """A throw-away database; use as a context manager or call cleanup()."""

    def __init__(self, backend: str = 'sqlite', schema: str = 'models'):
        """``schema``: 'models' (create_all), 'migrations' or 'none'."""
        self.backend = backend
        self.name = 'osvmexpire_t_%s' % uuid.uuid4().hex[:12]
        self._tmpdir = None
        if backend == 'sqlite':
            self._tmpdir = tempfile.mkdtemp(prefix='osvmexpire-db-')
            self.url = 'sqlite:///%s' % os.path.join(self._tmpdir, 'db.sqlite')
        else:
            server = SERVER_URLS[backend]
            admin = sa.create_engine(
                server + ('/postgres' if backend == 'postgresql' else '/'),
                isolation_level='AUTOCOMMIT')
            with admin.connect() as conn:
                if backend == 'mysql':
                    conn.exec_driver_sql(
                        'CREATE DATABASE %s CHARACTER SET utf8mb4' % self.name)
                else:
                    conn.exec_driver_sql('CREATE DATABASE %s' % self.name)
            admin.dispose()
            self._admin_url = server
            self.url = '%s/%s' % (server, self.name)
            if backend == 'mysql':
                self.url += '?charset=utf8mb4'
        self.factory = enginefacade._TransactionFactory()
        self.factory.configure(connection=self.url, max_retries=0)
        self._reset = db_api.context_manager().patch_factory(self.factory)
        self.engine = self.factory.get_writer_engine()
        if schema == 'models':
            models.Base.metadata.create_all(self.engine)
        elif schema == 'migrations':
            migration.upgrade('head', self.engine)

    def config(self, **overrides):
        """A parsed ConfigOpts using this database (no config file read)."""
        conf = service.new_config()
        conf([], project='os-vm-expire', default_config_files=[])
        conf.set_override('connection', self.url, group='database')
        for key, value in overrides.items():
            group, _, name = key.rpartition('.')
            conf.set_override(name, value, group=group or None)
        return conf

    def cleanup(self):
        self._reset()
        self.engine.dispose()
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            return
        admin = sa.create_engine(
            self._admin_url + ('/postgres' if self.backend == 'postgresql'
                               else '/'), isolation_level='AUTOCOMMIT')
        with admin.connect() as conn:
            if self.backend == 'postgresql':
                conn.exec_driver_sql(
                    'DROP DATABASE IF EXISTS %s WITH (FORCE)' % self.name)
            else:
                conn.exec_driver_sql('DROP DATABASE IF EXISTS %s' % self.name)
        admin.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
