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
"""Batches of notifications: creations stored together, the rest one by
one, the same results as one message at a time."""

import datetime
import logging
import threading
import uuid

import pytest
from oslo_db import exception as db_exc

from osvmexpire import context
from osvmexpire import exception
from osvmexpire.db import api as db_api
from osvmexpire.worker import endpoint
from tests.unit.worker import fakes

NOW = datetime.datetime(2026, 11, 25, 15, 0, 0)
DAY = datetime.timedelta(days=1)
HANDLED = endpoint.HANDLED
REQUEUE = endpoint.REQUEUE


def new_id() -> str:
    return str(uuid.uuid4())


def msg(name, instance_id, message_id=None, **changes) -> dict:
    """One notification as the batch listener hands it over."""
    note = fakes.notification(name, instance_id, **changes)
    return {'ctxt': {}, 'publisher_id': note['publisher_id'],
            'event_type': note['event_type'], 'payload': note['payload'],
            'metadata': {'message_id': message_id or new_id()}}


def make_ep(db, **kw):
    return endpoint.NovaNotificationEndpoint(
        db.config(), retry_delay=0, max_retry_delay=0, clock=lambda: NOW,
        **kw)


@pytest.fixture
def ep(sqlite_db):
    return make_ep(sqlite_db)


@pytest.fixture
def bulk_calls(monkeypatch):
    """The instance ids each create_vmexpires call was given."""
    calls = []
    real = db_api.create_vmexpires

    def spy(ctx, instances, settings, **kw):
        calls.append(sorted(i['instance_id'] for i in instances))
        return real(ctx, instances, settings, **kw)

    monkeypatch.setattr(db_api, 'create_vmexpires', spy)
    return calls


def record(ctx, iid):
    try:
        return db_api.get_vmexpire_by_instance(ctx, iid)
    except exception.NotFound:
        return None


def kinds(ctx, iid):
    return [e.event for e in db_api.list_events(ctx, instance_id=iid)]


def track(ep, ctx, iid):
    assert ep.info([msg('instance-create-end', iid)]) == HANDLED
    return record(ctx, iid)


def test_creations_are_stored_together(ep, admin_ctx, bulk_calls):
    ids = [new_id() for _ in range(50)]
    batch = [msg('instance-create-end' if n % 2 else
                 'compute-instance-create-end', iid)
             for n, iid in enumerate(ids)]
    assert ep.info(batch) == HANDLED
    assert bulk_calls == [sorted(ids)]
    for n, iid in enumerate(ids):
        row = record(admin_ctx, iid)
        assert row.project_id == fakes.PROJECT_ID
        assert row.instance_name == 'test-vm'
        assert row.user_id == 'admin'
        assert row.created_at == datetime.datetime(2026, 11, 25, 14, 34, 56)
        assert row.expire_at == NOW + 60 * DAY
        assert row.next_action_at is not None
        [created] = db_api.list_events(admin_ctx, instance_id=iid)
        assert created.event == 'created'
        assert created.vmexpire_id == row.id
        assert created.detail == {
            'source': batch[n]['event_type'],
            'expire_at': (NOW + 60 * DAY).isoformat() + 'Z'}


def test_same_record_as_one_by_one(ep, sqlite_db, admin_ctx):
    """The batched INSERT writes what create_vmexpire writes."""
    one, many = new_id(), new_id()
    m = msg('instance-create-end', one)
    assert ep.handle(m['event_type'], m['payload'], m['metadata']) == HANDLED
    assert ep.info([msg('instance-create-end', many)]) == HANDLED
    a, b = record(admin_ctx, one), record(admin_ctx, many)
    skip = {'id', 'instance_id'}
    cols = [c.key for c in a.__table__.columns if c.key not in skip]
    assert ({c: getattr(a, c) for c in cols}
            == {c: getattr(b, c) for c in cols})
    ea = db_api.list_events(admin_ctx, instance_id=one)[0]
    eb = db_api.list_events(admin_ctx, instance_id=many)[0]
    assert (ea.event, ea.actor, ea.detail, ea.project_id) == (
        eb.event, eb.actor, eb.detail, eb.project_id)


