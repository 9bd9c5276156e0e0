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
"""Browser test of the dashboard against a real cloud.

Headless Chromium (Debian's, driven by /usr/bin/chromedriver: Selenium
downloads nothing) against a running Horizon whose Keystone, Nova and
os-vm-expire API are the local cloud's (tools/localcloud.py up). Run by
tools/cloud.d/20-horizon-browser.sh, which starts and stops Horizon::

    python browser_test.py --url http://127.0.0.1:8080 --shots DIR

Steps: alice and bob boot servers; alice (member of project-a) sees only
her project's, extends one and sees the new date, gets the API's refusal
as is for another; carol (reader) sees them without Extend; alice cannot
reach the admin panel; the admin sees every project's servers, adds and
deletes an exclusion, removes the expiry of bob's server and tracks it
again by its ID. Screenshots of the project panel, the Extend modal
and the admin panel go to --shots.
"""

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
import uuid

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from novaclient import client as nova_client
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

ENV = os.environ
WAIT = 30
DAY = datetime.timedelta(days=1)


def step(msg: str) -> None:
    print('browser-test: %s' % msg, flush=True)


class Failed(Exception):
    pass


def check(condition: bool, msg: str) -> None:
    if not condition:
        raise Failed(msg)


def wait_for(what: str, func, timeout: float = 60, interval: float = 1):
    deadline = time.monotonic() + timeout
    while True:
        value = func()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failed('timed out after %ss waiting for %s'
                         % (timeout, what))
        time.sleep(interval)


def login_session(user: str, password: str,
                  project: str) -> ks_session.Session:
    auth = v3.Password(auth_url=ENV['OS_AUTH_URL'], username=user,
                       password=password, project_name=project,
                       user_domain_id='default', project_domain_id='default')
    return ks_session.Session(auth=auth, timeout=30)


class Api:
    """The os-vm-expire API from the catalog, to prepare and to verify."""

    def call(self, method: str, path: str, **kwargs):
        return self.sess.request(path, method, endpoint_filter=self.filter,
                                 raise_exc=False, **kwargs)

    def __init__(self, sess: ks_session.Session, admin: bool = False):
        self.sess = sess
        self.filter = {'service_type': 'vmexpire', 'interface': 'public',
                       'region_name': ENV.get('OS_REGION_NAME', 'RegionOne')}
        # An admin's list covers its own project unless all_tenants=1.
        self.scope = '&all_tenants=1' if admin else ''

    def find(self, instance_id: str) -> dict | None:
        resp = self.call('GET', '/vmexpires/?instance_id=%s%s'
                         % (instance_id, self.scope))
        check(resp.status_code == 200,
              'API list: %s %s' % (resp.status_code, resp.text))
        records = resp.json()['vmexpires']
        return records[0] if records else None


class Browser:
    def __init__(self, url: str, workdir: str) -> None:
        self.url = url.rstrip('/')
        self.workdir = workdir
        opts = webdriver.ChromeOptions()
        opts.binary_location = '/usr/bin/chromium'
        profile = tempfile.mkdtemp(prefix='chromium-', dir=workdir)
        for arg in ('--headless', '--no-sandbox', '--disable-gpu',
                    '--disable-background-networking',
                    '--disable-component-update', '--disable-sync',
                    '--no-first-run', '--disable-dev-shm-usage',
                    '--window-size=1440,900',
                    '--user-data-dir=%s' % profile):
            opts.add_argument(arg)
        self.drv = webdriver.Chrome(
            service=Service('/usr/bin/chromedriver'), options=opts)
        self.drv.set_page_load_timeout(60)

    def quit(self) -> None:
        self.drv.quit()

    def wait(self, by, value, timeout: float = WAIT, visible=True):
        cond = (ec.visibility_of_element_located if visible
                else ec.presence_of_element_located)
        try:
            return WebDriverWait(self.drv, timeout).until(cond((by, value)))
        except TimeoutException:
            raise Failed('no %s within %ss on %s' % (
                value, timeout, self.drv.current_url)) from None

    def gone(self, by, value, timeout: float = WAIT) -> None:
        try:
            WebDriverWait(self.drv, timeout).until(
                ec.invisibility_of_element_located((by, value)))
        except TimeoutException:
            raise Failed('%s still shown after %ss' % (value,
                                                       timeout)) from None

    def login(self, user: str, password: str, next_url: str) -> None:
        self.drv.delete_all_cookies()
        self.drv.get('%s/auth/login/?next=%s' % (self.url, next_url))
        self.wait(By.ID, 'id_username').send_keys(user)
        self.drv.find_element(By.ID, 'id_password').send_keys(password)
        self.drv.find_element(By.ID, 'loginBtn').click()
        self.wait(By.ID, 'main_content')

    def get(self, path: str) -> None:
        self.drv.get(self.url + path)

    def row(self, table: str, name: str):
        return self.drv.find_elements(
            By.CSS_SELECTOR, '#%s tr[data-display="%s"]' % (table, name))

    def messages(self) -> str:
        return ' | '.join(e.text for e in self.drv.find_elements(
            By.CSS_SELECTOR, '.messages .alert, .modal .alert'))

    def shot(self, path: str) -> None:
        self.drv.save_screenshot(path)
        step('screenshot %s' % path)


