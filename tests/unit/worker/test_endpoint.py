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
"""The notification endpoint on real-shaped Nova payloads (SQLite)."""

import datetime
import logging
from unittest import mock

import pytest
from oslo_db import exception as db_exc

from osvmexpire import exception
from osvmexpire.db import api as db_api
from osvmexpire.worker import endpoint
from tests.unit.worker import fakes

NOW = datetime.datetime(2026, 11, 25, 15, 0, 0)
DAY = datetime.timedelta(days=1)
IID = fakes.INSTANCE_ID
HANDLED = endpoint.HANDLED
UPDATES = ['instance-update', 'compute-instance-update']
REQUEUE = endpoint.REQUEUE


@pytest.fixture
def ep(sqlite_db):
    return endpoint.NovaNotificationEndpoint(
        sqlite_db.config(), retry_delay=0, max_retry_delay=0,
        clock=lambda: NOW)


def message(name, instance_id=None, message_id='m-1', **changes):
    """One notification as the batch listener hands it over."""
    msg = fakes.notification(name, instance_id, **changes)
    return {'ctxt': {}, 'publisher_id': msg['publisher_id'],
            'event_type': msg['event_type'], 'payload': msg['payload'],
            'metadata': {'message_id': message_id}}


def send(ep, name, instance_id=None, message_id='m-1', **changes):
    """A batch of one notification."""
    return ep.info([message(name, instance_id, message_id, **changes)])


def record(ctx, iid=IID):
    try:
        return db_api.get_vmexpire_by_instance(ctx, iid)
    except exception.NotFound:
        return None


def kinds(ctx, iid=IID):
    return [e.event for e in db_api.list_events(ctx, instance_id=iid)]


# -- parsing -------------------------------------------------------------

@pytest.mark.parametrize('name', ['instance-create-end',
                                  'compute-instance-create-end'])
def test_parse_create_payloads(name):
    inst = endpoint.parse_instance(fakes.payload(name), require_project=True)
    assert inst.instance_id == IID
    assert inst.project_id == fakes.PROJECT_ID
    assert inst.user_id == 'admin'
    assert inst.name == 'test-vm'
    assert inst.created_at == datetime.datetime(2026, 11, 25, 14, 34, 56)
    assert inst.domain_id is None


@pytest.mark.parametrize('name', UPDATES)
def test_parse_update_payloads(name):
    inst = endpoint.parse_instance(fakes.payload(name))
    assert (inst.instance_id, inst.name) == (IID, 'renamed-vm')


def test_parse_domain_when_present():
    inst = endpoint.parse_instance(fakes.payload(
        'compute-instance-create-end', project_domain_id='dom1'))
    assert inst.domain_id == 'dom1'


@pytest.mark.parametrize('value, expected', [
    ('2026-11-25T14:34:56Z', datetime.datetime(2026, 11, 25, 14, 34, 56)),
    ('2026-11-25 14:34:56+00:00', datetime.datetime(2026, 11, 25, 14, 34,
                                                    56)),
    ('2026-11-25T14:34:57.945792', datetime.datetime(2026, 11, 25, 14, 34,
                                                     57)),
    ('2026-11-25T16:34:56+02:00', datetime.datetime(2026, 11, 25, 14, 34,
                                                    56)),
    ('', None), (None, None), ('yesterday', None), (12, None),
])
def test_parse_time(value, expected):
    assert endpoint.parse_time(value) == expected


@pytest.mark.parametrize('payload, message', [
    ('not a dict', 'payload is not an object'),
    ({'nova_object.data': []}, 'nova_object.data is not an object'),
    ({'nova_object.data': {'tenant_id': 'p'}}, 'no uuid'),
    ({'instance_id': 7, 'tenant_id': 'p'}, 'instance_id is not a string'),
    ({'instance_id': 'x' * 37, 'tenant_id': 'p'}, 'longer than 36'),
    ({'instance_id': 'abc'}, 'no tenant_id'),
    ({'instance_id': 'abc', 'tenant_id': 'p' * 65}, 'longer than 64'),
])
def test_parse_malformed(payload, message):
    with pytest.raises(endpoint.MalformedNotification, match=message):
        endpoint.parse_instance(payload, require_project=True)


@pytest.mark.parametrize('event_type, wanted', [
    ('instance.create.end', True), ('compute.instance.create.end', True),
    ('instance.delete.end', True), ('compute.instance.delete.end', True),
    ('instance.update', True), ('compute.instance.update', True),
    ('instance.create.start', False), ('instance.delete.start', False),
    ('compute.instance.create.error', False), ('instance.shutdown.end', False),
    ('scheduler.select_destinations.end', False), ('service.create', False),
    ('xinstance.create.end', False), ('instance.create.endx', False),
])
def test_filter_rule(event_type, wanted):
    rule = endpoint.NovaNotificationEndpoint.filter_rule
    assert rule.match({}, 'nova-compute:host', event_type, {}, {}) is wanted


# -- create ---------------------------------------------------------------

@pytest.mark.parametrize('name', ['instance-create-end',
                                  'compute-instance-create-end'])
