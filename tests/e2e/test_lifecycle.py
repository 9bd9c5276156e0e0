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
"""End to end on the local cloud: real Keystone tokens, real Nova servers.

Each test boots servers as alice (member of project-a) and watches what
os-vm-expire's processes (API, worker, cleaner) make of them. The cloud's
demo configuration makes warnings due at the expiry and runs the cleaner
every 2 seconds; a test that needs an expiry near now sets it with the
admin tool ``tools/localcloud/expire_soon.py``.
"""

import datetime

from tests.e2e.cloud import wait_for

# Generous: the machine may be busy with other test runs.
RECORD_TIMEOUT = 30
CLEANER_TIMEOUT = 120


def parse(value: str) -> datetime.datetime:
    return datetime.datetime.strptime(value, '%Y-%m-%dT%H:%M:%SZ')


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def record_of(user, server_id: str) -> dict:
    return wait_for('record of %s' % server_id,
                    lambda: user.find_record(server_id), RECORD_TIMEOUT)


def test_boot_creates_record_within_seconds(alice, servers):
    server = servers('boot')
    record = record_of(alice, server.id)
    assert record['instance_id'] == server.id
    assert record['project_id'] == alice.project_id
    assert record['user_id'] == alice.user_id
    assert record['instance_name'] == server.name
    # max_vm_duration = 60 days (the default) from the server's creation.
    life = parse(record['expire_at']) - parse(record['created'])
    assert abs(life - datetime.timedelta(days=60)) < datetime.timedelta(
        minutes=5)
    assert record['extensions'] == 0
    assert record['notified'] is False

    resp = alice.api('GET', '/vmexpires/%s' % record['id'])
    assert resp.status_code == 200
    assert resp.json()['vmexpire']['id'] == record['id']
    resp = alice.api('GET', '/vmexpires/%s/events' % record['id'])
    assert resp.status_code == 200, resp.text
    assert 'created' in [e['event'] for e in resp.json()['events']]


def test_other_project_cannot_see_or_extend(alice, bob, carol, admin_user,
                                            servers):
    server = servers('private')
    record = record_of(alice, server.id)
    rid = record['id']
    # bob, in his own project: the record does not exist for him.
    assert bob.find_record(server.id) is None
    assert bob.api('GET', '/vmexpires/%s' % rid).status_code == 404
    assert bob.api('PUT', '/vmexpires/%s' % rid,
                   json={}).status_code == 404
    # bob naming alice's project in the path: refused.
    resp = bob.raw('GET', '/v1/%s/vmexpires/' % alice.project_id)
    assert resp.status_code == 403, resp.text
    resp = bob.raw('PUT', '/v1/%s/vmexpires/%s' % (alice.project_id, rid),
                   json={})
    assert resp.status_code in (403, 404), resp.text
    # carol reads project-a but may not extend.
    assert carol.api('GET', '/vmexpires/%s' % rid).status_code == 200
    assert carol.api('PUT', '/vmexpires/%s' % rid,
                     json={}).status_code == 403
    # the admin sees it across projects.
    resp = admin_user.api('GET', '/vmexpires/?all_tenants=1&instance_id='
                          + server.id)
    assert resp.status_code == 200
    assert [r['id'] for r in resp.json()['vmexpires']] == [rid]
    # unchanged by all of the above
    assert alice.find_record(server.id)['extensions'] == 0


def test_extend_through_the_api_with_a_real_token(alice, admin, servers,
                                                  env):
    server = servers('extend')
    record = record_of(alice, server.id)
    rid = record['id']
    # A fresh server expires in 60 days: the longest extension (30 days)
    # would not move it later, so the API refuses it.
    assert alice.api('PUT', '/vmexpires/%s' % rid,
                     json={}).status_code == 409
    admin.expire_soon(server.id, 3600)
    before = utcnow()
    resp = alice.api('PUT', '/vmexpires/%s' % rid, json={'days': 7})
    assert resp.status_code == 202, resp.text
    extended = resp.json()['vmexpire']
    new = parse(extended['expire_at'])
    assert abs(new - (before + datetime.timedelta(days=7))) < (
        datetime.timedelta(minutes=2))
    assert extended['extensions'] == 1
    assert alice.find_record(server.id)['expire_at'] == extended['expire_at']
    # bad input: clear 4xx, never a 500
    assert alice.api('PUT', '/vmexpires/%s' % rid,
                     json={'days': 0}).status_code == 400
    assert alice.api('PUT', '/vmexpires/%s' % rid,
                     json={'days': 'x'}).status_code == 400
    # no token, a forged token: 401 from keystonemiddleware
    url = env['OSVMEXPIRE_API_URL'] + '/v1/%s/vmexpires/' % alice.project_id
    resp = alice.session.get(url, authenticated=False, raise_exc=False)
    assert resp.status_code == 401
    resp = alice.session.get(url, authenticated=False, raise_exc=False,
                             headers={'X-Auth-Token': 'forged'})
    assert resp.status_code == 401
    events = [e['Event'] for e in admin.events(server.id)]
    assert events.count('extended') == 2  # the admin tool, then alice


