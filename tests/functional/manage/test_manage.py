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
"""osvmexpire-manage run in-process (main(argv)) on SQLite, MariaDB and
PostgreSQL, with a real configuration file naming the test database."""

import datetime
import json
import uuid

import pytest
import sqlalchemy as sa

from osvmexpire import context
from osvmexpire import expiration
from osvmexpire.cmd import manage
from osvmexpire.db import api as db_api
from osvmexpire.db import models

DAY = datetime.timedelta(days=1)


class Cli:
    """Runs the real command against one test database."""

    def __init__(self, db, conf_path, capsys):
        self.db = db
        self.conf_path = conf_path
        self.capsys = capsys
        self.ctx = context.get_admin_context()
        self.settings = expiration.Settings()

    def __call__(self, *argv):
        self.capsys.readouterr()
        rc = manage.main(['--config-file', self.conf_path, *argv])
        out, err = self.capsys.readouterr()
        return rc, out, err

    def json(self, *argv):
        rc, out, err = self(*argv, '-f', 'json')
        assert rc == 0, err
        return json.loads(out)

    def add(self, project='p1', user='u1', days=30, name=None,
            created_days_ago=1, instance_id=None):
        now = db_api.utcnow()
        return db_api.create_vmexpire(
            self.ctx, instance_id=instance_id or str(uuid.uuid4()),
            project_id=project, user_id=user,
            instance_name=name or 'vm-%s' % uuid.uuid4().hex[:6],
            expire_at=now + days * DAY, settings=self.settings,
            created_at=now - created_days_ago * DAY)

    def count(self, model):
        with self.db.engine.connect() as conn:
            return conn.scalar(sa.select(sa.func.count()).select_from(model))


def _write_conf(tmp_path, url):
    path = tmp_path / 'os-vm-expire.conf'
    path.write_text('[database]\nconnection = %s\n' % url)
    return str(path)


@pytest.fixture
def cli(any_db, tmp_path, capsys, monkeypatch):
    # The fixture has already pointed db.api at the test database; keep
    # prepare_service from re-configuring the patched engine facade.
    monkeypatch.setattr(db_api, '_configured', True)
    return Cli(any_db, _write_conf(tmp_path, any_db.url), capsys)