def test_create_tracks_server(ep, admin_ctx, name):
    assert send(ep, name) == HANDLED
    row = record(admin_ctx)
    assert row.project_id == fakes.PROJECT_ID
    assert row.user_id == 'admin'
    assert row.instance_name == 'test-vm'
    assert row.domain_id is None
    assert row.created_at == datetime.datetime(2026, 11, 25, 14, 34, 56)
    assert row.expire_at == NOW + 60 * DAY
    created = db_api.list_events(admin_ctx, instance_id=IID)
    assert [e.event for e in created] == ['created']
    assert created[0].detail['source'] == fakes.notification(name)[
        'event_type']


def test_create_respects_configured_duration(sqlite_db, admin_ctx):
    ep = endpoint.NovaNotificationEndpoint(
        sqlite_db.config(max_vm_duration=7), clock=lambda: NOW)
    assert send(ep, 'instance-create-end') == HANDLED
    assert record(admin_ctx).expire_at == NOW + 7 * DAY


def test_repeated_create_keeps_expiry(ep, sqlite_db, admin_ctx):
    send(ep, 'instance-create-end')
    first = record(admin_ctx)
    db_api.extend_vmexpire(admin_ctx, first.id, NOW + 40 * DAY, ep.settings)
    extended = record(admin_ctx).expire_at
    later = endpoint.NovaNotificationEndpoint(
        sqlite_db.config(), clock=lambda: NOW + 50 * DAY)
    # both formats of the same event, again and again
    for name in ('instance-create-end', 'compute-instance-create-end') * 2:
        assert send(later, name) == HANDLED
    row = record(admin_ctx)
    assert row.id == first.id
    assert row.expire_at == extended
    assert kinds(admin_ctx).count('created') == 1


def test_create_after_delete_is_ignored(ep, admin_ctx):
    assert send(ep, 'instance-delete-end') == HANDLED
    assert send(ep, 'instance-create-end') == HANDLED
    assert send(ep, 'compute-instance-create-end') == HANDLED
    assert record(admin_ctx) is None
    assert kinds(admin_ctx) == ['closed']


def test_create_after_admin_removal_is_ignored(ep, admin_ctx):
    send(ep, 'instance-create-end')
    db_api.remove_vmexpire(admin_ctx, record(admin_ctx).id, actor='admin')
    assert send(ep, 'compute-instance-create-end') == HANDLED
    assert record(admin_ctx) is None


def test_create_racing_with_delete_leaves_no_record(ep, admin_ctx,
                                                    monkeypatch):
    """A delete committed between our tombstone check and our commit."""
    real_check = db_api.terminal_instance_ids

    def check(ctx, ids):
        # what another worker did meanwhile: a tombstone, no record seen
        monkeypatch.setattr(db_api, 'terminal_instance_ids', real_check)
        db_api.add_event(ctx, 'closed', IID, actor='other-worker')
        return real_check(ctx, ids)

    monkeypatch.setattr(db_api, 'terminal_instance_ids', check)
    assert send(ep, 'instance-create-end') == HANDLED
    assert record(admin_ctx) is None
    assert kinds(admin_ctx) == ['created', 'closed', 'closed']


def test_single_create_racing_with_delete_leaves_no_record(ep, admin_ctx,
                                                           monkeypatch):
    """The same race on the one-by-one path."""
    real_list = db_api.list_events

    def list_events(ctx, **kw):
        # what another worker did meanwhile: a tombstone, no record seen
        monkeypatch.setattr(db_api, 'list_events', real_list)
        db_api.add_event(ctx, 'closed', IID, actor='other-worker')
        return real_list(ctx, **kw)

    monkeypatch.setattr(db_api, 'list_events', list_events)
    msg = message('instance-create-end')
    assert ep.handle(msg['event_type'], msg['payload'],
                     msg['metadata']) == HANDLED
    assert record(admin_ctx) is None
    assert kinds(admin_ctx) == ['created', 'closed', 'closed']


# -- delete ---------------------------------------------------------------

@pytest.mark.parametrize('name', ['instance-delete-end',
                                  'compute-instance-delete-end'])
def test_delete_closes_record(ep, admin_ctx, name):
    send(ep, 'instance-create-end')
    assert send(ep, name) == HANDLED
    assert record(admin_ctx) is None
    events = db_api.list_events(admin_ctx, instance_id=IID)
    assert [e.event for e in events] == ['created', 'closed']
    assert events[1].project_id == fakes.PROJECT_ID


def test_repeated_delete_writes_one_tombstone(ep, admin_ctx):
    for name in ('instance-delete-end', 'compute-instance-delete-end') * 2:
        assert send(ep, name) == HANDLED
    assert kinds(admin_ctx) == ['closed']


def test_delete_after_cleaner_deletion_adds_nothing(ep, admin_ctx):
    send(ep, 'instance-create-end')
    db_api.close_instance(admin_ctx, IID, kind='deleted')
    assert send(ep, 'instance-delete-end') == HANDLED
    assert kinds(admin_ctx) == ['created', 'deleted']