def test_mixed_batch(ep, admin_ctx, bulk_calls, caplog):
    """Creations go together; a delete, a rename, an event the worker
    does not use and a malformed payload are handled one by one."""
    caplog.set_level(logging.INFO)
    old, renamed = new_id(), new_id()
    track(ep, admin_ctx, old)
    track(ep, admin_ctx, renamed)
    bulk_calls.clear()
    new = [new_id() for _ in range(3)]
    batch = [
        msg('instance-create-end', new[0]),
        msg('instance-delete-end', old),
        msg('compute-instance-create-end', new[1]),
        msg('instance-update', renamed, display_name='new-name',
            old_display_name='test-vm'),
        msg('instance-create-start', new_id()),
        msg('instance-create-end', new_id(), 'bad-1', tenant_id=None),
        msg('instance-create-end', new[2]),
    ]
    assert ep.info(batch) == HANDLED
    assert bulk_calls == [sorted(new)]
    assert all(record(admin_ctx, iid) for iid in new)
    assert record(admin_ctx, old) is None
    assert kinds(admin_ctx, old) == ['created', 'closed']
    assert record(admin_ctx, renamed).instance_name == 'new-name'
    errors = [r.getMessage() for r in caplog.records
              if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and 'bad-1' in errors[0]
    tracked = [r.getMessage() for r in caplog.records
               if r.getMessage().startswith('Tracking')]
    # one line per batch, each id on it
    assert len(tracked) == 2 + 1
    assert tracked[-1].startswith('Tracking 3 instance(s): instance ')
    assert all(iid in tracked[-1] for iid in new)


def test_duplicates_inside_a_batch(ep, admin_ctx, bulk_calls):
    """Both formats of one creation, and repeats: one record, one event,
    from the first of them (what one by one would do)."""
    dup, other = new_id(), new_id()
    batch = [msg('compute-instance-create-end', dup),
             msg('instance-create-end', other),
             msg('instance-create-end', dup),
             msg('compute-instance-create-end', dup)]
    assert ep.info(batch) == HANDLED
    assert bulk_calls == [sorted([dup, other])]
    [event] = db_api.list_events(admin_ctx, instance_id=dup)
    assert event.detail['source'] == 'compute.instance.create.end'
    assert kinds(admin_ctx, other) == ['created']
    # the whole batch again (a redelivery): nothing changes
    before = record(admin_ctx, dup).expire_at
    assert ep.info(batch) == HANDLED
    assert kinds(admin_ctx, dup) == ['created']
    assert kinds(admin_ctx, other) == ['created']
    assert record(admin_ctx, dup).expire_at == before


def test_updates_beside_a_creation(ep, admin_ctx, bulk_calls):
    """Nova's updates that rename nothing do not hold a creation back; a
    rename does, and is applied after the creation, in order."""
    plain, renamed = new_id(), new_id()
    batch = [msg('instance-update', plain, old_display_name=None),
             msg('instance-create-end', plain),
             msg('instance-create-end', renamed),
             msg('instance-update', plain, old_display_name=None),
             msg('instance-update', renamed, display_name='new-name',
                 old_display_name='test-vm')]
    assert ep.info(batch) == HANDLED
    assert bulk_calls == [[plain]]
    assert record(admin_ctx, plain).instance_name == 'test-vm'
    assert record(admin_ctx, renamed).instance_name == 'new-name'


@pytest.mark.parametrize('order', ['create-first', 'delete-first'])
def test_create_and_delete_in_one_batch(ep, admin_ctx, bulk_calls, order):
    """Applied in the order they came: no record either way."""
    iid = new_id()
    batch = [msg('instance-create-end', iid),
             msg('instance-delete-end', iid)]
    if order == 'delete-first':
        batch.reverse()
    assert ep.info(batch) == HANDLED
    assert bulk_calls == []
    assert record(admin_ctx, iid) is None
    assert kinds(admin_ctx, iid) == (['created', 'closed']
                                     if order == 'create-first'
                                     else ['closed'])


def test_tombstoned_and_tracked_ids_are_skipped(ep, sqlite_db, admin_ctx,
                                                bulk_calls):
    deleted, removed, extended, fresh = (new_id() for _ in range(4))
    assert ep.info([msg('instance-delete-end', deleted)]) == HANDLED
    row = track(ep, admin_ctx, removed)
    db_api.remove_vmexpire(admin_ctx, row.id, actor='admin')
    row = track(ep, admin_ctx, extended)
    db_api.extend_vmexpire(admin_ctx, row.id, NOW + 40 * DAY, ep.settings)
    kept = record(admin_ctx, extended).expire_at
    bulk_calls.clear()
    later = endpoint.NovaNotificationEndpoint(
        sqlite_db.config(), clock=lambda: NOW + 50 * DAY)
    batch = [msg('instance-create-end', iid)
             for iid in (deleted, removed, extended, fresh)]
    assert later.info(batch) == HANDLED
    assert bulk_calls == [sorted((deleted, removed, extended, fresh))]
    assert record(admin_ctx, deleted) is None
    assert kinds(admin_ctx, deleted) == ['closed']
    assert record(admin_ctx, removed) is None
    assert kinds(admin_ctx, removed) == ['created', 'removed']
    assert record(admin_ctx, extended).expire_at == kept
    assert kinds(admin_ctx, extended).count('created') == 1
    assert record(admin_ctx, fresh).expire_at == NOW + 110 * DAY


def test_db_error_requeues_the_batch(ep, admin_ctx, monkeypatch):
    ids = [new_id() for _ in range(5)]
    batch = [msg('instance-create-end', iid) for iid in ids]
    batch.append(msg('instance-delete-end', new_id()))

    def fail(*a, **kw):
        raise db_exc.DBConnectionError('connection refused')

    monkeypatch.setattr(db_api, 'create_vmexpires', fail)
    assert ep.info(batch) == REQUEUE
    assert not any(record(admin_ctx, iid) for iid in ids)
    monkeypatch.undo()
    # redelivered once the database is back
    assert ep.info(batch) == HANDLED
    assert all(record(admin_ctx, iid) for iid in ids)


def test_error_in_one_by_one_part_requeues(ep, admin_ctx, monkeypatch):
    """The creations were stored; the batch comes back and they are
    skipped as tracked: still one record, one event each."""
    ids = [new_id() for _ in range(3)]
    gone = new_id()
    batch = [msg('instance-create-end', iid) for iid in ids]
    batch.append(msg('instance-delete-end', gone))

    def fail(*a, **kw):
        raise db_exc.DBDeadlock()

    real = db_api.close_instance
    monkeypatch.setattr(db_api, 'close_instance', fail)
    assert ep.info(batch) == REQUEUE
    monkeypatch.setattr(db_api, 'close_instance', real)
    assert ep.info(batch) == HANDLED
    assert all(kinds(admin_ctx, iid) == ['created'] for iid in ids)
    assert kinds(admin_ctx, gone) == ['closed']


def test_racing_worker_duplicate_falls_back(ep, admin_ctx, monkeypatch):
    """Another worker tracked one of the batch between our check and our
    INSERT: nothing of ours was written, so one by one."""
    ids = [new_id() for _ in range(4)]
    real = db_api.create_vmexpires

    def raced(ctx, instances, settings, **kw):
        real(context.get_admin_context(), instances[1:2], settings,
             actor='other-worker')
        raise exception.Duplicate('tracked meanwhile')

    monkeypatch.setattr(db_api, 'create_vmexpires', raced)
    assert ep.info([msg('instance-create-end', iid)
                    for iid in ids]) == HANDLED
    for iid in ids:
        assert kinds(admin_ctx, iid) == ['created']
    [event] = db_api.list_events(admin_ctx, instance_id=ids[1])
    assert event.actor == 'other-worker'


def test_bulk_racing_with_delete_leaves_no_record(ep, admin_ctx,
                                                  monkeypatch):
    """A delete committed between the batch's tombstone check and its
    commit: found by the one post-commit query, the record is closed."""
    ids = [new_id() for _ in range(3)]
    real_check = db_api.terminal_instance_ids
    seen = []

    def check(ctx, new_ids):
        seen.append(sorted(new_ids))
        monkeypatch.setattr(db_api, 'terminal_instance_ids', real_check)
        db_api.add_event(ctx, 'closed', ids[0], actor='other-worker')
        return real_check(ctx, new_ids)

    monkeypatch.setattr(db_api, 'terminal_instance_ids', check)
    assert ep.info([msg('instance-create-end', iid)
                    for iid in ids]) == HANDLED
    assert seen == [sorted(ids)]
    assert record(admin_ctx, ids[0]) is None
    assert kinds(admin_ctx, ids[0]) == ['created', 'closed', 'closed']
    assert record(admin_ctx, ids[1]) and record(admin_ctx, ids[2])


def test_only_ignored_events(ep, bulk_calls):
    assert ep.info([msg('instance-create-start', new_id()),
                    msg('instance-update', new_id(),
                        old_display_name=None)]) == HANDLED
    assert bulk_calls == []


def test_sqlite_batches_take_turns(ep, admin_ctx):
    """Threads of one process write one after the other on SQLite: no
    "database is locked", no requeue."""
    batches = [[msg('instance-create-end', new_id()) for _ in range(20)]
               for _ in range(6)]
    results = []

    def run(batch):
        results.append(ep.info(batch))

    threads = [threading.Thread(target=run, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [HANDLED] * 6
    assert len(db_api.tracked_instance_ids(admin_ctx)) == 120


# -- db_api.create_vmexpires on the three backends ---------------------------

def _item(iid, **kw):
    return dict({'instance_id': iid, 'project_id': 'p1',
                 'expire_at': NOW + 60 * DAY, 'created_at': NOW,
                 'instance_name': 'vm', 'detail': {'source': 'test'}}, **kw)


def test_create_vmexpires(any_db, admin_ctx, settings):
    tracked, tomb, fresh = new_id(), new_id(), [new_id() for _ in range(3)]
    db_api.create_vmexpire(admin_ctx, instance_id=tracked, project_id='p1',
                           expire_at=NOW + DAY, settings=settings)
    db_api.close_instance(admin_ctx, tomb)
    items = [_item(tracked), _item(tomb)] + [
        _item(iid, user_id='u', domain_id='d', instance_name='x' * 300)
        for iid in fresh]
    created = db_api.create_vmexpires(admin_ctx, items, settings)
    assert sorted(created) == sorted(fresh)
    assert db_api.get_vmexpire_by_instance(
        admin_ctx, tracked).expire_at == NOW + DAY
    assert db_api.terminal_instance_ids(
        admin_ctx, [tracked, tomb] + fresh) == {tomb}
    row = db_api.get_vmexpire_by_instance(admin_ctx, fresh[0])
    assert (row.user_id, row.domain_id, row.instance_name) == (
        'u', 'd', 'x' * 255)
    assert row.next_action_at < row.expire_at
    assert db_api.create_vmexpires(admin_ctx, items, settings) == []


def test_create_vmexpires_duplicate_writes_nothing(any_db, admin_ctx,
                                                   settings, monkeypatch):
    """An instance tracked by another transaction between the check and
    the INSERT: Duplicate, and none of the batch is written."""
    ids = [new_id() for _ in range(3)]
    real = db_api.removed_instance_ids

    def tracked_meanwhile(ctx, instance_ids):
        monkeypatch.setattr(db_api, 'removed_instance_ids', real)
        db_api.create_vmexpire(ctx, instance_id=ids[2], project_id='p1',
                               expire_at=NOW, settings=settings)
        return real(ctx, instance_ids)

    monkeypatch.setattr(db_api, 'removed_instance_ids', tracked_meanwhile)
    with pytest.raises(exception.Duplicate):
        db_api.create_vmexpires(admin_ctx, [_item(i) for i in ids],
                                settings)
    assert db_api.tracked_instance_ids(admin_ctx) == set()