@pytest.fixture
def sqlite_cli(sqlite_db, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(db_api, '_configured', True)
    return Cli(sqlite_db, _write_conf(tmp_path, sqlite_db.url), capsys)


# -- vm list ------------------------------------------------------------------

def test_vm_list_table_and_json(cli):
    late = cli.add(days=40, name='late')
    soon = cli.add(days=5, name='soon')
    rc, out, err = cli('vm', 'list')
    assert rc == 0, err
    assert out.index(soon.id) < out.index(late.id)
    for header in ('Instance ID', 'Expires (UTC)', 'Next action'):
        assert header in out
    rows = cli.json('vm', 'list')
    assert [r['ID'] for r in rows] == [soon.id, late.id]
    first = rows[0]
    assert first['Instance'] == 'soon'
    assert first['Instance ID'] == soon.instance_id
    assert first['Project'] == 'p1' and first['User'] == 'u1'
    assert first['Expires (UTC)'] == soon.expire_at.isoformat() + 'Z'
    step = expiration.next_step(soon, cli.settings)
    assert first['Next action'] == 'first_warning'
    assert first['Next action at (UTC)'] == step.at.isoformat() + 'Z'


def test_vm_list_filters(cli):
    a = cli.add(project='pa', user='ua', days=3)
    b = cli.add(project='pb', user='ub', days=20)
    c = cli.add(project='pa', user='uc', days=50)
    ids = lambda *argv: [r['ID'] for r in cli.json('vm', 'list', *argv)]  # noqa
    assert ids('--project', 'pa') == [a.id, c.id]
    assert ids('--user', 'ub') == [b.id]
    assert ids('--days', '25') == [a.id, b.id]
    assert ids('--project', 'pa', '--days', '25') == [a.id]
    assert ids('--project', 'nobody') == []


def test_vm_list_stuck_shows_last_error(cli):
    ok = cli.add()
    bad = cli.add()
    with cli.db.engine.begin() as conn:
        conn.execute(sa.update(models.VmExpire)
                     .where(models.VmExpire.id == bad.id)
                     .values(failures=3, last_error='no email for user u1'))
    rows = cli.json('vm', 'list', '--stuck')
    assert [r['ID'] for r in rows] == [bad.id]
    assert rows[0]['Failures'] == 3
    assert rows[0]['Last error'] == 'no email for user u1'
    assert ok.id in cli('vm', 'list')[1]


def test_vm_list_limit_and_all(cli):
    for days in range(1, 6):
        cli.add(days=days)
    rc, out, err = cli('vm', 'list', '--limit', '2', '-f', 'json')
    assert rc == 0 and len(json.loads(out)) == 2
    assert 'showing 2 of 5 records' in err
    assert len(cli.json('vm', 'list', '--all')) == 5
    rc, _, err = cli('vm', 'list', '--limit', '0')
    assert rc == 2 and '--limit' in err


def test_vm_list_csv_and_yaml(sqlite_cli):
    row = sqlite_cli.add(name='csv-vm')
    rc, out, _ = sqlite_cli('vm', 'list', '-f', 'csv')
    assert rc == 0
    assert out.splitlines()[0].startswith('"ID","Instance","Instance ID"')
    assert row.id in out and 'csv-vm' in out
    rc, out, _ = sqlite_cli('vm', 'list', '-f', 'yaml')
    assert rc == 0 and 'Instance: csv-vm' in out


# -- vm show / events ---------------------------------------------------------

def test_vm_show_by_record_or_instance_id(cli):
    row = cli.add(name='shown', days=30, created_days_ago=10)
    by_id = cli.json('vm', 'show', row.id)
    by_instance = cli.json('vm', 'show', row.instance_id)
    assert by_id == by_instance
    assert by_id['instance_name'] == 'shown'
    assert by_id['expire_at'] == row.expire_at.isoformat() + 'Z'
    cap = expiration.expiry_cap(row.created_at, cli.settings)
    assert by_id['max_expire_at'] == cap.isoformat() + 'Z'
    assert by_id['next_action'] == 'first_warning'
    assert by_id['excluded'] is None
    assert by_id['failures'] == 0
    db_api.create_exclude(cli.ctx, 'project', 'p1')
    assert cli.json('vm', 'show', row.id)['excluded'] == 'project p1'


def test_vm_show_errors(cli):
    rc, out, err = cli('vm', 'show', 'no-such-id')
    assert rc == 1 and out == ''
    assert err.strip() == ('osvmexpire-manage: error: no expiration with id '
                           'or instance id no-such-id')
    one = cli.add()
    # A record whose instance id is another record's id is ambiguous.
    cli.add(instance_id=one.id)
    rc, _, err = cli('vm', 'show', one.id)
    assert rc == 1 and 'ambiguous' in err
    rc, _, err = cli('vm', 'show')
    assert rc == 2 and 'required' in err


def test_vm_events_survive_removal(cli):
    row = cli.add(days=1)
    assert cli('vm', 'extend', row.id, '--days', '3')[0] == 0
    events = cli.json('vm', 'events', row.instance_id)
    assert [e['Event'] for e in events] == ['created', 'extended']
    assert cli('vm', 'remove', row.id)[0] == 0
    events = cli.json('vm', 'events', row.instance_id)
    assert [e['Event'] for e in events] == ['created', 'extended', 'removed']
    assert cli.json('vm', 'events', row.id) == events
    rc, _, err = cli('vm', 'events', 'nothing-here')
    assert rc == 1 and 'no expiration and no events' in err


# -- vm extend ----------------------------------------------------------------

def test_vm_extend_default_and_days(cli):
    row = cli.add(days=3)
    before = db_api.utcnow()
    shown = cli.json('vm', 'extend', row.instance_id, '--days', '7')
    new = datetime.datetime.fromisoformat(shown['expire_at'][:-1])
    assert before + 7 * DAY <= new <= db_api.utcnow() + 7 * DAY
    assert shown['extensions'] == 1
    shown = cli.json('vm', 'extend', row.id)
    new = datetime.datetime.fromisoformat(shown['expire_at'][:-1])
    assert new >= before + 30 * DAY
    events = db_api.list_events(cli.ctx, vmexpire_id=row.id,
                                kind='extended')
    assert len(events) == 2
    assert events[0].actor.startswith('osvmexpire-manage:')
    assert events[0].detail['days'] == 7


def test_vm_extend_refusals_change_nothing(cli):
    row = cli.add(days=3)
    rc, _, err = cli('vm', 'extend', row.id, '--days', '31')
    assert rc == 1 and 'between 1 and 30' in err
    rc, _, err = cli('vm', 'extend', row.id, '--days', '0')
    assert rc == 1 and 'at least 1' in err
    # Already later than the requested extension: refused, not shortened.
    far = cli.add(days=25)
    rc, _, err = cli('vm', 'extend', far.id, '--days', '2')
    assert rc == 1 and 'already expires' in err
    rc, _, err = cli('vm', 'extend', 'nope')
    assert rc == 1 and 'no expiration' in err
    rc, _, err = cli('vm', 'extend', row.id, '--days', 'x')
    assert rc == 2
    assert db_api.get_vmexpire(cli.ctx, row.id).expire_at == row.expire_at
    assert db_api.get_vmexpire(cli.ctx, far.id).expire_at == far.expire_at
    assert db_api.list_events(cli.ctx, kind='extended') == []


def test_vm_extend_force_passes_the_cap_and_is_audited(cli):
    # Created 360 days ago: the cap (365 days) is 5 days away.
    row = cli.add(days=3, created_days_ago=360)
    capped = cli.json('vm', 'extend', row.id, '--days', '30')
    cap = expiration.expiry_cap(row.created_at, cli.settings)
    assert capped['expire_at'] == cap.isoformat() + 'Z'
    rc, _, err = cli('vm', 'extend', row.id, '--days', '30')
    assert rc == 1 and 'cap' in err
    forced = cli.json('vm', 'extend', row.id, '--days', '90', '--force')
    new = datetime.datetime.fromisoformat(forced['expire_at'][:-1])
    assert new > cap + 80 * DAY
    last = db_api.list_events(cli.ctx, vmexpire_id=row.id,
                              kind='extended')[-1]
    assert last.detail['force'] is True and last.detail['days'] == 90


# -- vm remove ----------------------------------------------------------------

def test_vm_remove(cli):
    row = cli.add()
    keep = cli.add()
    rc, out, err = cli('vm', 'remove', row.instance_id)
    assert rc == 0, err
    assert 'will not expire' in out and row.instance_id in out
    assert cli.count(models.VmExpire) == 1
    assert db_api.get_vmexpire(cli.ctx, keep.id)
    rc, _, err = cli('vm', 'remove', row.instance_id)
    assert rc == 1 and 'no expiration' in err
    assert db_api.list_events(cli.ctx, kind='removed')[0].instance_id == (
        row.instance_id)


def test_vm_remove_refused_while_deleting(cli):
    row = cli.add()
    with cli.db.engine.begin() as conn:
        conn.execute(sa.update(models.VmExpire)
                     .where(models.VmExpire.id == row.id)
                     .values(deleting_at=db_api.utcnow()))
    rc, _, err = cli('vm', 'remove', row.id)
    assert rc == 1 and 'being deleted' in err
    assert cli.count(models.VmExpire) == 1
    rc, _, err = cli('vm', 'extend', row.id)
    assert rc == 1 and 'being deleted' in err


# -- exclusions ---------------------------------------------------------------

def test_exclude_add_list_delete(cli):
    created = cli.json('exclude', 'add', '--type', 'project', '--id', 'p9')
    assert created['Type'] == 'project' and created['Excluded ID'] == 'p9'
    cli.json('exclude', 'add', '--type', 'user', '--id', 'u9')
    cli.json('exclude', 'add', '--type', 'domain', '--id', 'd9')
    assert len(cli.json('exclude', 'list')) == 3
    only = cli.json('exclude', 'list', '--type', 'user')
    assert [(r['Type'], r['Excluded ID']) for r in only] == [('user', 'u9')]
    rc, out, _ = cli('exclude', 'delete', created['ID'])
    assert rc == 0 and created['ID'] in out
    rc, out, _ = cli('exclude', 'delete', 'u9')      # by the excluded id
    assert rc == 0 and 'user u9' in out
    assert [r['Excluded ID'] for r in cli.json('exclude', 'list')] == ['d9']
    kinds = [e.detail.get('removed', False)
             for e in db_api.list_events(cli.ctx, kind='excluded')]
    assert kinds == [False, False, False, True, True]


def test_exclude_errors_change_nothing(cli):
    cli.json('exclude', 'add', '--type', 'project', '--id', 'p1')
    rc, _, err = cli('exclude', 'add', '--type', 'project', '--id', 'p1')
    assert rc == 1
    assert err.strip() == ('osvmexpire-manage: error: project p1 is already '
                           'excluded')
    rc, _, err = cli('exclude', 'add', '--type', 'tenant', '--id', 'p2')
    assert rc == 2 and "invalid choice: 'tenant'" in err
    rc, _, err = cli('exclude', 'add', '--type', 'user')
    assert rc == 2 and '--id' in err
    rc, _, err = cli('exclude', 'add', '--type', 'user', '--id', 'x' * 65)
    assert rc == 2 and '1 to 64' in err
    rc, _, err = cli('exclude', 'list', '--type', 'group')
    assert rc == 2
    rc, _, err = cli('exclude', 'delete', 'nope')
    assert rc == 1 and 'not found' in err
    cli.json('exclude', 'add', '--type', 'user', '--id', 'p1')
    rc, _, err = cli('exclude', 'delete', 'p1')
    assert rc == 1 and 'give the exclusion id' in err
    assert cli.count(models.VmExclude) == 2
    assert len(db_api.list_events(cli.ctx, kind='excluded')) == 2


# -- db -----------------------------------------------------------------------

@pytest.fixture
def empty_db(request):
    from tests import fixtures
    with fixtures.Database(request.param, schema='none') as db:
        yield db


@pytest.mark.parametrize('empty_db', ['sqlite', 'mysql', 'postgresql'],
                         indirect=True)
def test_db_upgrade_current_history(empty_db, tmp_path, capsys,
                                    monkeypatch):
    monkeypatch.setattr(db_api, '_configured', True)
    cli = Cli(empty_db, _write_conf(tmp_path, empty_db.url), capsys)
    rc, _, err = cli('vm', 'list')
    assert rc == 1 and 'db upgrade' in err
    rc, out, _ = cli('db', 'current')
    assert rc == 0 and out.startswith('empty')
    rc, out, err = cli('db', 'upgrade', '--revision', '0001_initial')
    assert rc == 0, err
    assert 'database at revision 0001_initial (was empty)' in out
    rc, out, _ = cli('db', 'current')
    assert out.startswith('0001_initial (head is ')
    rc, out, _ = cli('db', 'upgrade')
    assert rc == 0 and '(was 0001_initial)' in out
    rc, out, _ = cli('db', 'current')
    assert out.strip().endswith('(head)')
    rc, out, _ = cli('db', 'history')
    assert rc == 0 and '<base> -> 0001_initial' in out and '(current)' in out
    rc, _, err = cli('db', 'upgrade', '--revision', 'nonsense')
    assert rc != 0 and 'Traceback' not in err
    rc, out, _ = cli('vm', 'list')
    assert rc == 0


# -- usage and configuration errors -------------------------------------------

def test_usage_errors_exit_2(sqlite_cli, capsys):
    assert manage.main([]) == 2
    assert 'a command is required' in capsys.readouterr().err
    assert manage.main(['vm', 'frobnicate']) == 2
    assert manage.main(['--no-such-option', 'vm', 'list']) == 2
    rc, _, err = sqlite_cli('vm', 'list', '--days', 'soon')
    assert rc == 2 and 'invalid int value' in err
    rc, _, err = sqlite_cli('vm', 'list', '--days', '-1')
    assert rc == 2
    rc, _, _ = sqlite_cli('vm', 'list', '-f', 'xml')
    assert rc == 2


def test_help_needs_no_config(capsys, monkeypatch):
    monkeypatch.setenv('OSVMEXPIRE_CONFIG', '/nonexistent/os-vm-expire.conf')
    assert manage.main(['--help']) == 0
    out = capsys.readouterr().out
    assert 'vm list' in out and 'exclude add' in out and 'db upgrade' in out
    assert manage.main(['help', 'vm', 'extend']) == 0
    assert '--force' in capsys.readouterr().out


def test_missing_config_and_connection(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv('OSVMEXPIRE_CONFIG', raising=False)
    assert manage.main(['--config-file', str(tmp_path / 'nope.conf'),
                        'vm', 'list']) == 1
    err = capsys.readouterr().err
    assert err.strip() == ('osvmexpire-manage: error: configuration file '
                           'not found or unreadable: %s'
                           % (tmp_path / 'nope.conf'))
    monkeypatch.setenv('OSVMEXPIRE_CONFIG', str(tmp_path / 'gone.conf'))
    assert manage.main(['exclude', 'list']) == 1
    assert 'gone.conf' in capsys.readouterr().err
    empty = tmp_path / 'empty.conf'
    empty.write_text('[DEFAULT]\n')
    monkeypatch.setenv('OSVMEXPIRE_CONFIG', str(empty))
    assert manage.main(['vm', 'list']) == 1
    assert 'no database connection configured' in capsys.readouterr().err
    broken = tmp_path / 'broken.conf'
    broken.write_text('[database\nconnection = sqlite://\n')
    assert manage.main(['--config-file', str(broken), 'vm', 'list']) == 1
    assert 'cannot parse configuration file' in capsys.readouterr().err
