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
"""The cleaner against a real SMTP server (aiosmtpd on 127.0.0.1).

Asserts the messages as received: envelope recipients (Bcc copies),
headers, bodies; and the SMTP faults: refusing, down, hanging, TLS.
"""

import os
import socket
import ssl
import time

import pytest

from osvmexpire.db import api as db_api
from tests.functional.cleaner import servers
from tests.unit.cleaner.fakes import DAY
from tests.unit.cleaner.fakes import T0
from tests.unit.cleaner.fakes import events


def lifecycle(env, days, step_hours=24):
    for _ in range(int(days * 24 / step_hours)):
        env.run()
        env.clock.advance(hours=step_hours)


def test_warning_digest_as_received(env):
    env.overrides['smtp.email_smtp_copy_expire_notif_to'] = [
        'expiry-archive@example.org']
    a = env.vm('web-1-id', name='web-1', expire_at=T0 + 5 * DAY)
    b = env.vm('db-1-id', name='db-1', project='p2', expire_at=T0 + 1 * DAY,
               notified_at=T0 - 9 * DAY)
    report = env.run()
    assert report.mails == 1 and report.warned == 2
    [got] = env.smtp.messages
    assert got.mail_from == 'cloud-expiry@example.org'
    assert got.rcpt_tos == ['u1@example.org', 'expiry-archive@example.org']
    msg = got.message
    assert msg['To'] == 'u1@example.org'
    assert msg['From'] == 'cloud-expiry@example.org'
    assert msg['Subject'] == 'Last warning: 2 servers will be deleted soon'
    assert msg['Date'] and msg['Message-ID'].endswith('@example.org>')
    assert b'Bcc' not in got.raw and b'expiry-archive' not in got.raw
    text = got.text()
    for row in (a, b):
        assert row.instance_id in text and row.instance_name in text
        assert 'openstack vmexpire extend %s' % row.id in text
    assert 'proj-p1' in text and 'proj-p2' in text
    assert 'Expires:       2030-06-06 12:00 UTC (in 5 days)' in text
    assert ('Cap:           2031-04-07 12:00 UTC (latest possible expiry)'
            in text)
    assert max(len(line) for line in text.splitlines()) <= 78
    assert 'https://horizon.example.org/project/vmexpires/' in text
    assert msg.get_body(('html',)) is not None
    assert events(env.ctx, 'web-1-id', 'warned')[0].detail[
        'message_id'] == msg['Message-ID']
    sample = os.environ.get('OSVMEXPIRE_SAMPLE_MAIL')
    if sample:
        with open(sample, 'wb') as f:
            f.write(b'X-Envelope-From: %s\nX-Envelope-To: %s\n'
                    % (got.mail_from.encode(),
                       ', '.join(got.rcpt_tos).encode()))
            f.write(got.raw)


def test_deletion_notice_goes_to_delete_copy(env):
    env.overrides.update({
        'smtp.email_smtp_copy_expire_notif_to': ['expiry-archive@example.org'],
        'smtp.email_smtp_copy_delete_notif_to': ['deletions@example.org']})
    env.overdue('vm')
    assert env.run().deleted == 1
    assert env.cloud.deleted == ['vm']
    [got] = env.smtp.messages
    assert got.rcpt_tos == ['u1@example.org', 'deletions@example.org']
    assert got.message['Subject'] == '1 expired server deleted'


def test_smtp_refusing_owner_blocks_deletion(env):
    env.overrides['smtp.email_operator_to'] = ['ops@example.org']
    row = env.vm('vm', expire_at=T0 - 5 * DAY, notified_at=T0 - 15 * DAY)
    env.smtp.refuse.add('u1@example.org')
    lifecycle(env, 30)
    assert env.cloud.calls() == []               # Nova never asked
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.notified_last_at is None and state.failures == 30
    assert '550' in state.last_error
    ops = env.smtp.to('ops@example.org')
    assert ops and 'vm' in ops[0].text() and '550' in ops[0].text()
    assert env.smtp.to('u1@example.org') == []
    # Accepted again: last warning now, deletion 2 days later at the earliest.
    env.smtp.refuse.clear()
    start = env.clock.now
    env.run()
    assert db_api.get_vmexpire(env.ctx, row.id).notified_last_at == start
    env.clock.advance(days=2, seconds=-1)
    env.run()
    assert env.cloud.deleted == []
    env.clock.advance(seconds=1)
    env.run()
    assert env.cloud.deleted == ['vm']