def boot(nova, name: str, attempts: int = 3) -> str:
    """Boot a server and wait until ACTIVE, one at a time.

    NOTE: the local cloud's Nova runs on SQLite; under load a build may
    fail ("database is locked") and end in ERROR. Such a server is deleted
    and booted again, so the test is about the dashboard, not about Nova.
    """
    for attempt in range(1, attempts + 1):
        server = nova.servers.create(name, image=ENV['CLOUD_IMAGE_ID'],
                                     flavor='1', nics='none')
        status = wait_for('%s to build' % name, lambda sid=server.id: (
            nova.servers.get(sid).status in ('ACTIVE', 'ERROR')
            and nova.servers.get(sid).status), 180)
        if status == 'ACTIVE':
            return server.id
        step('%s went to ERROR in Nova (attempt %d), booting again'
             % (name, attempt))
        nova.servers.delete(server.id)
    raise Failed('Nova could not build %s' % name)


def remove_leftovers(novas) -> None:
    """Delete servers left by an interrupted earlier run (names hz-*)."""
    old = [(nova, server) for nova in novas.values()
           for server in nova.servers.list(search_opts={'name': '^hz-'})]
    gone = []
    for nova, server in old:
        try:
            nova.servers.delete(server.id)
            gone.append(server)
        except Exception as exc:  # housekeeping only: say it, go on
            step('could not delete leftover %s: %s' % (server.name, exc))
    if gone:
        step('deleting %d servers of an earlier run' % len(gone))


def expire_in(instance_id: str, seconds: int) -> None:
    """Move a record's expiry near now (the cloud's test tool, direct DB):
    fresh servers expire in 60 days, later than any extension.
    """
    venv_python = os.path.join(ENV['OSVMEXPIRE_VENV'], 'bin', 'python')
    tool = os.path.join(ENV['CLOUD_ROOT'], 'tools', 'localcloud',
                        'expire_soon.py')
    out = subprocess.run([venv_python, tool, instance_id, str(seconds)],
                         capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, 'expire_soon: %s' % out.stderr)


