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
"""osvmexpire-manage without a database: commands, messages, fields."""

import datetime
import types

import pytest
import sqlalchemy.exc
from alembic.util import exc as alembic_exc
from novaclient import exceptions as nova_exc
from oslo_config import cfg

from osvmexpire import expiration
from osvmexpire.manage import app
from osvmexpire.manage import vm

NOW = datetime.datetime(2026, 3, 1, 12, 0, 0)
DAY = datetime.timedelta(days=1)


def test_every_command_is_registered():
    names = {name for name, _ in app.ManageApp().command_manager}
    assert {'vm list', 'vm show', 'vm events', 'vm extend', 'vm remove',
            'vm add', 'vm sync', 'exclude list', 'exclude add',
            'exclude delete', 'db upgrade', 'db current',
            'db history'} <= names


@pytest.mark.parametrize('exc, expected', [
    (cfg.RequiredOptError('connection', cfg.OptGroup('database')),
     'no database connection configured: pass --config-file or set '
     'OSVMEXPIRE_CONFIG'),
    (cfg.ConfigFilesNotFoundError(['/etc/x.conf']),
     'configuration file not found or unreadable: /etc/x.conf'),
    (expiration.InvalidExtension('days must be between 1 and 30'),
     'days must be between 1 and 30'),
    (expiration.ExtensionRefused('already at the cap'),
     'already at the cap'),
    (alembic_exc.CommandError("Can't locate revision 'x'"),
     "migration error: Can't locate revision 'x'"),
    (nova_exc.NotFound(404, 'no server'), 'not found in Nova: no server '
     '(HTTP 404)'),
    (sqlalchemy.exc.OperationalError('SELECT', {}, Exception(
        'no such table: vmexpire')),
     'database error: (builtins.Exception) no such table: vmexpire '
     '(no schema yet? run "osvmexpire-manage db upgrade")'),
])
def test_error_messages(exc, expected):
    assert app.error_message(exc) == expected


def test_unknown_errors_are_not_hidden():
    assert app.error_message(RuntimeError('bug')) is None


def test_actor_names_the_tool_and_the_login(monkeypatch):
    monkeypatch.setattr(app.getpass, 'getuser', lambda: 'alice')
    assert app.actor_name() == 'osvmexpire-manage:alice'

    def fail():
        raise OSError('no user')
    monkeypatch.setattr(app.getpass, 'getuser', fail)
    assert app.actor_name() == 'osvmexpire-manage:unknown'


def _row(**kw):
    values = dict(id='r1', instance_id='i1', instance_name='vm',
                  project_id='p', user_id='u', domain_id='d',
                  created_at=NOW - 10 * DAY,
                  updated_at=None, expire_at=NOW + 20 * DAY,
                  notified_at=None, notified_last_at=None, extensions=0,
                  failures=0, last_error=None, deleting_at=None,
                  claimed_by=None, claimed_until=None)
    values.update(kw)
    return types.SimpleNamespace(**values)


def test_record_fields_use_the_expiry_rules():
    settings = expiration.Settings()
    row = _row()
    fields = vm.record_fields(row, settings, NOW, {})
    assert fields['expire_at'] == '2026-03-21T12:00:00Z'
    assert fields['next_action'] == 'first_warning'
    assert fields['next_action_at'] == '2026-03-11T12:00:00Z'
    assert fields['max_expire_at'] == (
        (NOW - 10 * DAY + 365 * DAY).isoformat() + 'Z')
    assert fields['delete_after'] == expiration.deletion_time(
        row, NOW, settings).isoformat() + 'Z'
    assert fields['excluded'] is None


@pytest.mark.parametrize('excludes, expected', [
    ({'project': {'p'}}, 'project p'),
    ({'user': {'u'}}, 'user u'),
    ({'domain': {'d'}, 'user': {'u'}}, 'domain d'),
    ({'project': {'other'}}, None),
])
def test_excluded_by(excludes, expected):
    assert vm.excluded_by(_row(), excludes) == expected


def test_iso():
    assert vm.iso(None) is None
    assert vm.iso(datetime.datetime(2026, 1, 2, 3, 4, 5, 678)) == (
        '2026-01-02T03:04:05Z')
