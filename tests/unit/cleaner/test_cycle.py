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
"""The cleaner cycle against fake Nova/Keystone/SMTP and a fixed clock.

Each safety rule of DESIGN.md section 4 and each fault of issue 5 has a
test here; the same faults run against real servers in
tests/functional/cleaner.
"""

import datetime

import pytest
from keystoneauth1 import exceptions as ks_exc
from novaclient import exceptions as nova_exc

from osvmexpire import exception
from osvmexpire import expiration
from osvmexpire.db import api as db_api
from tests.unit.cleaner.fakes import DAY
from tests.unit.cleaner.fakes import T0
from tests.unit.cleaner.fakes import events
from tests.unit.cleaner.fakes import row_state

SEC = datetime.timedelta(seconds=1)


def lifecycle(env, row, until_days=40, step_hours=6):
    """Run cycles every ``step_hours`` until the VM is deleted; returns the
    deletion time (clock) or None."""
    end = env.clock.now + until_days * DAY
    while env.clock.now < end:
        env.run()
        if row.instance_id in env.nova.servers.deleted:
            return env.clock.now
        env.clock.advance(hours=step_hours)
    return None


# -- warnings -----------------------------------------------------------------

def test_one_digest_per_owner_per_cycle(env):
    a1 = env.vm('a1', user='u1', expire_at=T0 + 5 * DAY)
    a2 = env.vm('a2', user='u1', project='p2', expire_at=T0 + 9 * DAY)
    a3 = env.vm('a3', user='u1', expire_at=T0 + 1 * DAY,
                notified_at=T0 - 9 * DAY)
    b1 = env.vm('b1', user='u2', expire_at=T0 + 3 * DAY)
    env.vm('later', user='u2', expire_at=T0 + 30 * DAY)
    report = env.run()
    assert report.warned == 4 and report.mails == 2
    assert len(env.mailer.to('u1@example.org')) == 1
    msg = env.mailer.to('u1@example.org')[0]
    body = msg.get_body(('plain',)).get_content()
    for row in (a1, a2, a3):
        assert row.instance_id in body and row.id in body
    assert 'name-p2' in body                     # project name from Keystone
    assert 'LAST WARNING' in body and 'First warning' in body
    assert '2030-06-06 12:00 UTC (in 5 days)' in body
    assert 'openstack vmexpire extend %s' % a1.id in body
    assert msg['Date'] and msg['Message-ID']
    assert msg.get_body(('html',)) is not None
    assert db_api.get_vmexpire(env.ctx, a1.id).notified_at == T0
    assert db_api.get_vmexpire(env.ctx, a3.id).notified_last_at == T0
    assert db_api.get_vmexpire(env.ctx, b1.id).notified_at == T0
    assert [e.detail['to'] for e in events(env.ctx, 'a1', 'warned')] == [
        'u1@example.org']
    # Nothing due any more: the next cycle sends nothing.
    env.mailer.sent.clear()
    assert env.run().mails == 0


def test_copy_addresses_are_bcc_of_the_right_mail(env):
    env.overrides.update({
        'smtp.email_smtp_copy_expire_notif_to': ['warn-copy@example.org'],
        'smtp.email_smtp_copy_delete_notif_to': ['del-copy@example.org']})
    env.vm('w', expire_at=T0 + 5 * DAY)
    env.vm('d', user='u2', expire_at=T0 - 3 * DAY,
           notified_at=T0 - 13 * DAY, notified_last_at=T0 - 5 * DAY)
    env.run()
    sent = {m['To']: (m, bcc) for m, bcc in env.mailer.sent}
    warn, warn_bcc = sent['u1@example.org']
    dele, dele_bcc = sent['u2@example.org']
    assert warn_bcc == ['warn-copy@example.org']
    assert dele_bcc == ['del-copy@example.org']
    assert 'Bcc' not in warn and 'Bcc' not in dele
    assert 'deleted' in dele['Subject']