def run(args) -> None:
    suffix = uuid.uuid4().hex[:6]
    alice_sess = login_session(ENV['CLOUD_USER1'], ENV['CLOUD_PASSWORD1'],
                               ENV['CLOUD_PROJECT1'])
    bob_sess = login_session(ENV['CLOUD_USER2'], ENV['CLOUD_PASSWORD2'],
                             ENV['CLOUD_PROJECT2'])
    admin_sess = login_session(ENV['CLOUD_ADMIN_USER'],
                               ENV['CLOUD_ADMIN_PASSWORD'],
                               ENV['CLOUD_ADMIN_PROJECT'])
    region = ENV.get('OS_REGION_NAME', 'RegionOne')
    novas = {who: nova_client.Client('2.96', session=s, region_name=region)
             for who, s in (('alice', alice_sess), ('bob', bob_sess))}
    alice_api, admin_api = Api(alice_sess), Api(admin_sess, admin=True)
    names = {'web': 'hz-web-%s' % suffix, 'db': 'hz-db-%s' % suffix,
             'bob': 'hz-bob-%s' % suffix}
    servers = {}
    remove_leftovers(novas)
    try:
        step('alice boots %s and %s, bob boots %s'
             % (names['web'], names['db'], names['bob']))
        servers['web'] = ('alice', boot(novas['alice'], names['web']))
        servers['db'] = ('alice', boot(novas['alice'], names['db']))
        servers['bob'] = ('bob', boot(novas['bob'], names['bob']))
        step('servers %s' % ', '.join(
            '%s=%s' % (names[k], v[1]) for k, v in servers.items()))
        records = {}
        for key, (_who, sid) in servers.items():
            records[key] = wait_for('the record of %s' % names[key],
                                    lambda sid=sid: admin_api.find(sid), 240)
        step('records exist; %s expires in 3 days (an old server)'
             % names['web'])
        expire_in(servers['web'][1], 3 * 86400)
        browse(args, names, records, alice_api, admin_api)
    finally:
        for key, (who, sid) in servers.items():
            try:
                novas[who].servers.delete(sid)
            except Exception as exc:  # best-effort cleanup
                print('cleanup: %s: %s' % (names[key], exc), file=sys.stderr)


def browse(args, names, records, alice_api, admin_api) -> None:
    workdir = args.workdir
    os.makedirs(args.shots, exist_ok=True)
    browser = Browser(args.url, workdir)
    try:
        member(browser, args, names, records, alice_api)
        admin(browser, args.shots, names, records, admin_api)
    except Exception:
        path = os.path.join(workdir, 'failure.png')
        browser.drv.save_screenshot(path)
        with open(os.path.join(workdir, 'failure.html'), 'w') as f:
            f.write(browser.drv.page_source)
        print('browser-test: page at failure: %s (%s, failure.html)'
              % (browser.drv.current_url, path), file=sys.stderr)
        raise
    finally:
        browser.quit()


