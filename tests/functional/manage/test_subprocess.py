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
"""The installed ``osvmexpire-manage`` script, run as an admin would: a
separate process, a configuration file, a real database."""

import json
import os
import subprocess
import sys
import time
import uuid

import pytest

from tests import fixtures

SCRIPT = os.path.join(os.path.dirname(sys.executable), 'osvmexpire-manage')


def run(*argv, env=None, timeout=60):
    full_env = {k: v for k, v in os.environ.items()
                if k != 'OSVMEXPIRE_CONFIG'}
    full_env.update(env or {})
    proc = subprocess.run([SCRIPT, *argv], capture_output=True, text=True,
                          env=full_env, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(params=fixtures.BACKENDS)
def empty_db(request):
    with fixtures.Database(request.param, schema='none') as db:
        yield db


def test_script_is_installed():
    assert os.access(SCRIPT, os.X_OK), SCRIPT


def test_session_on_a_fresh_database(empty_db, tmp_path):
    conf = tmp_path / 'os-vm-expire.conf'
    conf.write_text('[database]\nconnection = %s\n' % empty_db.url)
    rc, out, err = run('--config-file', str(conf), 'vm', 'list')
    assert rc == 1 and 'db upgrade' in err and 'Traceback' not in err
    rc, out, err = run('--config-file', str(conf), 'db', 'upgrade')
    assert rc == 0, err
    assert 'database at revision' in out
    # OSVMEXPIRE_CONFIG names the same file.
    env = {'OSVMEXPIRE_CONFIG': str(conf)}
    rc, out, err = run('exclude', 'add', '--type', 'project', '--id',
                       'proj-a', '-f', 'json', env=env)
    assert rc == 0, err
    created = json.loads(out)
    assert created['Excluded ID'] == 'proj-a'
    rc, out, err = run('exclude', 'add', '--type', 'project', '--id',
                       'proj-a', env=env)
    assert (rc, out) == (1, '')
    assert err == ('osvmexpire-manage: error: project proj-a is already '
                   'excluded\n')
    rc, out, _ = run('exclude', 'list', '-f', 'csv', env=env)
    assert rc == 0 and out.count('proj-a') == 1
    if empty_db.backend != 'sqlite':
        return      # the rest does not depend on the backend
    rc, out, err = run('vm', 'list', '-f', 'json', env=env)
    assert (rc, json.loads(out)) == (0, [])
    missing = str(uuid.uuid4())
    rc, out, err = run('vm', 'extend', missing, '--days', '3', env=env)
    assert rc == 1 and err.count('\n') == 1 and missing in err
    rc, out, err = run('exclude', 'delete', created['ID'], env=env)
    assert rc == 0, err
    rc, out, _ = run('db', 'current', env=env)
    assert rc == 0 and out.strip().endswith('(head)')


def test_usage_and_config_errors(tmp_path):
    rc, out, err = run('vm', 'extend')
    assert rc == 2 and 'usage:' in err
    rc, out, err = run()
    assert rc == 2 and 'a command is required' in err
    rc, out, err = run('--config-file', str(tmp_path / 'missing.conf'),
                       'vm', 'list')
    assert rc == 1 and 'configuration file not found' in err
    rc, out, err = run('vm', 'list',
                       env={'OSVMEXPIRE_CONFIG': str(tmp_path / 'x.conf')})
    assert rc == 1 and 'x.conf' in err
    rc, out, err = run('--version')
    assert rc == 0


@pytest.mark.parametrize('url', [
    'mysql+pymysql://root@127.0.0.1:1/nowhere',
    'postgresql+psycopg2://postgres@127.0.0.1:1/nowhere',
])
def test_unreachable_database_fails_fast(tmp_path, url):
    conf = tmp_path / 'os-vm-expire.conf'
    conf.write_text('[database]\nconnection = %s\n' % url)
    start = time.monotonic()
    rc, out, err = run('--config-file', str(conf), 'vm', 'list')
    assert rc == 1 and out == ''
    assert err.startswith('osvmexpire-manage: error: cannot connect to the '
                          'database') or 'database error' in err, err
    assert 'Traceback' not in err and err.count('\n') == 1
    assert time.monotonic() - start < 20