def test_delete_racing_with_create_leaves_no_record(ep, admin_ctx,
                                                    monkeypatch):
    """A create committed after our check found no record."""
    real_get = db_api.get_vmexpire_by_instance

    def get_after_create(ctx, iid, project_id=None):
        # another worker's create, which missed our tombstone
        monkeypatch.setattr(db_api, 'get_vmexpire_by_instance', real_get)
        db_api.create_vmexpire(ctx, instance_id=IID, project_id='p',
                               expire_at=NOW + DAY, settings=ep.settings)
        return real_get(ctx, iid, project_id)

    monkeypatch.setattr(db_api, 'get_vmexpire_by_instance', get_after_create)
    assert send(ep, 'instance-delete-end') == HANDLED
    assert record(admin_ctx) is None
    assert kinds(admin_ctx) == ['closed', 'created', 'closed']


# -- update -------------------------------------------------------------

@pytest.mark.parametrize('name', UPDATES)
def test_update_renames(ep, admin_ctx, name):
    send(ep, 'instance-create-end')
    before = record(admin_ctx)
    assert send(ep, name) == HANDLED
    after = record(admin_ctx)
    assert after.instance_name == 'renamed-vm'
    assert after.expire_at == before.expire_at
    assert kinds(admin_ctx) == ['created']


@pytest.mark.parametrize('name', UPDATES)
def test_update_without_rename_costs_no_query(ep, admin_ctx, monkeypatch,
                                              name):
    """Nova sets old_display_name only when the name changed."""
    send(ep, 'instance-create-end')
    calls = []
    monkeypatch.setattr(db_api, 'rename_instance',
                        lambda *a: calls.append(a))
    assert send(ep, name, old_display_name=None) == HANDLED
    assert calls == []
    assert send(ep, name) == HANDLED
    assert calls == [(mock.ANY, IID, 'renamed-vm')]


def test_update_of_untracked_instance_is_harmless(ep, admin_ctx):
    assert send(ep, 'instance-update') == HANDLED
    assert record(admin_ctx) is None
    assert kinds(admin_ctx) == []


# -- other events, bad payloads, faults ----------------------------------

def test_other_event_is_ignored(ep, admin_ctx):
    assert send(ep, 'instance-create-start') == HANDLED
    assert record(admin_ctx) is None


def test_malformed_payload_is_dropped_and_logged_once(ep, admin_ctx,
                                                      caplog):
    caplog.set_level(logging.ERROR)
    result = ep.info([{'ctxt': {}, 'publisher_id': 'nova-compute:h',
                       'event_type': 'instance.create.end',
                       'payload': {'nova_object.data': {'uuid': IID}},
                       'metadata': {'message_id': 'msg-42'}}])
    assert result == HANDLED
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert 'msg-42' in errors[0].getMessage()
    assert 'no tenant_id' in errors[0].getMessage()
    assert record(admin_ctx) is None


@pytest.mark.parametrize('error', [
    db_exc.DBConnectionError('connection refused'),
    db_exc.DBDeadlock(),
    db_exc.DBError('lost connection'),
    OSError('network unreachable'),
    RuntimeError('unexpected'),
])
def test_transient_failure_requeues(ep, admin_ctx, monkeypatch, error):
    def fail(*a, **kw):
        raise error
    monkeypatch.setattr(db_api, 'create_vmexpire', fail)
    monkeypatch.setattr(db_api, 'create_vmexpires', fail)
    monkeypatch.setattr(db_api, 'close_instance', fail)
    assert send(ep, 'instance-create-end') == REQUEUE
    assert send(ep, 'instance-delete-end') == REQUEUE
    monkeypatch.undo()
    # redelivered once the fault is gone
    assert send(ep, 'instance-create-end') == HANDLED
    assert record(admin_ctx) is not None


def test_data_error_is_dropped(ep, monkeypatch):
    def fail(*a, **kw):
        raise db_exc.DBDataError('Data too long for column')
    monkeypatch.setattr(db_api, 'create_vmexpire', fail)
    monkeypatch.setattr(db_api, 'create_vmexpires', fail)
    assert send(ep, 'instance-create-end') == HANDLED


def test_requeue_backs_off(sqlite_db, monkeypatch):
    ep = endpoint.NovaNotificationEndpoint(
        sqlite_db.config(), retry_delay=0.5, max_retry_delay=2)
    sleeps = []
    monkeypatch.setattr(endpoint.time, 'sleep', sleeps.append)

    def fail(*a, **kw):
        raise db_exc.DBConnectionError('down')
    monkeypatch.setattr(db_api, 'create_vmexpire', fail)
    monkeypatch.setattr(db_api, 'create_vmexpires', fail)
    for _ in range(5):
        assert send(ep, 'instance-create-end') == REQUEUE
    assert sleeps == [0.5, 1, 2, 2, 2]
    monkeypatch.undo()
    monkeypatch.setattr(endpoint.time, 'sleep', sleeps.append)
    assert send(ep, 'instance-create-end') == HANDLED
    monkeypatch.setattr(db_api, 'create_vmexpires', fail)
    assert send(ep, 'instance-create-end') == REQUEUE
    assert sleeps[-1] == 0.5