def member(browser, args, names, records, api) -> None:
    step('alice logs in to Horizon')
    browser.login(ENV['CLOUD_USER1'], ENV['CLOUD_PASSWORD1'],
                  '/project/vmexpire/')
    browser.get('/project/vmexpire/')
    browser.wait(By.ID, 'vmexpire-project-panel')
    check(browser.row('vmexpires', names['web']) and
          browser.row('vmexpires', names['db']),
          'alice does not see her servers')
    check(not browser.row('vmexpires', names['bob']),
          'alice sees bob\'s server')
    rows = [r.get_attribute('data-display') for r in
            browser.drv.find_elements(By.CSS_SELECTOR,
                                      '#vmexpires tbody tr[data-display]')]
    check(rows.index(names['web']) < rows.index(names['db']),
          'not sorted by soonest expiry: %s' % rows)
    web_row = browser.row('vmexpires', names['web'])[0].text
    check('in 2 days' in web_row or 'in 3 days' in web_row,
          'expiry not shown as "in N days": %s' % web_row)
    check(not browser.drv.find_elements(By.ID, 'vmexpires__action_track'),
          'alice is offered an admin action')
    browser.shot(os.path.join(args.shots, 'horizon-project-panel.png'))

    step('alice opens Extend for %s' % names['web'])
    web_id = records['web']['id']
    browser.drv.find_element(
        By.ID, 'vmexpires__row_%s__action_extend' % web_id).click()
    days = browser.wait(By.ID, 'id_days')
    check(days.get_attribute('value') == '30',
          'default days is %r, not the max' % days.get_attribute('value'))
    preview = browser.drv.find_element(By.ID, 'vmexpire-new-expiry')
    now = datetime.datetime.now(datetime.UTC)
    check((now + 30 * DAY).strftime('%Y-%m-%d') in preview.text,
          'preview for 30 days: %s' % preview.text)
    days.clear()
    days.send_keys('20')
    wanted = {(now + 20 * DAY).strftime('%Y-%m-%d'),
              (datetime.datetime.now(datetime.UTC) + 20 * DAY)
              .strftime('%Y-%m-%d')}
    wait_for('the preview for 20 days', lambda: any(
        w in preview.text for w in wanted), 10, 0.2)
    browser.shot(os.path.join(args.shots, 'horizon-extend-modal.png'))
    browser.drv.find_element(
        By.CSS_SELECTOR, '#extend_vmexpire_form [type=submit]').click()
    browser.gone(By.ID, 'extend_vmexpire_form')
    browser.wait(By.ID, 'vmexpire-project-panel')
    wait_for('the new date in the table', lambda: any(
        w in browser.row('vmexpires', names['web'])[0].text
        for w in wanted), 20, 0.5)
    record = api.find(records['web']['instance_id'])
    check(record['expire_at'][:10] in wanted,
          'API says %s after the extension' % record['expire_at'])
    step('extended: %s now expires %s (%s)' % (
        names['web'], record['expire_at'], browser.messages()))

    step('alice tries to extend %s (60 days left: refused)' % names['db'])
    browser.drv.find_element(
        By.ID, 'vmexpires__row_%s__action_extend'
        % records['db']['id']).click()
    browser.wait(By.ID, 'id_days')
    browser.drv.find_element(
        By.CSS_SELECTOR, '#extend_vmexpire_form [type=submit]').click()
    error = browser.wait(By.CSS_SELECTOR,
                         '#extend_vmexpire_form .alert-danger')
    check(error.text.strip() != '', 'no refusal reason shown')
    step('refusal shown in the modal: %s' % ' '.join(error.text.split()))

    if ENV.get('CLOUD_READER'):
        step('carol (reader of the project) sees the servers, no Extend')
        browser.login(ENV['CLOUD_READER'], ENV['CLOUD_READER_PASSWORD'],
                      '/project/vmexpire/')
        browser.get('/project/vmexpire/')
        browser.wait(By.ID, 'vmexpire-project-panel')
        check(browser.row('vmexpires', names['web']),
              'carol does not see the project\'s servers')
        check(not browser.drv.find_elements(
            By.CSS_SELECTOR, '[id$="__action_extend"], '
            '#vmexpires__action_batch_extend'),
            'carol is offered Extend')
        browser.login(ENV['CLOUD_USER1'], ENV['CLOUD_PASSWORD1'],
                      '/project/vmexpire/')

    step('alice cannot reach the admin panel')
    check(not browser.drv.find_elements(
        By.CSS_SELECTOR, '[data-target="#sidebar-accordion-admin"]'),
        'alice sees the Admin dashboard')
    browser.get('/admin/vmexpire/')
    time.sleep(1)
    check(not browser.drv.find_elements(By.ID, 'vmexpire-admin-panel'),
          'alice reached /admin/vmexpire/')