def test_warned_by_mail_then_deleted_by_the_cleaner(alice, admin, mailbox,
                                                   env, servers):
    server = servers('expire')
    record_of(alice, server.id)
    admin.expire_soon(server.id, 3)
    wait_for('server deleted by the cleaner',
             lambda: alice.server_gone(server.id), CLEANER_TIMEOUT)
    wait_for('record closed', lambda: alice.find_record(server.id) is None,
             RECORD_TIMEOUT)
    # Two warnings, to the owner's e-mail address as Keystone has it,
    # before the deletion; then a deletion notice.
    events = admin.events(server.id)
    warned = [e for e in events if e['Event'] == 'warned']
    assert len(warned) == 2, events
    assert {e['Detail'].get('to') for e in warned} == {
        env['CLOUD_USER1_EMAIL']}
    deleted = [e for e in events if e['Event'] == 'deleted']
    assert len(deleted) == 1, events
    assert events.index(deleted[0]) > events.index(warned[-1])
    mails = wait_for('warning and deletion mails', lambda: (
        len(m := mailbox.messages(to=env['CLOUD_USER1_EMAIL'],
                                  containing=server.id)) >= 3 and m),
        RECORD_TIMEOUT)
    subjects = [str(m['Subject']) for m in mails]
    assert len(mails) == 3, subjects
    assert 'Last warning' in subjects[1], subjects
    assert 'deleted' in subjects[2], subjects


def test_nova_delete_notification_closes_the_record(alice, admin, servers):
    server = servers('novadelete')
    record_of(alice, server.id)
    alice.nova.servers.delete(server.id)
    wait_for('record closed by instance.delete.end',
             lambda: alice.find_record(server.id) is None, RECORD_TIMEOUT)
    kinds = admin.event_kinds(server.id)
    assert kinds[0] == 'created' and kinds[-1] == 'closed', kinds
    assert 'deleted' not in kinds  # the service did not delete it


def test_reconciliation_tracks_a_server_booted_while_the_worker_was_down(
        alice, admin, servers, worker_stopped):
    server = servers('missed')
    # Nothing listens; the create notification waits in the worker's
    # queue. Reconciliation with Nova creates the record.
    admin.manage('vm', 'sync')
    record = record_of(alice, server.id)
    created = [e for e in admin.events(server.id) if e['Event'] == 'created']
    assert created and created[0]['Detail'].get('source') == 'reconcile'
    life = parse(record['expire_at']) - utcnow()
    assert life > datetime.timedelta(days=59)
    # The late create.end, delivered when the worker is back, changes
    # nothing (idempotent events): set a distinct expiry to see it.
    expire_at = admin.expire_soon(server.id, 3600)
    admin.service('start', 'osvmexpire-worker')
    wait_for('the worker drains its queue', admin.worker_queue_empty, 30)
    after = alice.find_record(server.id)
    assert after['id'] == record['id']
    assert after['expire_at'] == expire_at
    kinds = admin.event_kinds(server.id)
    assert kinds.count('created') == 1, kinds


def test_server_deleted_behind_the_services_back_is_closed(alice, admin,
                                                           servers):
    server = servers('behind')
    record_of(alice, server.id)
    admin.service('stop', 'osvmexpire-worker')
    try:
        alice.nova.servers.delete(server.id)
        wait_for('server gone', lambda: alice.server_gone(server.id), 60)
        admin.manage('vm', 'sync')
        # Closed while the worker (and its delete notification) was away.
        assert alice.find_record(server.id) is None
    finally:
        admin.service('start', 'osvmexpire-worker')
    closed = [e for e in admin.events(server.id) if e['Event'] == 'closed']
    assert closed and closed[0]['Detail'].get('source') == 'reconcile'
    wait_for('the worker drains its queue', admin.worker_queue_empty, 30)
    assert alice.find_record(server.id) is None
    kinds = admin.event_kinds(server.id)
    assert 'deleted' not in kinds and 'created' in kinds, kinds


def test_locked_server_is_skipped_not_deleted(alice, admin, servers):
    server = servers('locked')
    record_of(alice, server.id)
    alice.nova.servers.lock(server.id)
    admin.expire_soon(server.id, 2)
    wait_for('deletion skipped for the locked server',
             lambda: 'skipped' in admin.event_kinds(server.id),
             CLEANER_TIMEOUT)
    assert not alice.server_gone(server.id)
    assert alice.nova.servers.get(server.id).status == 'ACTIVE'
    kinds = admin.event_kinds(server.id)
    assert 'deleted' not in kinds, kinds
    assert alice.find_record(server.id) is not None