def test_full_lifecycle_deletes_only_after_full_notice(env):
    row = env.vm('vm', expire_at=T0 + 10 * DAY)
    deleted_at = lifecycle(env, row)
    assert deleted_at == T0 + 10 * DAY
    kinds = [e.event for e in events(env.ctx, 'vm')]
    assert kinds == ['created', 'warned', 'warned', 'deleted']
    warned = events(env.ctx, 'vm', 'warned')
    assert warned[0].created_at == T0
    assert warned[1].created_at == T0 + 8 * DAY
    # The owner got the deletion notice.
    subjects = [m['Subject'] for m, _ in env.mailer.sent]
    assert subjects[-1] == '1 expired server deleted'


def test_late_warning_moves_deletion_later(env):
    """Service down for weeks: the owner still gets the full notice."""
    row = env.vm('vm', expire_at=T0 - 20 * DAY)
    deleted_at = lifecycle(env, row)
    assert deleted_at == T0 + 10 * DAY        # first warning at T0 + 10 days
    first, last = events(env.ctx, 'vm', 'warned')
    assert first.created_at == T0
    assert last.created_at == T0 + 8 * DAY


def test_never_deleted_one_second_early(env):
    env.vm('vm', expire_at=T0, notified_at=T0 - 10 * DAY,
           notified_last_at=T0 - 2 * DAY + SEC)
    env.run()
    assert env.nova.servers.calls == []
    env.clock.advance(seconds=1)
    env.run()
    assert env.nova.servers.deleted == ['vm']


# -- owner unreachable: no deletion, operator told ----------------------------

@pytest.mark.parametrize('setup,reason', [
    (lambda ks: ks.add_user('u1', email=None), 'has no e-mail address'),
    (lambda ks: ks.users.items.pop('u1'), 'no longer exists'),
], ids=['no-email', 'user-gone'])
def test_owner_unreachable_is_never_deleted(env, setup, reason):
    env.overrides['smtp.email_operator_to'] = ['ops@example.org']
    setup(env.keystone)
    row = env.vm('vm', expire_at=T0 - 30 * DAY)
    assert lifecycle(env, row, until_days=60, step_hours=24) is None
    assert env.nova.servers.calls == []
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.notified_at is None
    assert state.failures == 60 and reason in state.last_error
    failed = events(env.ctx, 'vm', 'failed')
    assert failed and reason in failed[0].detail['error']
    # The operator heard of it (first failure, then a daily reminder), and
    # "vm list --stuck" lists it.
    ops = env.mailer.to('ops@example.org')
    assert 2 <= len(ops) <= 12
    assert 'vm' in ops[0].get_content() and reason in ops[0].get_content()
    stuck, total = db_api.list_vmexpires(env.ctx, stuck=True)
    assert [r.id for r in stuck] == [row.id]
    # Once the owner has an address, the normal warnings start; deletion
    # comes only after the full notice from then.
    env.keystone.add_user('u1')
    start = env.clock.now
    assert lifecycle(env, row) == start + 10 * DAY
    assert db_api.list_vmexpires(env.ctx, stuck=True)[1] == 0


def test_record_without_user_is_not_deleted(env):
    row = env.vm('vm', user=None, expire_at=T0 - DAY)
    assert lifecycle(env, row, until_days=30, step_hours=24) is None
    assert 'no owner' in db_api.get_vmexpire(env.ctx, row.id).last_error


def test_smtp_refusing_then_recovering(env):
    row = env.vm('vm', expire_at=T0 + 10 * DAY)
    env.mailer.fail = 'recipient refused: u1@example.org (550 no such user)'
    env.run()
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.notified_at is None and state.failures == 1
    assert '550' in state.last_error
    env.clock.advance(days=3)
    env.mailer.fail = None
    env.run()
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.notified_at == T0 + 3 * DAY and state.failures == 0
    # The delay moves the deletion: 10 days after the delivered warning.
    assert lifecycle(env, row) == T0 + 13 * DAY