def admin(browser, shots, names, records, api) -> None:
    bob_id = ENV['CLOUD_USER2_ID']
    stale = [e for e in api.call('GET', '/vmexcludes/').json().get(
        'vmexcludes', []) if e['exclude_id'] == bob_id]
    for exclusion in stale:
        api.call('DELETE', '/vmexcludes/%s' % exclusion['id'])

    step('admin logs in and sees every project\'s servers')
    browser.login(ENV['CLOUD_ADMIN_USER'], ENV['CLOUD_ADMIN_PASSWORD'],
                  '/admin/vmexpire/')
    browser.get('/admin/vmexpire/')
    browser.wait(By.ID, 'vmexpire-admin-panel')
    for key in ('web', 'db', 'bob'):
        check(browser.row('vmexpires', names[key]),
              'admin does not see %s' % names[key])
    bob_row = browser.row('vmexpires', names['bob'])[0].text
    check(ENV['CLOUD_PROJECT2'] in bob_row,
          'no project name in %r' % bob_row)
    browser.shot(os.path.join(shots, 'horizon-admin-panel.png'))

    step('admin excludes user bob')
    browser.get('/admin/vmexpire/?tab=vmexpire_admin_tabs__vmexcludes_tab')
    browser.wait(By.ID, 'vmexcludes__action_exclude').click()
    browser.wait(By.ID, 'id_exclude_id')
    kind = browser.wait(By.ID, 'id_exclude_type', visible=False)
    # A themable select: set the hidden <select> and its button label.
    browser.drv.execute_script(
        "var s = arguments[0]; s.value = 'user';"
        "s.dispatchEvent(new Event('change', {bubbles: true}));", kind)
    browser.drv.find_element(By.ID, 'id_exclude_id').send_keys(bob_id)
    browser.drv.find_element(
        By.CSS_SELECTOR, '#add_exclusion_form [type=submit]').click()
    browser.gone(By.ID, 'add_exclusion_form')
    row = wait_for('the exclusion row', lambda: [
        r for r in browser.drv.find_elements(
            By.CSS_SELECTOR, '#vmexcludes tbody tr[data-object-id]')
        if bob_id in r.text], 20, 0.5)[0]
    check('User' in row.text, 'exclusion type not shown: %s' % row.text)
    browser.shot(os.path.join(shots, 'horizon-admin-exclusions.png'))
    exclusion_id = row.get_attribute('data-object-id')
    wait_for('bob\'s server excluded in the API', lambda: api.find(
        records['bob']['instance_id']).get('excluded') is True, 20)

    step('admin deletes the exclusion')
    browser.drv.find_element(
        By.ID, 'vmexcludes__row_%s__action_delete' % exclusion_id).click()
    confirm_modal(browser)
    wait_for('the exclusion to go', lambda: not browser.drv.find_elements(
        By.CSS_SELECTOR, '#vmexcludes tr[data-object-id="%s"]'
        % exclusion_id), 20, 0.5)
    left = [e for e in api.call('GET', '/vmexcludes/').json()['vmexcludes']
            if e['id'] == exclusion_id]
    check(not left, 'the exclusion is still in the API')

    bob = records['bob']
    step('admin removes the expiry of %s' % names['bob'])
    browser.get('/admin/vmexpire/')
    row = browser.wait(By.ID, 'vmexpires__row__%s' % bob['id'])
    row.find_element(By.CSS_SELECTOR, '.dropdown-toggle').click()
    browser.wait(By.ID, 'vmexpires__row_%s__action_remove'
                 % bob['id']).click()
    confirm_modal(browser)
    wait_for('the row of %s to go' % names['bob'],
             lambda: not browser.row('vmexpires', names['bob']), 20, 0.5)
    check(api.find(bob['instance_id']) is None,
          'the API still has an expiry for %s' % names['bob'])

    step('admin tracks %s again by its ID' % names['bob'])
    browser.wait(By.ID, 'vmexpires__action_track').click()
    browser.wait(By.ID, 'id_instance_id').send_keys(bob['instance_id'])
    browser.drv.find_element(
        By.CSS_SELECTOR, '#track_server_form [type=submit]').click()
    browser.gone(By.ID, 'track_server_form')
    wait_for('the row of %s to come back' % names['bob'],
             lambda: browser.row('vmexpires', names['bob']), 20, 0.5)
    check(api.find(bob['instance_id']) is not None,
          'the API has no expiry for %s after tracking' % names['bob'])


def confirm_modal(browser) -> None:
    """Click the confirming button of Horizon's "are you sure" modal."""
    browser.wait(By.CSS_SELECTOR, '.modal-footer .btn')
    buttons = [b for b in browser.drv.find_elements(
        By.CSS_SELECTOR, '.modal-footer .btn') if b.is_displayed()
        and 'cancel' not in (b.get_attribute('class') or '')]
    check(bool(buttons), 'no confirm button in the modal')
    buttons[-1].click()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--url', required=True)
    parser.add_argument('--shots', required=True)
    parser.add_argument('--workdir', default=tempfile.gettempdir())
    args = parser.parse_args()
    started = time.monotonic()
    try:
        run(args)
    except Failed as exc:
        print('browser-test: FAILED: %s' % exc, file=sys.stderr)
        return 1
    step('passed in %.1f s' % (time.monotonic() - started))
    return 0


if __name__ == '__main__':
    sys.exit(main())
