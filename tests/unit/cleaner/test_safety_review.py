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
"""Edges found in the safety review of the cleaner (DESIGN.md section 4)."""

import datetime

from osvmexpire.db import api as db_api
from tests.unit.cleaner.fakes import DAY
from tests.unit.cleaner.fakes import T0
from tests.unit.cleaner.fakes import events

SEC = datetime.timedelta(seconds=1)


def overdue(env, instance_id='vm', **kw):
    return env.vm(instance_id, expire_at=T0 - DAY, notified_at=T0 - 11 * DAY,
                  notified_last_at=T0 - 3 * DAY, **kw)


def crashed_mid_delete(env, row):
    """A cleaner marked the row deleting and died before Nova was called."""
    assert db_api.claim(env.ctx, row.id, 'dead', T0, 600 * SEC)
    fresh = db_api.get_claimed(env.ctx, row.id, 'dead', T0)
    assert db_api.mark_deleting(env.ctx, fresh, 'dead', T0)
    env.clock.advance(seconds=601)


def test_crash_left_deleting_mark_cleared_when_excluded(env):
    """Excluded after the crash: the server is kept, and the record must
    not stay "being deleted" (extension and removal refused) forever."""
    row = overdue(env)
    crashed_mid_delete(env, row)
    db_api.create_exclude(env.ctx, 'project', 'p1')
    report = env.run()
    assert report.excluded == 1 and env.nova.servers.calls == []
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.deleting_at is None
    db_api.extend_vmexpire(env.ctx, row.id, env.clock(), env.settings)
    db_api.remove_vmexpire(env.ctx, row.id, actor='admin')


def test_crash_left_deleting_mark_cleared_when_not_deletable(env):
    """The rules no longer allow the deletion (the notice periods were
    lengthened meanwhile): not deleted, and extendable again."""
    row = overdue(env)
    crashed_mid_delete(env, row)
    report = env.run(**{'cleaner.notify_before_days_last': 5})
    assert report.deleted == 0 and env.nova.servers.calls == []
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.deleting_at is None
    db_api.extend_vmexpire(env.ctx, row.id, env.clock(), env.settings)


def test_crash_left_deleting_mark_rechecks_rules_then_deletes(env):
    row = overdue(env)
    crashed_mid_delete(env, row)
    assert env.run().deleted == 1
    assert env.nova.servers.calls == [('get', 'vm'), ('delete', 'vm')]
    assert len(events(env.ctx, 'vm', 'deleted')) == 1


def test_exclusion_added_while_nova_calls_run_is_respected(env):
    """The admin excludes the project after the cleaner prepared the
    deletion (while it waits for Nova): the server must be kept."""
    row = overdue(env)

    def exclude_now(instance_id):
        if not db_api.list_excludes(env.ctx):
            db_api.create_exclude(env.ctx, 'project', 'p1')
    env.nova.servers.on_get = exclude_now
    report = env.run()
    assert report.deleted == 0 and report.excluded == 1
    assert ('delete', 'vm') not in env.nova.servers.calls
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.deleting_at is None and state.claimed_by is None
    assert state.failures == 0


def test_skipped_servers_do_not_use_up_max_deletions(env):
    """Locked servers, due first, must not take the whole budget cycle
    after cycle: the other due servers would never expire."""
    for i in range(3):
        env.vm('locked%d' % i, locked=True, expire_at=T0 - 2 * DAY,
               notified_at=T0 - 12 * DAY, notified_last_at=T0 - 4 * DAY)
    for i in range(3):
        overdue(env, 'vm%d' % i)
    report = env.run(**{'cleaner.max_deletions_per_cycle': 2})
    assert report.skipped == 3
    assert report.deleted == 2 and report.capped == 1
    assert len(env.nova.servers.deleted) == 2
    assert not any(v.startswith('locked') for v in env.nova.servers.deleted)


def test_max_deletions_counts_nothing_that_was_not_deleted(env):
    """A record extended right before its deletion uses no budget."""
    kept = overdue(env, 'b-extended')
    overdue(env, 'c-due')
    real = db_api.excluded_ids
    calls = []

    def extend_on_first_recheck(ctx):
        calls.append(1)
        if len(calls) == 2:
            db_api.extend_vmexpire(env.ctx, kept.id, env.clock(),
                                   env.settings)
        return real(ctx)
    db_api.excluded_ids = extend_on_first_recheck
    try:
        report = env.run(**{'cleaner.max_deletions_per_cycle': 1})
    finally:
        db_api.excluded_ids = real
    assert env.nova.servers.deleted == ['c-due']
    # Whichever was prepared first, the extended one never took the
    # budget from the due one.
    assert report.deleted == 1


def test_dry_run_cleaner_reconciliation_writes_nothing(env):
    """Rule 9: a dry-run cleaner's periodic reconciliation only reports."""
    from osvmexpire.cleaner import service
    from tests.unit.worker import fakes as worker_fakes
    nova = worker_fakes.Nova()
    nova.servers.add('s-new')
    nova.servers.add('s-kept')
    kept = env.vm('s-kept', server=False, expire_at=T0 + 30 * DAY)
    gone = env.vm('s-gone', server=False, expire_at=T0 + 30 * DAY)
    conf = env.conf(**{'cleaner.dry_run': True})
    runner = service.Runner(conf, cycle=env.cycle(conf=conf))
    runner.cycle._nova = nova
    counts = runner.run_sync()
    assert counts == {'created': 1, 'closed': 1, 'unchanged': 1,
                      'skipped': 0}
    assert db_api.tracked_instance_ids(env.ctx) == {'s-kept', 's-gone'}
    assert [e.event for e in events(env.ctx, 's-new')] == []
    assert [e.event for e in events(env.ctx, 's-gone')] == ['created']
    assert db_api.get_vmexpire(env.ctx, gone.id) is not None
    assert db_api.get_vmexpire(env.ctx, kept.id) is not None


def test_slow_keystone_cannot_outlast_the_claim_before_mailing(env):
    """Rule 4: the owner lookup happens before the claim-margin check, so
    a slow Keystone cannot leave a claim that lapses while the warning is
    mailed (another cleaner would then send it again)."""
    row = env.vm('vm', expire_at=T0 + 5 * DAY)
    real_get = env.keystone.users.get

    def slow_get(ident):
        env.clock.advance(seconds=500)          # claim_timeout is 600 s
        return real_get(ident)
    env.keystone.users.get = slow_get
    report = env.run()
    assert env.mailer.sent == [] and report.deferred == 1
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.notified_at is None and state.claimed_by is None
    env.keystone.users.get = real_get
    env.clock.advance(minutes=5)
    env.run()
    assert len(env.mailer.sent) == 1


def test_dry_run_shows_the_deletion_cap(env):
    for i in range(5):
        overdue(env, 'vm%d' % i)
    report = env.run(**{'cleaner.dry_run': True,
                        'cleaner.max_deletions_per_cycle': 2})
    assert report.dry_run == 2 and report.capped == 3
    assert env.nova.servers.calls == []
    for i in range(5):
        state = db_api.get_vmexpire_by_instance(env.ctx, 'vm%d' % i)
        assert state.deleting_at is None and state.claimed_by is None
