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
"""Templates, message headers, the Keystone cache and the periodic runner."""

import datetime
import threading
import time

import pytest

from osvmexpire.cleaner import owners
from osvmexpire.cleaner import service
from osvmexpire.notifier import mail
from osvmexpire.notifier import render
from tests.unit.cleaner import fakes
from tests.unit.cleaner.fakes import T0

D = datetime.timedelta


@pytest.mark.parametrize('delta,text', [
    (D(days=9, hours=3), 'in 9 days'), (D(days=1), 'in 1 day'),
    (D(hours=5, minutes=2), 'in 5 hours'), (D(minutes=1), 'in 1 minute'),
    (D(seconds=20), 'now'), (-D(days=3), '3 days ago')])
def test_relative(delta, text):
    assert render.relative(T0 + delta, T0) == text


def _item(**kw):
    item = {'record_id': 'r1', 'instance_id': 'i1', 'name': 'web',
            'project_id': 'p1', 'project_name': 'demo',
            'expire_at': T0, 'expire_in': 'in 9 days', 'delete_after': T0,
            'cap': T0, 'stage': 'first'}
    item.update(kw)
    return item


def test_template_dir_overrides_builtin(tmp_path):
    (tmp_path / 'warning.subject').write_text('Custom: {{ items|length }}')
    r = render.Renderer(str(tmp_path))
    out = r.render('warning', owner_name='Ann', items=[_item()],
                   first_items=[_item()], last_items=[], horizon_url=None,
                   extend_days=30)
    assert out.subject == 'Custom: 1'
    assert 'openstack vmexpire extend r1' in out.text   # built-in body
    assert out.html and 'web' in out.html


def test_html_is_escaped():
    out = render.Renderer().render(
        'warning', owner_name='<b>x</b>', items=[_item(name='<script>')],
        first_items=[_item(name='<script>')], last_items=[],
        horizon_url='https://h/?a=1&b=2', extend_days=30)
    assert '<script>' not in out.html and '&lt;script&gt;' in out.html
    assert '<script>' in out.text            # plain text is not escaped


def test_build_message_headers(sqlite_db):
    conf = sqlite_db.config(**{'smtp.email_smtp_from': 'cloud@example.org'})
    msg = mail.build_message(conf, 'ann@example.org',
                             render.Rendered('Subj', 'body', '<p>b</p>'))
    assert msg['From'] == 'cloud@example.org'
    assert msg['To'] == 'ann@example.org'
    assert msg['Date'].endswith('+0000')
    assert msg['Message-ID'].endswith('@example.org>')
    assert msg.get_content_type() == 'multipart/alternative'
    assert 'Bcc' not in msg


def test_owners_cache_and_errors():
    ks = fakes.Keystone()
    ks.add_user('u1')
    ks.add_user('nomail', email='')
    ks.add_project('p1', domain_id='d1')
    clock = [0.0]
    o = owners.Owners(ks, ttl=60, clock=lambda: clock[0])
    assert o.user('u1').email == 'u1@example.org'
    assert o.user('u1').email == 'u1@example.org'
    assert ks.calls == [('user', 'u1')]          # cached
    assert o.user('nomail').email is None
    assert o.user('gone').exists is False
    assert o.domains('p1', 'u1') == {'d1', 'default'}
    ks.down = True
    assert o.user('u1').exists                   # still cached
    clock[0] = 61
    with pytest.raises(owners.IdentityUnavailable):
        o.user('u1')                             # expired, Keystone down
    calls = len(ks.calls)
    assert o.project_name('p1') == 'p1'          # mails fall back to the id
    assert len(ks.calls) == calls                # failed fast: no 2nd call
    ks.down = False
    assert o.project_name('p1') == 'p1'          # still held for 30 s
    clock[0] = 92
    assert o.project_name('p1') == 'name-p1'


class FakeCycle:
    def __init__(self, fail=False):
        self.runs = 0
        self.fail = fail
        self.clock = fakes.Clock()
        self.nova = object()
        self.ran = threading.Event()

    def run(self):
        self.runs += 1
        self.ran.set()
        if self.fail:
            raise RuntimeError('database down')
        return Report()


class Report:
    def as_dict(self):
        return {'deleted': 0}


def test_runner_survives_a_failed_cycle(sqlite_db):
    runner = service.Runner(sqlite_db.config(), cycle=FakeCycle(fail=True))
    assert runner.run_cycle() is None
    assert runner.run_cycle() is None
    assert runner.cycle.runs == 2


def test_runner_warns_when_clock_goes_back(sqlite_db, caplog):
    cyc = FakeCycle()
    runner = service.Runner(sqlite_db.config(), cycle=cyc)
    runner.run_cycle()
    cyc.clock.advance(hours=-1)
    runner.run_cycle()
    assert 'clock went back' in caplog.text


def test_runner_first_cycle_right_after_start_and_sync(sqlite_db):
    calls = []

    def reconcile(conf, ctx, nova=None, now=None):
        calls.append(nova)
        return {'created': 0}
    cyc = FakeCycle()
    conf = sqlite_db.config(**{'cleaner.interval': 3600,
                               'cleaner.sync_interval': 3600})
    runner = service.Runner(conf, cycle=cyc, reconcile=reconcile)
    thread = threading.Thread(target=runner.start)
    started = time.monotonic()
    thread.start()
    assert cyc.ran.wait(10)
    deadline = time.monotonic() + 10
    while not calls and time.monotonic() < deadline:
        time.sleep(0.05)
    runner.stop()
    thread.join(10)
    assert not thread.is_alive()
    assert time.monotonic() - started < 10
    assert cyc.runs == 1 and calls == [cyc.nova]


def test_runner_without_sync(sqlite_db):
    conf = sqlite_db.config(**{'cleaner.sync_interval': 0})
    runner = service.Runner(conf, cycle=FakeCycle())
    assert len(runner.callables()) == 1


def test_runner_sync_failure_is_logged(sqlite_db, caplog):
    def reconcile(conf, ctx, nova=None, now=None):
        raise RuntimeError('nova down')
    runner = service.Runner(sqlite_db.config(), cycle=FakeCycle(),
                            reconcile=reconcile)
    assert runner.run_sync() is None
    assert 'reconciliation with Nova failed' in caplog.text


def test_runner_survives_the_database_clock_failing(sqlite_db, caplog):
    cyc = FakeCycle()

    def broken():
        raise RuntimeError('database down')
    cyc.clock = broken
    runner = service.Runner(sqlite_db.config(), cycle=cyc)
    assert runner.run_cycle() is None
    assert 'cleaner cycle failed' in caplog.text
