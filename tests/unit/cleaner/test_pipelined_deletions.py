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
"""Deletions run whole (DB steps and Nova calls) on nova_concurrency
threads: the rules and the cap hold however many run at once."""

import threading
import time

from tests.unit.cleaner.fakes import DAY
from tests.unit.cleaner.fakes import T0
from tests.unit.cleaner.fakes import events
from tests.unit.cleaner.fakes import row_state


def overdue(env, instance_id, **kw):
    return env.vm(instance_id, expire_at=T0 - DAY, notified_at=T0 - 11 * DAY,
                  notified_last_at=T0 - 3 * DAY, **kw)


def concurrency_probe(pause: float = 0.05):
    """A hook that waits ``pause`` and the peak of its concurrent calls."""
    in_flight, peak = [0], [0]
    lock = threading.Lock()

    def probe(_arg):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(pause)
        with lock:
            in_flight[0] -= 1
    return probe, peak


def test_cap_holds_with_many_threads(env):
    """More threads than budget, skipped servers among them: exactly the
    cap reaches Nova's delete call, the rest waits, claims released."""
    # Due first, so most of them are tried (and give their share back).
    locked = [env.vm('a-locked%d' % i, locked=True, expire_at=T0 - 2 * DAY,
                     notified_at=T0 - 12 * DAY,
                     notified_last_at=T0 - 4 * DAY) for i in range(4)]
    rows = [overdue(env, 'b-vm%02d' % i) for i in range(12)]
    env.nova.servers.on_get, peak = concurrency_probe()
    report = env.run(**{'cleaner.max_deletions_per_cycle': 5,
                        'cleaner.nova_concurrency': 8})
    assert report.deleted == 5 and report.skipped >= 1
    assert report.skipped + report.capped == 11
    assert not any(v.startswith('a-locked')
                   for v in env.nova.servers.deleted)
    assert len(env.nova.servers.deleted) == 5
    deletes = [c for c in env.nova.servers.calls if c[0] == 'delete']
    assert len(deletes) == 5
    assert peak[0] > 1                          # they did run in parallel
    for row in locked + rows:
        state = row_state(env.ctx, row.id)
        if state is not None:
            assert state['claimed_by'] is None
            assert state['deleting_at'] is None


def test_all_deleted_in_parallel_each_once(env):
    rows = [overdue(env, 'vm%02d' % i) for i in range(20)]
    report = env.run(**{'cleaner.max_deletions_per_cycle': 0,
                        'cleaner.nova_concurrency': 6})
    assert report.deleted == 20 and report.failed == 0
    assert sorted(env.nova.servers.deleted) == sorted(
        r.instance_id for r in rows)
    for row in rows:
        assert row_state(env.ctx, row.id) is None
        assert len(events(env.ctx, row.instance_id, 'deleted')) == 1
    # One notice per owner, after the deletions.
    assert report.mails >= 1


def test_dry_run_with_threads_changes_nothing(env):
    rows = [overdue(env, 'vm%02d' % i) for i in range(6)]
    before = [row_state(env.ctx, r.id) for r in rows]
    report = env.run(**{'cleaner.dry_run': True,
                        'cleaner.max_deletions_per_cycle': 4,
                        'cleaner.nova_concurrency': 8})
    assert report.dry_run == 4 and report.capped == 2
    assert env.nova.servers.calls == []
    assert [row_state(env.ctx, r.id) for r in rows] == before


def test_deletion_notices_go_out_in_parallel_one_per_owner(env):
    owners = ['n%d' % i for i in range(6)]
    for user in owners:
        env.keystone.add_user(user)
        for i in range(2):
            overdue(env, '%s-vm%d' % (user, i), user=user)
    env.mailer.before_send, peak = concurrency_probe()
    report = env.run(**{'cleaner.max_deletions_per_cycle': 0,
                        'cleaner.nova_concurrency': 4})
    assert report.deleted == 12 and report.mails == 6
    assert peak[0] > 1
    for user in owners:
        [msg] = env.mailer.to('%s@example.org' % user)
        text = msg.get_body(('plain',)).get_content()
        assert '%s-vm0' % user in text and '%s-vm1' % user in text


def test_failed_deletion_notices_are_recorded_for_each_server(env):
    rows = [overdue(env, 'vm%02d' % i, user='u%d' % (1 + i % 2))
            for i in range(4)]
    env.mailer.fail = 'mailbox unavailable'
    report = env.run(**{'cleaner.max_deletions_per_cycle': 0,
                        'cleaner.nova_concurrency': 4})
    assert report.deleted == 4 and report.mails == 0
    for row in rows:
        [failed] = events(env.ctx, row.instance_id, 'failed')
        assert failed.detail['step'] == 'deletion notice'