def test_refused_copy_does_not_block_the_owner(env):
    env.overrides['smtp.email_smtp_copy_expire_notif_to'] = [
        'broken-copy@example.org']
    env.smtp.refuse.add('broken-copy@example.org')
    row = env.vm('vm', expire_at=T0 + 5 * DAY)
    assert env.run().warned == 1
    [got] = env.smtp.messages
    assert got.rcpt_tos == ['u1@example.org']
    assert db_api.get_vmexpire(env.ctx, row.id).notified_at == T0


def test_smtp_down_nothing_deleted(env):
    env.smtp.stop()
    env.overrides['smtp.email_operator_to'] = ['ops@example.org']
    row = env.vm('vm', expire_at=T0 - DAY, notified_at=T0 - 11 * DAY)
    lifecycle(env, 20)
    assert env.cloud.calls() == []
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.notified_last_at is None
    assert 'cannot connect to SMTP server' in state.last_error
    revived = servers.SmtpServer(port=env.smtp.port).start()  # back up
    try:
        env.run()
        assert db_api.get_vmexpire(env.ctx, row.id).notified_last_at
        assert revived.to('u1@example.org')
    finally:
        revived.stop()


def test_smtp_hanging_times_out(env):
    silent = socket.socket()
    silent.bind(('127.0.0.1', 0))
    silent.listen(5)                             # accepts, never greets
    try:
        env.overrides.update({'smtp.email_smtp_port':
                              silent.getsockname()[1],
                              'smtp.email_smtp_timeout': 1.0})
        row = env.vm('vm', expire_at=T0 + DAY)
        started = time.monotonic()
        report = env.run()
        assert time.monotonic() - started < 10
        assert report.failed == 1
        assert 'timed out' in db_api.get_vmexpire(env.ctx,
                                                  row.id).last_error
    finally:
        silent.close()


def test_owner_without_email_operator_told(env):
    env.cloud.add_user('u1', email=None)
    env.overrides['smtp.email_operator_to'] = ['ops@example.org',
                                               'oncall@example.org']
    row = env.vm('vm', expire_at=T0 - 30 * DAY)
    lifecycle(env, 30)
    assert env.cloud.calls() == []               # never near deletion
    ops = env.smtp.messages
    assert ops and all(m.message['To'] == 'ops@example.org' for m in ops)
    assert ops[0].rcpt_tos == ['ops@example.org', 'oncall@example.org']
    assert 'has no e-mail address' in ops[0].text()
    assert ops[0].message['Subject'] == (
        'os-vm-expire: 1 server needs attention')
    state = db_api.get_vmexpire(env.ctx, row.id)
    assert state.failures == 30 and state.notified_at is None


@pytest.fixture
def tls(tmp_path, monkeypatch):
    cert, key = servers.make_cert(tmp_path)
    monkeypatch.setenv('SSL_CERT_FILE', cert)    # our CA for the client
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


@pytest.mark.parametrize('password,ok', [('s3cret', True), ('wrong', False)])
def test_starttls_with_login(sqlite_db, cloud, tls, password, ok):
    from tests.functional.cleaner.conftest import Env
    smtp = servers.SmtpServer(
        tls_context=tls, require_starttls=True, auth_require_tls=True,
        authenticator=servers.authenticator('mailer', 's3cret')).start()
    try:
        env = Env(sqlite_db, smtp, cloud, **{
            'smtp.email_smtp_tls': True, 'smtp.email_smtp_user': 'mailer',
            'smtp.email_smtp_password': password})
        row = env.vm('vm', expire_at=T0 + DAY)
        report = env.run()
        assert report.warned == (1 if ok else 0)
        assert len(smtp.messages) == (1 if ok else 0)
        state = db_api.get_vmexpire(env.ctx, row.id)
        assert (state.notified_at is not None) == ok
        if not ok:
            assert 'not accepted' in state.last_error
    finally:
        smtp.stop()


def test_implicit_tls(sqlite_db, cloud, tls):
    from tests.functional.cleaner.conftest import Env
    smtp = servers.SmtpServer(ssl_context=tls).start()
    try:
        env = Env(sqlite_db, smtp, cloud, **{'smtp.email_smtp_ssl': True})
        env.vm('vm', expire_at=T0 + DAY)
        assert env.run().warned == 1
        assert smtp.messages[0].rcpt_tos == ['u1@example.org']
    finally:
        smtp.stop()
