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
"""The cleaner against Keystone and Nova over real HTTP.

keystoneauth1 gets a token and the catalog, python-novaclient and
python-keystoneclient make real requests with the session timeout; the
stand-in injects 500s, 404s, hangs, locked servers and an outage.
"""

import threading
import time

from osvmexpire.db import api as db_api
from tests.unit.cleaner.fakes import DAY
from tests.unit.cleaner.fakes import T0
from tests.unit.cleaner.fakes import events
from tests.unit.cleaner.fakes import row_state


def test_full_lifecycle_over_http(env):
    row = env.vm('vm', expire_at=T0 + 10 * DAY)
    for _ in range(11 * 4):
        env.run()
        if env.cloud.deleted:
            break
        env.clock.advance(hours=6)
    assert env.cloud.deleted == ['vm']
    assert env.clock.now == T0 + 10 * DAY
    subjects = [m.message['Subject'] for m in env.smtp.messages]
    assert subjects == ['1 server will expire soon',
                        'Last warning: 1 server will be deleted soon',
                        '1 expired server deleted']
    gets = [h for m, p, h in env.cloud.requests
            if m == 'GET' and p.startswith('/compute')]
    assert gets and all(
        h['X-OpenStack-Nova-API-Version'] == '2.9' for h in gets)
    assert row_state(env.ctx, row.id) is None
    assert [e.event for e in events(env.ctx, 'vm')] == [
        'created', 'warned', 'warned', 'deleted']


def test_nova_500_on_check_then_recovers(env):
    row = env.overdue()
    env.cloud.fault(r'/compute/.*/servers/vm', 500, method='GET')
    report = env.run()
    assert report.failed == 1 and env.cloud.deleted == []
    assert env.cloud.calls('DELETE') == []
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.deleting_at is None and 'HTTP 500' in state.last_error
    assert env.smtp.messages == []
    env.cloud.clear_faults()
    env.clock.advance(minutes=5)
    assert env.run().deleted == 1
    assert env.cloud.deleted == ['vm']


def test_nova_500_on_delete(env):
    row = env.overdue()
    env.cloud.fault(r'/compute/.*/servers/vm', 500, method='DELETE')
    assert env.run().failed == 1
    assert env.cloud.servers and env.cloud.deleted == []
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.deleting_at is None and state.claimed_by is None
    # The owner can still extend after the failed attempt.
    db_api.extend_vmexpire(env.ctx, row.id, env.clock(), env.settings)
    env.cloud.clear_faults()
    env.clock.advance(minutes=5)
    assert env.run().deleted == 0
    assert env.cloud.deleted == []


def test_nova_timeout(env):
    row = env.overdue()
    env.cloud.fault(r'/compute/.*/servers/vm', ('sleep', 4), method='GET')
    started = time.monotonic()
    report = env.cycle(timeout=1).run()
    elapsed = time.monotonic() - started
    assert report.failed == 1 and env.cloud.calls('DELETE') == []
    assert elapsed < 3.5, elapsed
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.deleting_at is None
    assert 'timed out' in state.last_error.lower()


def test_nova_404_closes_without_mail(env):
    row = env.overdue(server=False)
    report = env.run()
    assert report.closed == 1 and report.deleted == 0
    assert env.cloud.calls('DELETE') == []
    assert env.smtp.messages == []
    assert row_state(env.ctx, row.id) is None
    assert events(env.ctx, 'vm')[-1].event == 'closed'


def test_nova_404_on_delete_closes(env):
    env.overdue()
    env.cloud.fault(r'/compute/.*/servers/vm', 404, method='DELETE')
    assert env.run().closed == 1
    assert env.smtp.messages == []


def test_locked_server_skipped_and_reported(env):
    env.overrides['smtp.email_operator_to'] = ['ops@example.org']
    row = env.overdue(locked=True)
    report = env.run()
    assert report.skipped == 1
    assert env.cloud.calls('DELETE') == []
    [ops] = env.smtp.messages
    assert ops.message['To'] == 'ops@example.org'
    assert 'server is locked' in ops.text()
    assert db_api.get_vmexpire(env.ctx, row.id).deleting_at is None
    assert db_api.list_vmexpires(env.ctx, stuck=True)[1] == 1


def test_server_moved_to_another_project(env):
    env.overdue()
    env.cloud.servers['vm']['tenant_id'] = 'p-other'
    assert env.run().skipped == 1
    assert env.cloud.calls('DELETE') == []


def test_keystone_down_nothing_warned_nothing_deleted(env):
    warn = env.vm('warn', expire_at=T0 + DAY)
    env.overdue('del')
    db_api.create_exclude(env.ctx, 'domain', 'dom-excluded')
    env.cloud.fault(r'^/identity', 503)
    report = env.run()
    assert env.cloud.calls() == [] and env.smtp.messages == []
    assert report.failed == 2
    assert db_api.get_vmexpire(env.ctx, warn.id).notified_at is None
    env.cloud.clear_faults()
    env.clock.advance(minutes=5)
    report = env.run()
    assert report.warned == 1 and report.deleted == 1


def test_keystone_user_lookup_failing_blocks_only_warnings(env):
    """Without domain exclusions a fully warned VM needs no Keystone."""
    warn = env.vm('warn', expire_at=T0 + DAY)
    env.overdue('del')
    env.cloud.fault(r'/identity/v3/users/', 500)
    report = env.run()
    assert report.deleted == 1 and report.failed == 1
    assert db_api.get_vmexpire(env.ctx, warn.id).notified_at is None
    assert env.smtp.messages == []          # no address: no notice either


def test_dry_run_touches_neither_nova_nor_db(env):
    rows = [env.vm('w', expire_at=T0 + DAY), env.overdue('d'),
            env.overdue('gone', server=False)]
    before = [row_state(env.ctx, r.id) for r in rows]
    report = env.run(**{'cleaner.dry_run': True})
    assert report.dry_run == 3
    assert env.cloud.calls() == [] and env.smtp.messages == []
    assert [row_state(env.ctx, r.id) for r in rows] == before
    assert sorted(env.cloud.servers) == ['d', 'w']


def test_parallel_nova_calls_are_bounded(env):
    for i in range(6):
        env.overdue('vm%d' % i)
    gate = threading.Event()
    env.cloud.fault(r'/compute/', ('gate', gate), method='GET')
    result = {}
    t = threading.Thread(target=lambda: result.update(
        r=env.cycle(**{'cleaner.nova_concurrency': 3}).run()))
    t.start()
    deadline = time.monotonic() + 10
    while len(env.cloud.calls('GET')) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert len(env.cloud.calls('GET')) == 3     # 3 in flight, not 6
    gate.set()
    t.join(30)
    assert result['r'].deleted == 6
