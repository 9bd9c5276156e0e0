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
"""Concurrency on MariaDB and PostgreSQL: parallel cleaners, the extension
race of the original project (MariaDB REPEATABLE READ), a killed cleaner.
"""

import collections
import datetime
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from osvmexpire import context
from osvmexpire import exception
from osvmexpire.cleaner import cycle as cycle_mod
from osvmexpire.db import api as db_api
from osvmexpire.db import models
from tests import fixtures
from tests.functional.cleaner.conftest import Env
from tests.unit.cleaner import fakes
from tests.unit.cleaner.fakes import DAY
from tests.unit.cleaner.fakes import T0
from tests.unit.cleaner.fakes import events
from tests.unit.cleaner.fakes import row_state

MINUTE = datetime.timedelta(minutes=1)


def test_claim_is_atomic(server_env):
    env = server_env
    row = env.vm('vm', expire_at=T0 + DAY)
    barrier = threading.Barrier(8)
    wins = []

    def grab(i):
        barrier.wait()
        if db_api.claim(context.get_admin_context(), row.id, 'c%d' % i, T0,
                        datetime.timedelta(minutes=10)):
            wins.append(i)
    threads = [threading.Thread(target=grab, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1


def test_claim_page_is_atomic(server_env):
    """Cleaners claiming the same page at once: each row goes to exactly
    one, and each gets back exactly the rows it holds."""
    env = server_env
    ids = [env.vm('vm%d' % i, expire_at=T0 + DAY).id for i in range(20)]
    ids.reverse()                               # any order is kept
    barrier = threading.Barrier(6)
    got = {}

    def grab(i):
        barrier.wait()
        got[i] = db_api.claim_page(context.get_admin_context(), ids,
                                   'c%d' % i, T0,
                                   datetime.timedelta(minutes=10))
    threads = [threading.Thread(target=grab, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    taken = [row.id for rows in got.values() for row in rows]
    assert sorted(taken) == sorted(ids)
    for i, rows in got.items():
        assert [r.id for r in rows] == [x for x in ids
                                        if x in {r.id for r in rows}]
        for row in rows:
            assert row_state(env.ctx, row.id)['claimed_by'] == 'c%d' % i
    # A live claim is never taken; a lapsed one is.
    assert db_api.claim_page(env.ctx, ids, 'late', T0, MINUTE) == []
    later = T0 + datetime.timedelta(minutes=11)
    assert len(db_api.claim_page(env.ctx, ids, 'late', later,
                                 MINUTE)) == 20


def test_two_cleaners_in_parallel(server_env):
    """Each warning is sent once, each VM is deleted once."""
    env = server_env
    env.cloud.add_user('u3')
    warn_ids, del_ids = [], []
    for i in range(24):
        user = 'u%d' % (i % 3 + 1)
        warn_ids.append(env.vm('w%02d' % i, user=user,
                               expire_at=T0 + (i % 9 + 1) * DAY).instance_id)
        del_ids.append(env.overdue('d%02d' % i, user=user).instance_id)
    barrier = threading.Barrier(2)
    reports = {}

    def run(name):
        cyc = env.cycle(owner_id=name, **{'cleaner.batch_size': 4,
                                          'cleaner.nova_concurrency': 4})
        barrier.wait()
        reports[name] = cyc.run()
    threads = [threading.Thread(target=run, args=(n,))
               for n in ('cleaner-1', 'cleaner-2')]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    a, b = reports['cleaner-1'], reports['cleaner-2']
    # Both cleaners did work (real overlap), and nothing twice.
    assert a.claimed and b.claimed
    assert a.warned + b.warned == 24
    assert a.deleted + b.deleted == 24
    deletes = collections.Counter(p.rsplit('/', 1)[1]
                                  for _, p in env.cloud.calls('DELETE'))
    assert deletes == collections.Counter(del_ids)
    assert sorted(env.cloud.deleted) == sorted(del_ids)
    mailed = collections.Counter()
    for m in env.smtp.messages:
        text = m.text()
        for iid in warn_ids:
            if 'Server id:     %s\n' % iid in text:
                mailed[iid] += 1
    assert mailed == collections.Counter(warn_ids)
    for iid in warn_ids:
        assert len(events(env.ctx, iid, 'warned')) == 1
    for iid in del_ids:
        assert len(events(env.ctx, iid, 'deleted')) == 1
    # A second round in parallel finds nothing left to do.
    env.smtp.messages.clear()
    threads = [threading.Thread(target=run, args=(n,))
               for n in ('cleaner-1', 'cleaner-2')]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert env.smtp.messages == []


# -- an extension lands between the cleaner's select and its delete -----------


def _extend_in_other_connection(env, row_id):
    """The owner's PUT, as the API runs it: its own connection, committed."""
    errors = []

    def extend():
        try:
            db_api.extend_vmexpire(context.get_admin_context(), row_id,
                                   env.clock(), env.settings, actor='u1')
        except Exception as exc:
            errors.append(exc)
    t = threading.Thread(target=extend)
    t.start()
    t.join(30)
    return errors


@pytest.fixture
def mariadb_env(smtp, cloud):
    with fixtures.Database('mysql') as db:
        yield Env(db, smtp, cloud)


def test_mariadb_is_repeatable_read_and_a_held_snapshot_is_stale(
        mariadb_env):
    """What the original cleaner hit: a long transaction keeps seeing the
    expiry it first read, after the owner's extension has committed."""
    env = mariadb_env
    row = env.overdue()
    with env.db.engine.connect() as conn:
        level = conn.exec_driver_sql(
            'SELECT @@tx_isolation').scalar()
        assert level == 'REPEATABLE-READ'
        conn.rollback()
        table = models.VmExpire.__table__
        query = sa.select(table.c.expire_at).where(table.c.id == row.id)
        with conn.begin():
            before = conn.execute(query).scalar()
            assert _extend_in_other_connection(env, row.id) == []
            stale = conn.execute(query).scalar()
        fresh = conn.execute(query).scalar()
        conn.rollback()
    assert stale == before == T0 - DAY          # the stale snapshot
    assert fresh == T0 + 30 * DAY               # what really holds


@pytest.mark.parametrize('point', [
    'after_select', 'after_claim', 'before_mark_deleting'])
def test_extension_between_select_and_delete(mariadb_env, monkeypatch,
                                              point):
    env = mariadb_env
    row = env.overdue()
    fired = []

    def inject(name, real):
        def wrapper(*args, **kwargs):
            if name == point and not fired:
                fired.append(_extend_in_other_connection(env, row.id))
            return real(*args, **kwargs)

        def after(*args, **kwargs):
            result = real(*args, **kwargs)
            if name == point and not fired:
                fired.append(_extend_in_other_connection(env, row.id))
            return result
        return after if name in ('after_select', 'after_claim') else wrapper
    monkeypatch.setattr(db_api, 'due_ids', inject('after_select',
                                                  db_api.due_ids))
    monkeypatch.setattr(db_api, 'claim_page', inject('after_claim',
                                                     db_api.claim_page))
    monkeypatch.setattr(db_api, 'mark_deleting', inject(
        'before_mark_deleting', db_api.mark_deleting))
    report = env.run()
    assert fired == [[]]                        # the extension succeeded
    assert report.deleted == 0
    assert env.cloud.calls('DELETE') == [] and env.cloud.servers
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.expire_at == T0 + 30 * DAY
    assert state.notified_at is None and state.deleting_at is None
    assert events(env.ctx, 'vm', 'deleted') == []


def test_extension_after_mark_deleting_is_refused(mariadb_env):
    """Once the cleaner committed to delete, the owner gets a 409, never a
    silent success followed by a deletion."""
    env = mariadb_env
    row = env.overdue()
    gate = threading.Event()
    env.cloud.fault(r'/compute/', ('gate', gate), method='GET')
    t = threading.Thread(target=env.run)
    t.start()
    deadline = time.monotonic() + 10
    while not env.cloud.calls('GET') and time.monotonic() < deadline:
        time.sleep(0.05)
    errors = _extend_in_other_connection(env, row.id)
    gate.set()
    t.join(30)
    assert len(errors) == 1 and isinstance(errors[0], exception.Conflict)
    assert env.cloud.deleted == ['vm']


# -- a cleaner killed mid-cycle ----------------------------------------------


def test_killed_cleaner_claims_lapse(server_env, tmp_path):
    """kill -9 a real osvmexpire-cleaner while it waits on Nova (after
    mark_deleting); another cleaner finishes once the claim lapsed."""
    env = server_env
    now = db_api.utcnow()
    row = fakes.make_vm(env.ctx, env.settings, 'vm', expire_at=now - DAY,
                        notified_at=now - 11 * DAY,
                        notified_last_at=now - 3 * DAY)
    env.cloud.add_server('vm', 'p1')
    gate = threading.Event()
    env.cloud.fault(r'/compute/', ('gate', gate), method='GET', times=1)
    conf_file = tmp_path / 'cleaner.conf'
    conf_file.write_text(
        '[database]\nconnection = %s\n[cleaner]\nclaim_timeout = 60\n'
        '[smtp]\nemail_smtp_host = 127.0.0.1\nemail_smtp_port = %d\n%s'
        % (env.db.url, env.smtp.port, env.cloud.config_file_section(10)))
    proc = subprocess.Popen(
        [sys.executable, '-m', 'osvmexpire.cmd.cleaner', '--once',
         '--config-file', str(conf_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=dict(os.environ, OSVMEXPIRE_CONFIG=''))
    try:
        deadline = time.monotonic() + 60
        while not env.cloud.calls('GET') and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        assert env.cloud.calls('GET'), 'the cleaner never reached Nova'
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        gate.set()
    dead = row_state(env.ctx, row.id)
    assert dead['claimed_by'] and dead['deleting_at'] is not None
    # While the claim holds, another cleaner leaves the row alone...
    other = cycle_mod.Cycle(env.conf(**{'cleaner.claim_timeout': 60}),
                            clock=lambda: db_api.utcnow(),
                            owner_id='survivor')
    assert other.run().claimed == 0
    assert env.cloud.calls('DELETE') == []
    # ... and takes over once it has lapsed: deleted exactly once.
    later = cycle_mod.Cycle(
        env.conf(**{'cleaner.claim_timeout': 60}),
        clock=lambda: db_api.utcnow() + datetime.timedelta(seconds=61),
        owner_id='survivor')
    assert later.run().deleted == 1
    assert env.cloud.deleted == ['vm']
    assert len(env.cloud.calls('DELETE')) == 1
    assert [e.event for e in events(env.ctx, 'vm')][-1] == 'deleted'


# -- clocks ----------------------------------------------------------------


def test_cleaners_share_the_database_clock(server_env, monkeypatch):
    """A host clock that jumps (here: two days back) changes nothing: the
    cleaners decide and claim by the database server's clock, so a live
    claim never looks lapsed to another cleaner."""
    env = server_env
    real_now = db_api.db_utcnow(env.ctx)
    monkeypatch.setattr(db_api, 'utcnow',
                        lambda: real_now - 2 * DAY)       # the host clock
    row = fakes.make_vm(env.ctx, env.settings, 'vm',
                        expire_at=real_now - DAY,
                        notified_at=real_now - 11 * DAY,
                        notified_last_at=real_now - 3 * DAY)
    env.cloud.add_server('vm', 'p1')
    gate = threading.Event()
    env.cloud.fault(r'/compute/', ('gate', gate), method='GET', times=1)
    first = cycle_mod.Cycle(env.conf(), owner_id='first')
    assert abs(first.clock() - real_now) < datetime.timedelta(seconds=5)
    result = {}
    t = threading.Thread(target=lambda: result.update(r=first.run()))
    t.start()
    try:
        deadline = time.monotonic() + 20
        while not env.cloud.calls('GET') and time.monotonic() < deadline:
            time.sleep(0.05)
        held = row_state(env.ctx, row.id)
        assert held['claimed_by'] == 'first'
        assert held['claimed_until'] >= real_now + datetime.timedelta(
            seconds=590)
        second = cycle_mod.Cycle(env.conf(), owner_id='second')
        assert second.run().claimed == 0
    finally:
        gate.set()
        t.join(30)
    assert result['r'].deleted == 1
    assert len(env.cloud.calls('DELETE')) == 1


def test_clock_jumps_between_cycles(server_env):
    """Cycles whose clock jumps far ahead, then back: warnings go out once
    each, in order, and nothing is deleted without the full notice."""
    env = server_env
    row = env.vm('vm', expire_at=T0 + 10 * DAY)
    env.clock.advance(days=400)                   # far ahead
    assert env.run().warned == 1                  # first warning only
    env.clock.advance(days=-400)                  # back to T0
    for _ in range(12):                           # the next 12 days
        env.run()
        env.clock.advance(days=1)
    assert env.cloud.calls() == []
    assert len(events(env.ctx, 'vm', 'warned')) == 1
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.notified_at == T0 + 400 * DAY
    env.clock.advance(days=400 + 8 - 12)          # catch up: 8 d after 1st
    env.run()
    assert len(events(env.ctx, 'vm', 'warned')) == 2
    env.clock.advance(days=2, seconds=-1)
    env.run()
    assert env.cloud.deleted == []
    env.clock.advance(seconds=1)
    env.run()
    assert env.cloud.deleted == ['vm']