def test_smtp_down_blocks_deletion_forever(env):
    row = env.vm('vm', expire_at=T0 - DAY, notified_at=T0 - 11 * DAY)
    env.mailer.fail = 'cannot connect to SMTP server localhost:25: refused'
    assert lifecycle(env, row, until_days=60, step_hours=24) is None
    assert env.nova.servers.calls == []
    assert db_api.get_vmexpire(env.ctx, row.id).notified_last_at is None


def test_keystone_down_no_warning_no_deletion(env):
    row = env.vm('vm', expire_at=T0 + DAY)
    env.keystone.down = True
    env.run()
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.notified_at is None and state.failures == 1
    assert 'Keystone' in state.last_error
    assert env.mailer.sent == []
    env.keystone.down = False
    env.clock.advance(hours=1)
    env.run()
    assert db_api.get_vmexpire(env.ctx, row.id).notified_at == env.clock.now


def test_keystone_down_still_deletes_fully_warned_vm(env):
    """Deletion needs no Keystone (no domain exclusion): notice only."""
    env.vm('vm', expire_at=T0 - DAY, notified_at=T0 - 11 * DAY,
           notified_last_at=T0 - 3 * DAY)
    env.keystone.down = True
    report = env.run()
    assert report.deleted == 1 and env.mailer.sent == []


# -- Nova faults --------------------------------------------------------------

def overdue(env, instance_id='vm', **kw):
    return env.vm(instance_id, expire_at=T0 - DAY, notified_at=T0 - 11 * DAY,
                  notified_last_at=T0 - 3 * DAY, **kw)


def test_nova_404_closes_without_deleted_mail(env):
    row = overdue(env, server=False)
    report = env.run()
    assert report.closed == 1 and report.deleted == 0
    assert ('delete', 'vm') not in env.nova.servers.calls
    assert env.mailer.sent == []
    assert row_state(env.ctx, row.id) is None
    assert [e.event for e in events(env.ctx, 'vm')][-1] == 'closed'


@pytest.mark.parametrize('where', ['get', 'delete'])
@pytest.mark.parametrize('error', [
    nova_exc.ClientException(500, 'Internal Server Error'),
    ks_exc.ConnectTimeout('Request to http://nova timed out'),
    ks_exc.ConnectFailure('Unable to establish connection'),
    RuntimeError('surprise'),
])
def test_nova_errors_keep_the_record_and_retry(env, where, error):
    row = overdue(env)
    setattr(env.nova.servers, 'fail_' + where, error)
    report = env.run()
    assert report.failed == 1 and report.deleted == 0
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.deleting_at is None and state.claimed_by is None
    assert state.failures == 1 and state.last_error
    assert events(env.ctx, 'vm', 'failed')
    assert env.mailer.sent == []
    # The record stays extendable after the failed attempt.
    env.nova.servers.fail_get = env.nova.servers.fail_delete = None
    env.clock.advance(minutes=5)
    assert env.run().deleted == 1
    assert env.nova.servers.deleted == ['vm']


def test_locked_server_is_skipped_and_reported(env):
    env.overrides['smtp.email_operator_to'] = ['ops@example.org']
    row = overdue(env, locked=True)
    report = env.run()
    assert report.skipped == 1 and report.deleted == 0
    assert ('delete', 'vm') not in env.nova.servers.calls
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.deleting_at is None and 'locked' in state.last_error
    assert events(env.ctx, 'vm', 'skipped')[0].detail['error'] == (
        'server is locked')
    assert 'locked' in env.mailer.to('ops@example.org')[0].get_content()
    # Unlocked later: deleted on the next cycle.
    env.nova.servers.servers['vm'].locked = False
    env.clock.advance(minutes=5)
    assert env.run().deleted == 1


def test_server_of_another_project_is_not_deleted(env):
    row = overdue(env)
    env.nova.servers.servers['vm'].tenant_id = 'other'
    assert env.run().skipped == 1
    assert env.nova.servers.deleted == []
    assert 'project' in db_api.get_vmexpire(env.ctx, row.id).last_error


