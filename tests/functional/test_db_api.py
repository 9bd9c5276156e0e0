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
"""The data layer on SQLite, MariaDB and PostgreSQL."""

import datetime
import threading
import uuid

import pytest

from osvmexpire import context
from osvmexpire import exception
from osvmexpire import expiration as ex
from osvmexpire.db import api as db_api
from tests import fixtures

D = ex.DAY
S = ex.Settings()
TTL = datetime.timedelta(minutes=10)


@pytest.fixture
def ctx(any_db):
    return context.get_admin_context()


def _create(ctx, instance_id=None, project='p1', expire_in=60 * D,
            now=None, **kw):
    now = now or db_api.utcnow()
    return db_api.create_vmexpire(
        ctx, instance_id=instance_id or str(uuid.uuid4()), project_id=project,
        expire_at=now + expire_in, settings=S, created_at=now,
        instance_name=kw.pop('name', 'vm'), user_id=kw.pop('user', 'u1'),
        **kw)


def test_create_and_read(ctx):
    row = _create(ctx, 'i-1', name='web')
    got = db_api.get_vmexpire(ctx, row.id)
    assert (got.instance_id, got.instance_name, got.extensions) == (
        'i-1', 'web', 0)
    assert got.next_action_at == got.expire_at - 10 * D
    assert db_api.get_vmexpire_by_instance(ctx, 'i-1').id == row.id
    assert db_api.find_vmexpire(ctx, 'i-1').id == row.id
    assert db_api.find_vmexpire(ctx, row.id).id == row.id
    events = db_api.list_events(ctx, vmexpire_id=row.id)
    assert [e.event for e in events] == ['created']


def test_project_scoping(ctx):
    row = _create(ctx, project='p1')
    with pytest.raises(exception.NotFound):
        db_api.get_vmexpire(ctx, row.id, project_id='p2')
    with pytest.raises(exception.NotFound):
        db_api.find_vmexpire(ctx, row.instance_id, project_id='p2')
    with pytest.raises(exception.NotFound):
        db_api.extend_vmexpire(ctx, row.id, db_api.utcnow(), S,
                               project_id='p2')
    with pytest.raises(exception.NotFound):
        db_api.remove_vmexpire(ctx, row.id, project_id='p2')
    assert db_api.get_vmexpire(ctx, row.id).project_id == 'p1'


def test_duplicate_and_tombstone(ctx):
    _create(ctx, 'i-dup')
    with pytest.raises(exception.Duplicate):
        _create(ctx, 'i-dup')
    assert db_api.close_instance(ctx, 'i-dup') is True
    # a late create.end does not bring it back
    with pytest.raises(exception.Tombstoned):
        _create(ctx, 'i-dup', respect_tombstone=True)
    # delete before create: tombstone without a record
    assert db_api.close_instance(ctx, 'i-early') is False
    with pytest.raises(exception.Tombstoned):
        _create(ctx, 'i-early', respect_tombstone=True)
    assert db_api.removed_instance_ids(ctx, ['i-dup', 'i-early', 'x']) == {
        'i-dup', 'i-early'}
    # an admin may start tracking it again explicitly
    _create(ctx, 'i-early')
    assert db_api.removed_instance_ids(ctx, ['i-early']) == set()


def test_list_paging_filters_total(ctx):
    now = db_api.utcnow()
    rows = [_create(ctx, project='pl', expire_in=(i + 1) * D, now=now,
                    user='u%d' % (i % 2)) for i in range(7)]
    _create(ctx, project='other')
    page, total = db_api.list_vmexpires(ctx, project_id='pl', limit=3)
    assert total == 7 and [r.id for r in page] == [r.id for r in rows[:3]]
    page2, _ = db_api.list_vmexpires(ctx, project_id='pl', limit=3,
                                     marker=page[-1].id)
    assert [r.id for r in page2] == [r.id for r in rows[3:6]]
    _, total_u = db_api.list_vmexpires(ctx, project_id='pl', user_id='u0')
    assert total_u == 4
    soon, total_s = db_api.list_vmexpires(ctx, project_id='pl',
                                          expire_before=now + 3 * D)
    assert total_s == 2
    with pytest.raises(exception.NotFound):
        db_api.list_vmexpires(ctx, project_id='other', marker=rows[0].id)
    _, all_total = db_api.list_vmexpires(ctx)
    assert all_total == 8


