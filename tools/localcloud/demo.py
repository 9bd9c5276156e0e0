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
"""The demo of the local cloud: watch one server's expiry play out.

Run by ``python3 tools/localcloud.py demo`` with the project's venv and
the variables of cloud.env. As alice (a member of project-a) it boots a
server on real Nova, reads the expiry os-vm-expire gave it through the
API (endpoint from the Keystone catalog), extends it, and then, with the
expiry moved near now by the admin path, shows the warning mails arriving
and the cleaner deleting the server. Every step waits with a timeout.
"""

import email
import email.policy
import os
import subprocess
import sys
import time

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from novaclient import client as nova_client
from novaclient import exceptions as nova_exc

ENV = os.environ
HERE = os.path.dirname(os.path.abspath(__file__))
T0 = time.monotonic()


def step(msg: str) -> None:
    print('\n[%5.1fs] == %s' % (time.monotonic() - T0, msg), flush=True)


def info(msg: str) -> None:
    print('           ' + msg, flush=True)


def wait(what: str, func, timeout: float, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = func()
        if result:
            return result
        time.sleep(interval)
    raise SystemExit('demo: FAILED: %s did not happen within %d s (logs in '
                     '%s)' % (what, timeout, ENV['CLOUD_LOG_DIR']))


def login(user: str, password: str, project: str) -> ks_session.Session:
    auth = v3.Password(auth_url=ENV['OS_AUTH_URL'], username=user,
                       password=password, project_name=project,
                       user_domain_id='default', project_domain_id='default')
    return ks_session.Session(auth=auth, timeout=30)


class VmExpireApi:
    """os-vm-expire's API, found in the catalog (service type vmexpire)."""

    def __init__(self, sess: ks_session.Session) -> None:
        self.sess = sess
        self.filter = {'service_type': 'vmexpire', 'interface': 'public',
                       'region_name': ENV['OS_REGION_NAME']}
        info('os-vm-expire endpoint from the catalog: %s'
             % sess.get_endpoint(**self.filter))

    def call(self, method: str, path: str, **kwargs):
        return self.sess.request(path, method, endpoint_filter=self.filter,
                                 raise_exc=False, **kwargs)

    def find(self, instance_id: str) -> dict | None:
        resp = self.call('GET', '/vmexpires/?instance_id=' + instance_id)
        if resp.status_code != 200:
            raise SystemExit('demo: FAILED: list gave %d %s'
                             % (resp.status_code, resp.text))
        records = resp.json()['vmexpires']
        return records[0] if records else None


def show(record: dict) -> None:
    for key in ('id', 'instance_name', 'expire_at', 'delete_after',
                'max_expire_at', 'extensions', 'notified', 'notified_last'):
        info('%-14s %s' % (key, record.get(key)))


class Mailbox:
    def __init__(self, path: str) -> None:
        self.path = path
        self.seen = set(self._names())

    def _names(self):
        return sorted(n for n in os.listdir(self.path)
                      if n.endswith('.eml'))

    def new(self) -> list:
        fresh = [n for n in self._names() if n not in self.seen]
        self.seen.update(fresh)
        mails = []
        for name in fresh:
            with open(os.path.join(self.path, name), 'rb') as f:
                mails.append((name, email.message_from_binary_file(
                    f, policy=email.policy.default)))
        return mails

    def print_new(self) -> list:
        mails = self.new()
        for name, msg in mails:
            info('MAIL %s  to %s  subject "%s"' % (name, msg['To'],
                                                   msg['Subject']))
            body = msg.get_body(('plain',))
            text = body.get_content() if body else ''
            for line in [ln for ln in text.splitlines() if ln.strip()][:6]:
                info('     | ' + line[:100])
        return mails


def expire_soon(instance_id: str, seconds: int) -> str:
    out = subprocess.run([sys.executable, os.path.join(HERE,
                                                       'expire_soon.py'),
                          instance_id, str(seconds)], capture_output=True,
                         text=True, timeout=60)
    if out.returncode:
        raise SystemExit('demo: FAILED: expire_soon: ' + out.stderr)
    return out.stdout.strip()


def main() -> int:
    mailbox = Mailbox(ENV['CLOUD_MAIL_DIR'])
    step('alice logs in to Keystone (project %s)' % ENV['CLOUD_PROJECT1'])
    sess = login(ENV['CLOUD_USER1'], ENV['CLOUD_PASSWORD1'],
                 ENV['CLOUD_PROJECT1'])
    nova = nova_client.Client('2.96', session=sess,
                              region_name=ENV['OS_REGION_NAME'])
    api = VmExpireApi(sess)

    step('alice boots a server on Nova')
    server = nova.servers.create('demo-vm', image=ENV['CLOUD_IMAGE_ID'],
                                 flavor='1', nics='none')
    wait('server ACTIVE', lambda: nova.servers.get(server.id).status
         == 'ACTIVE', 60)
    info('server %s is ACTIVE' % server.id)

    step('os-vm-expire saw Nova\'s notification: the record via the API')
    record = wait('the record', lambda: api.find(server.id), 30)
    show(record)

    step('the admin moves the expiry to 2 minutes from now (direct DB '
         'access, like an old server near its end)')
    info('expire_at now %s' % expire_soon(server.id, 120))
    show(api.find(server.id))

    step('alice extends it through the API (PUT, as Horizon or the CLI '
         'would)')
    resp = api.call('PUT', '/vmexpires/%s' % record['id'], json={})
    info('HTTP %d' % resp.status_code)
    if resp.status_code != 202:
        raise SystemExit('demo: FAILED: extend gave %d %s'
                         % (resp.status_code, resp.text))
    show(resp.json()['vmexpire'])

    step('the cleaner confirms the extension to alice by mail')
    wait('the extension mail', lambda: mailbox.print_new(), 20)

    step('bob (another project) cannot see it')
    bob = VmExpireApi(login(ENV['CLOUD_USER2'], ENV['CLOUD_PASSWORD2'],
                            ENV['CLOUD_PROJECT2']))
    resp = bob.call('GET', '/vmexpires/%s' % record['id'])
    info('bob GET the record: HTTP %d' % resp.status_code)

    step('time passes: the expiry is moved to 10 seconds from now; the '
         'demo cleaner (every 2 s, warnings due at the expiry) takes over')
    info('expire_at now %s' % expire_soon(server.id, 10))
    mailbox.print_new()

    step('watching the mail folder and Nova: warnings, then the deletion')
    seen = {'warnings': 0, 'deleted_mail': False, 'gone': False}

    def progress():
        for _name, msg in mailbox.print_new():
            subject = str(msg['Subject']).lower()
            if 'extended' in subject:
                continue
            if 'will' in subject or 'warn' in subject:
                seen['warnings'] += 1
            elif 'deleted' in subject:
                seen['deleted_mail'] = True
        if not seen['gone']:
            try:
                nova.servers.get(server.id)
            except nova_exc.NotFound:
                seen['gone'] = True
                info('NOVA server %s is gone (deleted by the cleaner)'
                     % server.id)
        return seen['gone'] and seen['deleted_mail']
    wait('warnings, deletion and its notice', progress, 120)
    info('%d warning mail(s) before the deletion' % seen['warnings'])
    wait('record closed', lambda: api.find(server.id) is None, 30)
    info('os-vm-expire: no record left for the server')

    step('the audit trail (osvmexpire-manage vm events)')
    out = subprocess.run([os.path.join(os.path.dirname(sys.executable),
                                       'osvmexpire-manage'), 'vm', 'events',
                          server.id, '-c', 'When (UTC)', '-c', 'Event', '-c',
                          'Actor', '-c', 'Detail', '--max-width', '150'],
                         capture_output=True, text=True,
                         timeout=60)
    print(out.stdout + out.stderr, flush=True)
    step('demo done: mails are in %s' % ENV['CLOUD_MAIL_DIR'])
    return 0


if __name__ == '__main__':
    sys.exit(main())