def test_unknown_lock_state_is_not_deleted(env):
    overdue(env)
    del env.nova.servers.servers['vm'].locked
    assert env.run().skipped == 1
    assert env.nova.servers.deleted == []


def test_failures_are_isolated_per_vm(env):
    for name in ('a', 'b', 'c'):
        overdue(env, name)
    orig = env.nova.servers.get

    def get(instance_id):
        if instance_id == 'b':
            raise RuntimeError('bad vm')
        return orig(instance_id)
    env.nova.servers.get = get
    report = env.run()
    assert sorted(env.nova.servers.deleted) == ['a', 'c']
    assert report.failed == 1


# -- an extension wins --------------------------------------------------------

def test_extension_between_decision_and_mark_deleting(env, monkeypatch):
    row = overdue(env)
    real = db_api.mark_deleting

    def extend_first(ctx, r, owner, now):
        db_api.extend_vmexpire(env.ctx, r.id, env.clock(), env.settings,
                               actor='u1')
        return real(ctx, r, owner, now)
    monkeypatch.setattr(db_api, 'mark_deleting', extend_first)
    report = env.run()
    assert report.deleted == 0 and report.superseded == 1
    assert env.nova.servers.calls == []
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.expire_at == T0 + 30 * DAY and state.deleting_at is None
    assert state.notified_at is None


def test_extension_refused_once_deleting(env):
    row = overdue(env)
    refused = []

    def on_get(instance_id):
        with pytest.raises(exception.Conflict):
            db_api.extend_vmexpire(env.ctx, row.id, env.clock(),
                                   env.settings)
        refused.append(instance_id)
    env.nova.servers.on_get = on_get
    assert env.run().deleted == 1 and refused == ['vm']


def test_extension_while_warning_is_mailed(env):
    row = env.vm('vm', expire_at=T0 + 5 * DAY)

    def extend(msg):
        db_api.extend_vmexpire(env.ctx, row.id, env.clock(), env.settings)
    env.mailer.before_send = extend
    report = env.run()
    assert report.warned == 0 and report.superseded == 1
    state = db_api.get_vmexpire(env.ctx, row.id)
    # The new expiry has no warning recorded: it gets its own, in time.
    assert state.notified_at is None and state.expire_at == T0 + 30 * DAY


def test_extension_confirmation(env):
    row = env.vm('vm', expire_at=T0 + 20 * DAY)
    db_api.extend_vmexpire(env.ctx, row.id, env.clock(), env.settings)
    report = env.run()
    assert report.confirmations == 1
    msg = env.mailer.to('u1@example.org')[0]
    assert msg['Subject'] == 'Expiry extended: 1 server'
    assert '2030-07-01 12:00 UTC' in msg.get_content()
    assert not db_api.get_vmexpire(env.ctx, row.id).extend_notice_pending
    assert env.run().confirmations == 0


def test_extension_confirmation_can_be_disabled(env):
    row = env.vm('vm', expire_at=T0 + 20 * DAY)
    db_api.extend_vmexpire(env.ctx, row.id, env.clock(), env.settings)
    env.overrides['smtp.send_extend_confirmation'] = False
    env.run()
    assert env.mailer.sent == []


# -- exclusions ---------------------------------------------------------------

@pytest.mark.parametrize('kind,ident', [
    ('project', 'p1'), ('user', 'u1'), ('domain', 'dom-x')])
def test_excluded_vm_is_neither_warned_nor_deleted(env, kind, ident):
    env.keystone.add_project('p1', domain_id='dom-x')
    db_api.create_exclude(env.ctx, kind, ident)
    row = overdue(env)
    env.vm('warn-me', expire_at=T0 + DAY)
    report = env.run()
    assert report.excluded == 2 and env.mailer.sent == []
    assert env.nova.servers.calls == []
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.next_action_at == T0 + datetime.timedelta(hours=1)
    assert state.failures == 0