def test_keyset_paging_walks_ties_exactly_once(ctx):
    """Records sharing an expiry straddle page boundaries: each page starts
    right after its marker in (expire_at, id) order, on both read paths."""
    now = db_api.utcnow()
    rows = [_create(ctx, project='pk', expire_in=(1 + i // 3) * D, now=now)
            for i in range(8)]
    _create(ctx, project='other', expire_in=2 * D, now=now)
    want = [r.id for r in sorted(rows, key=lambda r: (r.expire_at, r.id))]
    for lister in (db_api.list_vmexpires, db_api.list_vmexpires_view):
        seen, marker = [], None
        while True:
            page, total = lister(ctx, project_id='pk', limit=2,
                                 marker=marker)
            assert total == 8
            if not page:
                break
            seen += [r.id for r in page]
            marker = page[-1].id
        assert seen == want, lister.__name__


def test_extend_resets_warnings_and_audits(ctx):
    now = db_api.utcnow()
    row = _create(ctx, expire_in=5 * D, now=now)
    assert db_api.claim(ctx, row.id, 'c1', now, TTL)
    claimed = db_api.get_claimed(ctx, row.id, 'c1', now)
    assert db_api.record_warning(ctx, claimed, 'c1',
                                 ex.Action.FIRST_WARNING, now, S)
    new = db_api.extend_vmexpire(ctx, row.id, now, S, days=30,
                                 actor='alice')
    assert new.expire_at == now + 30 * D
    assert new.notified_at is None and new.notified_last_at is None
    assert new.extensions == 1 and new.version == 2
    assert new.extend_notice_pending is True
    assert new.next_action_at == now + 20 * D
    events = db_api.list_events(ctx, vmexpire_id=row.id)
    assert [e.event for e in events] == ['created', 'warned', 'extended']
    assert events[-1].actor == 'alice'
    assert events[-1].detail['new_expire_at'].endswith('Z')


def test_extension_refused_at_cap(ctx):
    now = db_api.utcnow()
    row = _create(ctx, now=now - 364 * D, expire_in=365 * D)
    with pytest.raises(ex.ExtensionRefused):
        db_api.extend_vmexpire(ctx, row.id, now, S, days=30)
    forced = db_api.extend_vmexpire(ctx, row.id, now, S, days=30,
                                    force=True)
    assert forced.expire_at == now + 30 * D
    assert db_api.list_events(ctx, vmexpire_id=row.id)[-1].detail['force']


def test_claims_are_exclusive_and_lapse(ctx):
    now = db_api.utcnow()
    row = _create(ctx)
    assert db_api.claim(ctx, row.id, 'a', now, TTL)
    assert not db_api.claim(ctx, row.id, 'b', now, TTL)
    assert db_api.get_claimed(ctx, row.id, 'b', now) is None
    # claim lapsed: b takes over, a no longer holds it
    later = now + TTL + datetime.timedelta(seconds=1)
    assert db_api.claim(ctx, row.id, 'b', later, TTL)
    assert db_api.get_claimed(ctx, row.id, 'a', later) is None
    assert db_api.get_claimed(ctx, row.id, 'b', later) is not None
    db_api.release(ctx, row.id, 'b')
    assert db_api.claim(ctx, row.id, 'c', later, TTL)


def test_due_ids_scan(ctx):
    now = db_api.utcnow()
    due = [_create(ctx, expire_in=(i + 1) * D, now=now) for i in range(5)]
    _create(ctx, expire_in=50 * D, now=now)
    found = db_api.due_ids(ctx, now, limit=3)
    assert [i for _, i in found] == [r.id for r in due[:3]]
    rest = db_api.due_ids(ctx, now, limit=10, after=found[-1])
    assert [i for _, i in rest] == [r.id for r in due[3:]]
    assert db_api.claim(ctx, due[0].id, 'x', now, TTL)
    assert due[0].id not in [i for _, i in db_api.due_ids(ctx, now, 10)]


def test_extension_between_decision_and_delete_wins(ctx):
    """The original's bug: the cleaner decided on a stale row."""
    now = db_api.utcnow()
    row = _create(ctx, expire_in=-1 * D, now=now)
    assert db_api.claim(ctx, row.id, 'c', now, TTL)
    seen = db_api.get_claimed(ctx, row.id, 'c', now)
    db_api.extend_vmexpire(ctx, row.id, now, S)          # user extends
    assert not db_api.record_warning(ctx, seen, 'c',
                                     ex.Action.FIRST_WARNING, now, S)
    assert not db_api.mark_deleting(ctx, seen, 'c', now)
    fresh = db_api.get_claimed(ctx, row.id, 'c', now)
    assert fresh.version == seen.version + 1
    assert db_api.mark_deleting(ctx, fresh, 'c', now)
    # once deletion started, extensions are refused
    with pytest.raises(exception.Conflict):
        db_api.extend_vmexpire(ctx, row.id, now, S)
    with pytest.raises(exception.Conflict):
        db_api.remove_vmexpire(ctx, row.id)
    db_api.finish(ctx, fresh, 'deleted', detail={'by': 'test'})
    with pytest.raises(exception.NotFound):
        db_api.get_vmexpire(ctx, row.id)
    kinds = [e.event for e in
             db_api.list_events(ctx, instance_id=row.instance_id)]
    assert kinds == ['created', 'extended', 'deleted']


def test_failures_and_stuck(ctx):
    now = db_api.utcnow()
    row = _create(ctx, expire_in=1 * D, now=now)
    assert db_api.claim(ctx, row.id, 'c', now, TTL)
    seen = db_api.get_claimed(ctx, row.id, 'c', now)
    db_api.record_failure(ctx, seen, 'c', 'failed', 'no e-mail address')
    stuck, total = db_api.list_vmexpires(ctx, stuck=True)
    assert total == 1 and stuck[0].last_error == 'no e-mail address'
    assert stuck[0].failures == 1


def test_remove_and_rename(ctx):
    row = _create(ctx, 'i-r')
    assert db_api.rename_instance(ctx, 'i-r', 'new-name')
    assert not db_api.rename_instance(ctx, 'i-r', 'new-name')
    assert db_api.get_vmexpire(ctx, row.id).instance_name == 'new-name'
    db_api.remove_vmexpire(ctx, row.id, actor='admin')
    assert db_api.removed_instance_ids(ctx, ['i-r']) == {'i-r'}
    assert db_api.list_events(ctx, instance_id='i-r')[-1].event == 'removed'


def test_exclusions(ctx):
    exc = db_api.create_exclude(ctx, 'project', 'p9')
    with pytest.raises(exception.Duplicate):
        db_api.create_exclude(ctx, 'project', 'p9')
    with pytest.raises(ValueError):
        db_api.create_exclude(ctx, 'planet', 'x')
    db_api.create_exclude(ctx, 'user', 'u9')
    assert db_api.excluded_ids(ctx) == {'domain': set(), 'project': {'p9'},
                                        'user': {'u9'}}
    assert [e.exclude_id for e in db_api.list_excludes(ctx, 'user')] == [
        'u9']
    db_api.delete_exclude(ctx, exc.id)
    with pytest.raises(exception.NotFound):
        db_api.get_exclude(ctx, exc.id)


@pytest.mark.parametrize('backend', ['mysql', 'postgresql'])
def test_concurrent_claims_take_each_row_once(backend):
    with fixtures.Database(backend) as db:
        _concurrent_claims(db)


def _concurrent_claims(db):
    ctx = context.get_admin_context()
    now = db_api.utcnow()
    ids = [_create(ctx, expire_in=-1 * D, now=now).id for _ in range(40)]
    taken = {'a': [], 'b': []}
    barrier = threading.Barrier(2)

    def worker(name):
        wctx = context.get_admin_context()
        barrier.wait()
        for row_id in ids:
            if db_api.claim(wctx, row_id, name, now, TTL):
                taken[name].append(row_id)

    threads = [threading.Thread(target=worker, args=(n,)) for n in taken]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken['a'] + taken['b']) == sorted(ids)
    assert not set(taken['a']) & set(taken['b'])