def test_domain_exclusion_with_keystone_down_deletes_nothing(env):
    db_api.create_exclude(env.ctx, 'domain', 'dom-x')
    row = overdue(env)
    env.keystone.down = True
    report = env.run()
    assert report.failed == 1 and env.nova.servers.calls == []
    assert 'exclusions' in db_api.get_vmexpire(env.ctx, row.id).last_error


def test_exclusion_added_between_decision_and_delete(env, monkeypatch):
    overdue(env)

    def must_not_mark(ctx, r, owner, now):
        raise AssertionError('must not get here')
    real_excluded = db_api.excluded_ids
    calls = []

    def excluded(ctx):
        calls.append(1)
        if len(calls) == 2:        # the re-check right before deleting
            db_api.create_exclude(env.ctx, 'project', 'p1')
        return real_excluded(ctx)
    monkeypatch.setattr(db_api, 'excluded_ids', excluded)
    monkeypatch.setattr(db_api, 'mark_deleting', must_not_mark)
    assert env.run().excluded == 1
    assert env.nova.servers.calls == []


# -- dry run, cap, clock ------------------------------------------------------

def test_dry_run_changes_nothing(env):
    rows = [env.vm('w1', expire_at=T0 + DAY),
            overdue(env, 'd1'),
            env.vm('gone', server=False, expire_at=T0 - DAY,
                   notified_at=T0 - 11 * DAY, notified_last_at=T0 - 3 * DAY)]
    db_api.extend_vmexpire(env.ctx, rows[0].id, T0 - DAY, env.settings,
                           days=3)
    env.clock.advance(days=1)
    before = [row_state(env.ctx, r.id) for r in rows]
    report = env.run(**{'cleaner.dry_run': True})
    assert report.dry_run == 3
    assert [row_state(env.ctx, r.id) for r in rows] == before
    assert env.mailer.sent == [] and env.nova.servers.calls == []
    skipped = events(env.ctx, 'd1', 'skipped')
    assert skipped[0].detail == {'dry_run': True, 'would': 'delete'}


def test_dry_run_with_keystone_down_changes_nothing(env):
    db_api.create_exclude(env.ctx, 'domain', 'dom-x')
    row = overdue(env)
    env.keystone.down = True
    before = row_state(env.ctx, row.id)
    env.run(**{'cleaner.dry_run': True})
    assert row_state(env.ctx, row.id) == before
    assert events(env.ctx, 'vm', 'skipped')[0].detail['dry_run'] is True


def test_max_deletions_per_cycle(env):
    for i in range(5):
        overdue(env, 'vm%d' % i)
    report = env.run(**{'cleaner.max_deletions_per_cycle': 2})
    assert report.deleted == 2 and report.capped == 3
    report = env.run(**{'cleaner.max_deletions_per_cycle': 2})
    assert report.deleted == 2 and report.capped == 1
    assert len(env.nova.servers.deleted) == 4


def test_clock_jump_forward_warns_first(env):
    """A clock far ahead never skips the warnings."""
    row = env.vm('vm', expire_at=T0 + 10 * DAY)
    env.clock.advance(days=400)
    env.run()
    assert env.nova.servers.calls == []
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.notified_at == env.clock.now
    assert state.notified_last_at is None


def test_clock_jump_backward_sends_nothing_twice(env):
    row = env.vm('vm', expire_at=T0 + 10 * DAY)
    env.run()
    assert len(env.mailer.sent) == 1
    env.clock.advance(days=-30)
    for _ in range(10):
        env.run()
        env.clock.advance(days=3)
    # Back at T0 + 0 days, then forward: one more warning (the last one),
    # and the deletion keeps its full notice.
    assert len(events(env.ctx, 'vm', 'warned')) <= 2
    assert env.nova.servers.deleted == []
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.notified_at == T0


# -- claims: another cleaner, a dead cleaner ----------------------------------

def test_row_claimed_by_another_cleaner_is_left_alone(env):
    row = overdue(env)
    assert db_api.claim(env.ctx, row.id, 'other', T0, 600 * SEC)
    report = env.run()
    assert report.claimed == 0 and env.nova.servers.calls == []


def test_dead_cleaners_claim_lapses(env):
    """Killed after mark_deleting: another cleaner finishes, once."""
    row = overdue(env)
    assert db_api.claim(env.ctx, row.id, 'dead', T0, 600 * SEC)
    fresh = db_api.get_claimed(env.ctx, row.id, 'dead', T0)
    assert db_api.mark_deleting(env.ctx, fresh, 'dead', T0)
    env.clock.advance(seconds=599)
    assert env.run().deleted == 0
    with pytest.raises(exception.Conflict):   # still refused meanwhile
        db_api.extend_vmexpire(env.ctx, row.id, env.clock(), env.settings)
    env.clock.advance(seconds=2)
    assert env.run().deleted == 1
    assert env.nova.servers.deleted == ['vm']
    assert len(events(env.ctx, 'vm', 'deleted')) == 1


def test_due_step_is_rechecked_after_claim(env):
    """A row selected as due but warned by someone else meanwhile."""
    row = env.vm('vm', expire_at=T0 + 5 * DAY)
    real = db_api.claim_page

    def claim_page(ctx, row_ids, owner, now, ttl):
        for row_id in row_ids:
            assert db_api.claim(ctx, row_id, 'other', now, ttl)
            fresh = db_api.get_claimed(ctx, row_id, 'other', now)
            assert db_api.record_warning(ctx, fresh, 'other',
                                         expiration.Action.FIRST_WARNING,
                                         now, env.settings)
            db_api.release(ctx, row_id, 'other')
        return real(ctx, row_ids, owner, now, ttl)
    import osvmexpire.db.api as api_mod
    orig = api_mod.claim_page
    api_mod.claim_page = claim_page
    try:
        report = env.run()
    finally:
        api_mod.claim_page = orig
    assert report.mails == 0
    assert len(events(env.ctx, 'vm', 'warned')) == 1
    assert row.id


# -- claim margins and an SMTP outage ----------------------------------------


def test_smtp_down_spares_the_other_owners(env):
    a = env.vm('a', user='u1', expire_at=T0 + DAY)
    b = env.vm('b', user='u2', expire_at=T0 + DAY)
    env.mailer.fail = 'cannot connect to SMTP server: timed out'
    env.mailer.server_down = True
    report = env.run()
    assert env.mailer.attempts == 1          # no second timeout to wait for
    assert report.failed == 2
    for row in (a, b):
        assert db_api.get_vmexpire(env.ctx, row.id).failures == 1


def test_steps_deferred_when_claim_timeout_too_short(env, caplog):
    overdue(env)
    report = env.run(**{'cleaner.claim_timeout': 60,
                        'service_credentials.timeout': 30})
    assert report.deferred == 1 and env.nova.servers.calls == []
    assert 'claim_timeout (60 s) is shorter' in caplog.text


def test_deletion_late_in_the_queue_is_deferred(env):
    """A row waiting for a Nova thread past its claim margin is left for
    the next cycle, so its claim cannot lapse mid-call."""
    for name in ('a', 'b', 'c'):
        overdue(env, name)
    real_get = env.nova.servers.get

    def slow_get(instance_id):
        env.clock.advance(seconds=300)
        return real_get(instance_id)
    env.nova.servers.get = slow_get
    report = env.run(**{'cleaner.nova_concurrency': 1,
                        'cleaner.claim_timeout': 600,
                        'service_credentials.timeout': 30})
    assert report.deleted == 2 and report.deferred == 1
    left = [r for r in ('a', 'b', 'c') if r not in env.nova.servers.deleted]
    state = db_api.get_vmexpire_by_instance(env.ctx, left[0])
    assert state.deleting_at is None and state.claimed_by is None
