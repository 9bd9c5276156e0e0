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
"""A real local cloud on 127.0.0.1 with os-vm-expire plugged in.

    python3 tools/localcloud.py up       create venvs, start everything, wait
    python3 tools/localcloud.py demo     up, then watch a server expire
    python3 tools/localcloud.py status   what runs, memory
    python3 tools/localcloud.py env      print the sourceable cloud.env
    python3 tools/localcloud.py stop     end exactly what "up" started
    python3 tools/localcloud.py service stop|start NAME   one process

Real Keystone (fernet tokens), Placement, Nova (API, conductor,
scheduler, compute with the fake virt driver), Glance (file store) from
PyPI, a Neutron stub, an SMTP server that keeps every mail as a file, and
os-vm-expire (API under gunicorn, worker, cleaner) with its own config.
Nova's notifications go to a dedicated vhost of the machine's RabbitMQ.
Every database (Keystone, Glance, Placement, Nova's three, os-vm-expire)
is a dedicated MariaDB database when MariaDB runs on 127.0.0.1:3306, and
an SQLite file otherwise (then Nova may hit "database is locked" on a
loaded machine).

Only the standard library is used here, so a fresh checkout runs it with
the system python3; the OpenStack services run from their own venv in
``.state/cloud-venv``, os-vm-expire from the project's ``.venv``. State,
configs, logs and mails are in ``.state/cloud/``. Every wait has a
timeout; a failure prints the log tail of the process that failed.
"""

import argparse
import concurrent.futures
import contextlib
import fcntl
import json
import os
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELPERS = os.path.join(ROOT, 'tools', 'localcloud')
STATE = os.path.join(ROOT, '.state')
# LOCALCLOUD_PORT_OFFSET=N runs a second cloud beside the default one (for
# example a fresh clone's CI): every port + N, its own vhost, database and
# state directory (.state/cloud-N).
OFFSET = int(os.environ.get('LOCALCLOUD_PORT_OFFSET') or 0)
SUFFIX = '-%d' % OFFSET if OFFSET else ''
CLOUD = os.path.join(STATE, 'cloud' + SUFFIX)
CLOUD_VENV = os.path.join(STATE, 'cloud-venv')
PROJECT_VENV = os.path.join(ROOT, '.venv')
ETC, LOG, RUN, DATA, LIB = (os.path.join(CLOUD, d) for d in
                            ('etc', 'log', 'run', 'data', 'lib'))
MAIL = os.path.join(CLOUD, 'mail')
ENV_FILE = os.path.join(CLOUD, 'cloud.env')
OWNED = os.path.join(CLOUD, 'run', 'shared-resources.json')
# Ports, vhost and database names are the same for every checkout: one
# localcloud command at a time on the whole machine.
MACHINE_LOCK = '/tmp/osvmexpire-localcloud.lock'

# Pinned as measured in the notes (nova.tests and the fake driver change
# between releases); all four resolve together in one venv.
CLOUD_REQUIREMENTS = ['nova==34.0.0', 'openstack-placement==16.0.0',
                      'keystone==30.0.0', 'glance==33.0.0',
                      'python-novaclient>=18.6.0', 'gunicorn>=22.0.0',
                      'aiosmtpd>=1.4.4', 'PyMySQL>=1.0.2']

HOST = '127.0.0.1'
PORTS = {name: port + OFFSET for name, port in (
    ('keystone', 5000), ('placement', 8778), ('nova-api', 8774),
    ('glance', 9292), ('neutron-stub', 9696), ('smtp', 8025),
    ('osvmexpire-api', 9411))}
REGION = 'RegionOne'
VHOST = 'osvmexpire-cloud' + SUFFIX
MYSQL_DB = 'osvmexpire_cloud' + SUFFIX.replace('-', '_')
# The OpenStack services' databases: MYSQL_DB + '_' + name on MariaDB, or
# DATA/name.sqlite.
CLOUD_DBS = ('keystone', 'glance', 'placement', 'nova_api', 'nova',
             'nova_cell0')
RABBIT = 'rabbit://guest:guest@127.0.0.1:5672/' + VHOST
KEYSTONE_URL = 'http://%s:%d/v3' % (HOST, PORTS['keystone'])
NOVA_URL = 'http://%s:%d/v2.1' % (HOST, PORTS['nova-api'])
GLANCE_URL = 'http://%s:%d' % (HOST, PORTS['glance'])
PLACEMENT_URL = 'http://%s:%d' % (HOST, PORTS['placement'])
OSVMEXPIRE_URL = 'http://%s:%d' % (HOST, PORTS['osvmexpire-api'])

ADMIN = ('admin', 'admin-secret', 'admin')
# name, password, project, role, e-mail
USERS = [('alice', 'alice-secret', 'project-a', 'member',
          'alice@example.org'),
         ('bob', 'bob-secret', 'project-b', 'member', 'bob@example.org'),
         ('carol', 'carol-secret', 'project-a', 'reader',
          'carol@example.org')]
SERVICE_USERS = [('nova', 'nova-secret'), ('glance', 'glance-secret'),
                 ('osvmexpire', 'osvmexpire-secret')]
# Stop order: os-vm-expire first (it calls the others), nova-compute early
# since its graceful stop is the slowest.
SERVICES = ['osvmexpire-cleaner', 'osvmexpire-worker', 'osvmexpire-api',
            'nova-compute', 'nova-scheduler', 'nova-conductor', 'nova-api',
            'glance', 'placement', 'keystone', 'neutron-stub', 'smtp']

T0 = time.monotonic()


class CloudError(Exception):
    """A step failed; the message says which and what to do."""


def say(msg: str) -> None:
    print('[%6.1fs] %s' % (time.monotonic() - T0, msg), flush=True)


# -- processes ----------------------------------------------------------

def run(argv: list[str], timeout: float = 300, env: dict | None = None,
        log: str | None = None, cwd: str | None = None) -> str:
    """Run a command to completion; raise CloudError with its output."""
    full_env = dict(os.environ, **(env or {}))
    try:
        proc = subprocess.run(argv, capture_output=True, text=True,
                              timeout=timeout, env=full_env, cwd=cwd)
    except subprocess.TimeoutExpired:
        raise CloudError('%s did not finish within %d s'
                         % (' '.join(argv[:3]), timeout))
    except FileNotFoundError:
        raise CloudError('command not found: %s' % argv[0])
    if log:
        with open(os.path.join(LOG, log), 'a') as f:
            f.write('$ %s\n%s%s' % (' '.join(argv), proc.stdout,
                                    proc.stderr))
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
        raise CloudError('%s failed (exit %d):\n    %s'
                         % (' '.join(argv[:4]), proc.returncode,
                            '\n    '.join(tail)))
    return proc.stdout


def _start_time(pid: int) -> str | None:
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[19]
    except OSError:
        return None


def spawn(name: str, argv: list[str], env: dict | None = None,
          cwd: str | None = None) -> int:
    """Start a long-running service in its own session, record its pid.

    The pid file holds the pid and the kernel start time of the process,
    so ``stop`` never signals a recycled pid that is not ours. The spec
    file lets ``service start NAME`` start it again the same way.
    """
    with open(os.path.join(RUN, name + '.json'), 'w') as f:
        json.dump({'argv': argv, 'env': env or {}, 'cwd': cwd}, f)
    logf = open(os.path.join(LOG, name + '.log'), 'ab')
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                            stderr=subprocess.STDOUT, cwd=cwd or CLOUD,
                            env=dict(os.environ, **(env or {})),
                            start_new_session=True)
    logf.close()
    with open(os.path.join(RUN, name + '.pid'), 'w') as f:
        f.write('%d %s\n' % (proc.pid, _start_time(proc.pid)))
    return proc.pid


def respawn(name: str) -> int:
    with open(os.path.join(RUN, name + '.json')) as f:
        spec = json.load(f)
    return spawn(name, spec['argv'], spec['env'], spec['cwd'])


def our_pid(name: str) -> int | None:
    """The pid of a service we started, if it still runs."""
    try:
        with open(os.path.join(RUN, name + '.pid')) as f:
            pid_s, start = f.read().split()
    except (OSError, ValueError):
        return None
    pid = int(pid_s)
    if _start_time(pid) != start:
        return None
    try:
        with open('/proc/%d/stat' % pid) as f:
            if f.read().rsplit(')', 1)[1].split()[0] == 'Z':
                return None
    except OSError:
        return None
    return pid


def stop_services(names: list[str], timeout: float = 30) -> None:
    """SIGTERM each service's process group, SIGKILL what outlives it."""
    pids = {}
    for name in names:
        pid = our_pid(name)
        if pid is None:
            continue
        try:
            os.killpg(pid, signal.SIGTERM)
            pids[name] = pid
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while pids and time.monotonic() < deadline:
        for name in [n for n in pids if our_pid(n) is None]:
            say('stopped %s' % name)
            del pids[name]
        time.sleep(0.3)
    for name, pid in pids.items():
        say('%s did not stop within %d s: SIGKILL' % (name, timeout))
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for name in names:
        path = os.path.join(RUN, name + '.pid')
        if our_pid(name) is None and os.path.exists(path):
            os.unlink(path)


def log_tail(name: str, lines: int = 25) -> str:
    try:
        with open(os.path.join(LOG, name + '.log'), errors='replace') as f:
            return '\n    '.join(f.read().splitlines()[-lines:])
    except OSError:
        return '(no log)'


def rss_kb(pid: int) -> int:
    """RSS of a process and all its descendants, in KiB."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/stat' % entry) as f:
                    ppid = int(f.read().rsplit(')', 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            with open('/proc/%d/status' % p) as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


# -- HTTP ---------------------------------------------------------------

def http(method: str, url: str, body=None, token: str | None = None,
         headers: dict | None = None, timeout: float = 30):
    """One JSON request; returns (status, headers, parsed body)."""
    data = None
    hdrs = {'Accept': 'application/json'}
    if body is not None:
        if isinstance(body, bytes):
            data = body
            hdrs['Content-Type'] = 'application/octet-stream'
        else:
            data = json.dumps(body).encode()
            hdrs['Content-Type'] = 'application/json'
    if token:
        hdrs['X-Auth-Token'] = token
    hdrs.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, rhdrs, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        status, rhdrs, raw = exc.code, exc.headers, exc.read()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors='replace')
    return status, rhdrs, parsed


def answers(url: str, timeout: float = 3) -> int | None:
    try:
        return http('GET', url, timeout=timeout)[0]
    except (OSError, urllib.error.URLError):
        return None


def wait_http(name: str, url: str, deadline: float,
              ok=(200, 300)) -> None:
    """Wait until ``url`` answers, failing fast if the process died."""
    while time.monotonic() < deadline:
        if answers(url) in ok:
            return
        if our_pid(name) is None:
            raise CloudError('%s exited during start; log %s:\n    %s'
                             % (name, os.path.join(LOG, name + '.log'),
                                log_tail(name)))
        time.sleep(0.3)
    raise CloudError('%s did not answer on %s in time; log:\n    %s'
                     % (name, url, log_tail(name)))


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex((HOST, port)) != 0


def wait_ports_free(ports: list[int], timeout: float = 10) -> list[int]:
    """Ports still taken after ``timeout`` (sockets close after exit)."""
    deadline = time.monotonic() + timeout
    while True:
        busy = [p for p in ports if not port_free(p)]
        if not busy or time.monotonic() > deadline:
            return busy
        time.sleep(0.3)


def keystone_token(user: str, password: str, project: str) -> tuple:
    """(token, project id) by password auth, scoped to ``project``."""
    body = {'auth': {'identity': {'methods': ['password'], 'password': {
        'user': {'name': user, 'password': password,
                 'domain': {'id': 'default'}}}},
        'scope': {'project': {'name': project,
                              'domain': {'id': 'default'}}}}}
    status, hdrs, data = http('POST', KEYSTONE_URL + '/auth/tokens', body)
    if status != 201:
        raise CloudError('Keystone refused %s: %s %s' % (user, status, data))
    return hdrs['X-Subject-Token'], data['token']['project']['id']


# -- setup steps --------------------------------------------------------

def ensure_venvs() -> None:
    """The OpenStack venv and the project's .venv (editable install)."""
    marker = os.path.join(CLOUD_VENV, '.localcloud-requirements')
    wanted = '\n'.join(CLOUD_REQUIREMENTS)
    pip_env = {'PIP_DISABLE_PIP_VERSION_CHECK': '1'}
    try:
        with open(marker) as f:
            have = f.read()
    except OSError:
        have = None
    if have != wanted:
        say('creating %s (Keystone, Nova, Placement, Glance; about a '
            'minute)' % CLOUD_VENV)
        run([sys.executable, '-m', 'venv', CLOUD_VENV], timeout=120)
        pip = os.path.join(CLOUD_VENV, 'bin', 'pip')
        run([pip, 'install', '-q', '-U', 'pip'], timeout=300, env=pip_env)
        run([pip, 'install', '-q'] + CLOUD_REQUIREMENTS, timeout=1200,
            env=pip_env)
        with open(marker, 'w') as f:
            f.write(wanted)
    vpy = os.path.join(PROJECT_VENV, 'bin', 'python')
    if not os.path.exists(vpy):
        say('creating %s (os-vm-expire, editable)' % PROJECT_VENV)
        run([sys.executable, '-m', 'venv', PROJECT_VENV], timeout=120)
        run([vpy, '-m', 'pip', 'install', '-q', '-U', 'pip'], timeout=300,
            env=pip_env)
    missing = [s for s in ('osvmexpire-worker', 'gunicorn', 'pytest')
               if not os.path.exists(os.path.join(PROJECT_VENV, 'bin', s))]
    if missing:
        say('installing os-vm-expire into %s' % PROJECT_VENV)
        run([vpy, '-m', 'pip', 'install', '-q', '-e', ROOT, '-r',
             os.path.join(ROOT, 'test-requirements.txt')], timeout=1200,
            env=pip_env)


def ensure_broker() -> None:
    """RabbitMQ must answer; a dedicated vhost keeps our traffic apart."""
    if port_free(5672):
        services = os.path.join(ROOT, 'tools', 'services.sh')
        if os.geteuid() == 0 and shutil.which('rabbitmq-server'):
            say('RabbitMQ is not running: starting it (tools/services.sh)')
            try:
                run(['bash', services, 'start'], timeout=120)
            except CloudError as exc:
                raise CloudError('%s\nStart RabbitMQ by hand: '
                                 'rabbitmq-server -detached' % exc)
        if port_free(5672):
            raise CloudError(
                'RabbitMQ is not running on 127.0.0.1:5672. Run:\n'
                '    apt-get install -y rabbitmq-server   (if missing)\n'
                '    rabbitmq-server -detached && rabbitmqctl await_startup')
    if not shutil.which('rabbitmqctl'):
        raise CloudError('rabbitmqctl not found: it is needed to create '
                         'the vhost %s' % VHOST)
    vhosts = run(['rabbitmqctl', '-q', 'list_vhosts'], timeout=60)
    if VHOST in vhosts.split():
        run(['rabbitmqctl', '-q', 'delete_vhost', VHOST], timeout=60)
    run(['rabbitmqctl', '-q', 'add_vhost', VHOST], timeout=60)
    run(['rabbitmqctl', '-q', 'set_permissions', '-p', VHOST, 'guest',
         '.*', '.*', '.*'], timeout=60)


def drop_broker_vhost() -> None:
    if shutil.which('rabbitmqctl') and not port_free(5672):
        try:
            vhosts = run(['rabbitmqctl', '-q', 'list_vhosts'], timeout=60)
            if VHOST in vhosts.split():
                run(['rabbitmqctl', '-q', 'delete_vhost', VHOST],
                    timeout=60)
                say('deleted RabbitMQ vhost %s' % VHOST)
        except CloudError as exc:
            say('could not delete vhost %s: %s' % (VHOST, exc))


def mysql(sql: str) -> None:
    code = ('import pymysql, sys; c = pymysql.connect(host="127.0.0.1", '
            'port=3306, user="root", connect_timeout=10); '
            'cur = c.cursor(); [cur.execute(s) for s in sys.argv[1:]]; '
            'c.commit()')
    run([os.path.join(PROJECT_VENV, 'bin', 'python'), '-c', code]
        + [s for s in sql.split(';') if s.strip()], timeout=60)


def create_databases() -> tuple[dict, list[str]]:
    """A URL per database, and the MariaDB databases created (for stop).

    On MariaDB each database is dropped and created afresh (the port
    check under the machine lock means no cloud uses these names). SQLite
    is the fallback: several Nova processes write the same file and a
    loaded machine then gives "database is locked" even with WAL and a
    60 s busy timeout. ``LOCALCLOUD_SQLITE=1`` forces SQLite (to test
    that path on a machine where MariaDB runs).
    """
    sqlite = {n: 'sqlite:///%s/%s.sqlite%s' % (DATA, n, SQLITE_OPTS)
              for n in CLOUD_DBS + ('osvmexpire',)}
    if os.environ.get('LOCALCLOUD_SQLITE') == '1':
        say('LOCALCLOUD_SQLITE=1: every database is SQLite')
        return sqlite, []
    if port_free(3306):
        say('MariaDB is not running on 127.0.0.1:3306: every database '
            '(Keystone, Glance, Placement, Nova, os-vm-expire) is SQLite, '
            'and Nova may fail with "database is locked" on a loaded '
            'machine (start MariaDB with tools/services.sh start)')
        return sqlite, []
    names = {n: '%s_%s' % (MYSQL_DB, n) for n in CLOUD_DBS}
    # devstack's choice for OpenStack's schemas (tables say utf8 too)
    sql = ['DROP DATABASE IF EXISTS %s; CREATE DATABASE %s CHARACTER SET '
           'utf8' % (db, db) for db in names.values()]
    sql.append('DROP DATABASE IF EXISTS %s; CREATE DATABASE %s CHARACTER '
               'SET utf8mb4' % (MYSQL_DB, MYSQL_DB))
    mysql('; '.join(sql))
    urls = {n: 'mysql+pymysql://root@127.0.0.1:3306/%s?charset=utf8' % db
            for n, db in names.items()}
    urls['osvmexpire'] = ('mysql+pymysql://root@127.0.0.1:3306/%s'
                          % MYSQL_DB)
    say('MariaDB databases: %s' % ', '.join(list(names.values())
                                           + [MYSQL_DB]))
    return urls, list(names.values()) + [MYSQL_DB]


# Several processes write each SQLite file (Nova: API, conductor, compute
# through it). On a busy machine the default 5 s busy timeout gave
# "database is locked" and a server in ERROR; wait longer, and use WAL so
# readers never block the writer. (Still not enough under heavy load:
# MariaDB is used whenever it runs.)
SQLITE_OPTS = '?timeout=60'
# name -> connection URL, set by "up" (create_databases)
DB_URLS: dict[str, str] = {}
# Small pools: a dozen processes share MariaDB's 151 connections with the
# other tests on the machine (oslo.db's default overflow is 50 each).
# (SQLite's pool takes none of these options.)
POOL = """max_pool_size = 3
max_overflow = 5
pool_timeout = 60
"""


def pool(name: str) -> str:
    """The pool options for a database's config section."""
    return POOL if DB_URLS[name].startswith('mysql') else ''


def wal(*names: str) -> None:
    """Switch SQLite files to WAL (persistent; before any server opens)."""
    for name in names:
        if not DB_URLS[name].startswith('sqlite'):
            continue
        con = sqlite3.connect(os.path.join(DATA, name + '.sqlite'),
                              timeout=60)
        try:
            con.execute('PRAGMA journal_mode=WAL')
        finally:
            con.close()


def write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text.lstrip('\n'))


def write_configs() -> None:
    """Every config file, with absolute paths written out."""
    db = DB_URLS
    nova_pw = dict(SERVICE_USERS)['nova']
    svc_pw = dict(SERVICE_USERS)['osvmexpire']
    authtoken = """
[keystone_authtoken]
www_authenticate_uri = {ks}
auth_url = {ks}
auth_type = password
username = {user}
password = {pw}
project_name = service
user_domain_name = Default
project_domain_name = Default
region_name = {region}
memcached_servers =
"""
    write(os.path.join(ETC, 'keystone', 'keystone.conf'), f"""
[DEFAULT]
use_stderr = true
[database]
connection = {db['keystone']}
{pool('keystone')}[token]
provider = fernet
expiration = 7200
[fernet_tokens]
key_repository = {DATA}/keystone-fernet
[fernet_receipts]
key_repository = {DATA}/keystone-fernet
[credential]
key_repository = {DATA}/keystone-credential
[cache]
enabled = true
backend = dogpile.cache.memory
[identity]
password_hash_rounds = 4
""")
    write(os.path.join(ETC, 'placement', 'placement.conf'), f"""
[placement_database]
connection = {db['placement']}
{pool('placement')}[api]
auth_strategy = noauth2
""")
    for d in ('glance', 'nova'):
        os.makedirs(os.path.join(ETC, d), exist_ok=True)
    shutil.copy(os.path.join(CLOUD_VENV, 'etc', 'glance',
                             'glance-api-paste.ini'),
                os.path.join(ETC, 'glance'))
    write(os.path.join(ETC, 'glance', 'glance-api.conf'), f"""
[DEFAULT]
enabled_backends = fs:file
[database]
connection = {db['glance']}
{pool('glance')}[paste_deploy]
flavor =
config_file = {ETC}/glance/glance-api-paste.ini
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = {DATA}/glance/images
[os_glance_staging_store]
filesystem_store_datadir = {DATA}/glance/staging
[os_glance_tasks_store]
filesystem_store_datadir = {DATA}/glance/tasks
[oslo_policy]
enforce_new_defaults = False
enforce_scope = False
""")
    shutil.copy(os.path.join(CLOUD_VENV, 'etc', 'nova', 'api-paste.ini'),
                os.path.join(ETC, 'nova'))
    write(os.path.join(ETC, 'nova', 'nova.conf'), f"""
[DEFAULT]
host = localcloud-compute{SUFFIX}
state_path = {DATA}/nova
instances_path = {DATA}/nova/instances
compute_driver = fake.FakeDriverWithoutFakeNodes
transport_url = {RABBIT}
my_ip = 127.0.0.1
# A loaded 2-core machine: a late service report must not make the
# scheduler think the compute host is down (NoValidHost), and a slow
# conductor must not time out an RPC call (defaults 60 s and 60 s).
report_interval = 10
service_down_time = 120
rpc_response_timeout = 120
[api_database]
connection = {db['nova_api']}
{pool('nova_api')}[database]
connection = {db['nova']}
{pool('nova')}[notifications]
notification_format = both
notify_on_state_change = vm_and_task_state
[oslo_messaging_notifications]
driver = messagingv2
[oslo_concurrency]
lock_path = {DATA}/nova/locks
[placement]
auth_type = admin_token
endpoint = {PLACEMENT_URL}
token = admin
region_name = {REGION}
[glance]
api_servers = {GLANCE_URL}
[neutron]
auth_type = admin_token
endpoint = http://{HOST}:{PORTS['neutron-stub']}
endpoint_override = http://{HOST}:{PORTS['neutron-stub']}
token = admin
[scheduler]
discover_hosts_in_cells_interval = -1
workers = 1
[filter_scheduler]
enabled_filters = ComputeFilter
[conductor]
workers = 1
[oslo_policy]
enforce_scope = False
enforce_new_defaults = False
[vnc]
enabled = False
""" + authtoken.format(ks=KEYSTONE_URL, user='nova', pw=nova_pw,
                       region=REGION))
    write(os.path.join(ETC, 'osvmexpire', 'osvmexpire.conf'), f"""
# The local cloud's os-vm-expire. A demo configuration: warnings are due
# at the expiry itself (notify_before_days = 0) and the cleaner runs every
# 2 seconds, so an expiry set near now by the demo (or a test) plays out
# in seconds. Production keeps the defaults (10 and 2 days, 300 s).
[DEFAULT]
transport_url = {RABBIT}
[oslo_messaging_notifications]
transport_url = {RABBIT}
[database]
connection = {db['osvmexpire']}
[api]
auth_strategy = keystone
[cleaner]
interval = 2
notify_before_days = 0
notify_before_days_last = 0
sync_interval = 30
[smtp]
email_smtp_host = {HOST}
email_smtp_port = {PORTS['smtp']}
email_smtp_from = os-vm-expire@cloud.example.org
email_operator_to = operator@example.org
email_smtp_timeout = 10
[service_credentials]
auth_type = password
auth_url = {KEYSTONE_URL}
username = osvmexpire
password = {svc_pw}
project_name = service
user_domain_name = Default
project_domain_name = Default
region_name = {REGION}
interface = public
timeout = 30
""" + authtoken.format(ks=KEYSTONE_URL, user='osvmexpire', pw=svc_pw,
                       region=REGION))
    os.makedirs(LIB, exist_ok=True)
    for module, app in (('ks_wsgi', 'keystone.wsgi.api'),
                        ('nova_api_wsgi', 'nova.wsgi.osapi_compute'),
                        ('osvmexpire_wsgi', 'osvmexpire.api.wsgi')):
        # oslo.config in these apps parses sys.argv: hide gunicorn's.
        write(os.path.join(LIB, module + '.py'),
              'import sys\nsys.argv = sys.argv[:1]\n'
              'from %s import application  # noqa\n' % app)


def cloud_bin(name: str) -> str:
    return os.path.join(CLOUD_VENV, 'bin', name)


def project_bin(name: str) -> str:
    return os.path.join(PROJECT_VENV, 'bin', name)


def gunicorn(venv_bin, name: str, app: str, env: dict) -> None:
    spawn(name, [venv_bin('gunicorn'), '--no-control-socket', '-b',
                 '%s:%d' % (HOST, PORTS[name]), '-w', '1', '--threads', '4',
                 '--timeout', '120', '--graceful-timeout', '5',
                 '--chdir', LIB, app], env=dict(env, PYTHONPATH=LIB))


def setup_keystone() -> None:
    conf = ['--config-file', os.path.join(ETC, 'keystone', 'keystone.conf')]
    km = [cloud_bin('keystone-manage')] + conf
    owner = ['--keystone-user', 'root', '--keystone-group', 'root']
    # Key repositories do not need the schema: three imports in parallel.
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        for job in [pool.submit(run, km + cmd, log='setup.log') for cmd in
                    (['db_sync'], ['fernet_setup'] + owner,
                     ['credential_setup'] + owner)]:
            job.result()
    run(km + ['bootstrap', '--bootstrap-password', ADMIN[1],
              '--bootstrap-username', ADMIN[0],
              '--bootstrap-project-name', ADMIN[2],
              '--bootstrap-admin-url', KEYSTONE_URL,
              '--bootstrap-internal-url', KEYSTONE_URL,
              '--bootstrap-public-url', KEYSTONE_URL,
              '--bootstrap-region-id', REGION], log='setup.log')
    wal('keystone')
    gunicorn(cloud_bin, 'keystone', 'ks_wsgi:application',
             {'OS_KEYSTONE_CONFIG_DIR': os.path.join(ETC, 'keystone')})


def setup_placement() -> None:
    conf = os.path.join(ETC, 'placement', 'placement.conf')
    run([cloud_bin('placement-manage'), '--config-file', conf, 'db',
         'sync'], log='setup.log')
    wal('placement')
    spawn('placement', [cloud_bin('gunicorn'), '--no-control-socket', '-b',
                        '%s:%d' % (HOST, PORTS['placement']), '-w', '1',
                        '--threads', '4', '--timeout', '120',
                        'placement.wsgi.api:application'],
          env={'OS_PLACEMENT_CONFIG_DIR': os.path.dirname(conf)})


def setup_glance() -> None:
    conf = os.path.join(ETC, 'glance', 'glance-api.conf')
    for d in ('images', 'staging', 'tasks'):
        os.makedirs(os.path.join(DATA, 'glance', d), exist_ok=True)
    run([cloud_bin('glance-manage'), '--config-file', conf, 'db', 'sync'],
        log='setup.log')
    wal('glance')
    spawn('glance', [cloud_bin('gunicorn'), '--no-control-socket', '-b',
                     '%s:%d' % (HOST, PORTS['glance']), '-w', '1',
                     '--threads', '4', '--timeout', '120',
                     'glance.wsgi.api:application'],
          env={'OS_GLANCE_CONFIG_DIR': os.path.dirname(conf)})


NOVA_ENV = {'OS_NOVA_CONFIG_DIR': os.path.join(ETC, 'nova')}


def nova_manage(*args: str, conf: str | None = None) -> str:
    confs = ['--config-file', os.path.join(ETC, 'nova', 'nova.conf')]
    if conf:
        confs += ['--config-file', conf]
    return run([cloud_bin('nova-manage')] + confs + list(args),
               log='setup.log', env=NOVA_ENV)


def setup_nova_db() -> None:
    """The API database and both cells' schemas, migrated side by side.

    ``db sync --local_cell`` migrates only ``[database]``; a second config
    file points it at cell0. The three long migrations then overlap
    instead of running one after the other (on MariaDB they mostly wait
    for the disk); the cell mappings come after.
    """
    for d in ('locks', 'instances'):
        os.makedirs(os.path.join(DATA, 'nova', d), exist_ok=True)
    cell0 = os.path.join(ETC, 'nova', 'cell0-sync.conf')
    write(cell0, '[database]\nconnection = %s\n' % DB_URLS['nova_cell0'])
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        for job in [pool.submit(nova_manage, 'api_db', 'sync'),
                    pool.submit(nova_manage, 'db', 'sync', '--local_cell'),
                    pool.submit(nova_manage, 'db', 'sync', '--local_cell',
                                conf=cell0)]:
            job.result()
    nova_manage('cell_v2', 'map_cell0', '--database_connection',
                DB_URLS['nova_cell0'])
    nova_manage('cell_v2', 'create_cell', '--name', 'cell1')
    wal('nova_api', 'nova', 'nova_cell0')


def start_nova() -> None:
    gunicorn(cloud_bin, 'nova-api', 'nova_api_wsgi:application', NOVA_ENV)
    conf = os.path.join(ETC, 'nova', 'nova.conf')
    for svc in ('conductor', 'scheduler', 'compute'):
        spawn('nova-' + svc, [cloud_bin('nova-' + svc), '--config-file',
                              conf], env=NOVA_ENV)


def osvmexpire_env() -> dict:
    return {'OSVMEXPIRE_CONFIG': os.path.join(ETC, 'osvmexpire',
                                              'osvmexpire.conf')}


def setup_osvmexpire_db() -> None:
    run([project_bin('osvmexpire-db-manage'), 'upgrade'],
        env=osvmexpire_env(), log='setup.log')


def start_osvmexpire() -> None:
    env = osvmexpire_env()
    gunicorn(project_bin, 'osvmexpire-api', 'osvmexpire_wsgi:application',
             env)
    for proc in ('worker', 'cleaner'):
        spawn('osvmexpire-' + proc, [project_bin('osvmexpire-' + proc)],
              env=env)


class Keystone:
    """The few identity calls the bootstrap needs, as the admin."""

    def __init__(self) -> None:
        self.token, self.admin_project = keystone_token(*ADMIN)

    def call(self, method: str, path: str, body=None, ok=(200, 201, 204)):
        status, _h, data = http(method, KEYSTONE_URL + path, body,
                                token=self.token)
        if status not in ok:
            raise CloudError('Keystone %s %s: %s %s'
                             % (method, path, status, data))
        return data

    def find(self, kind: str, name: str) -> str:
        items = self.call('GET', '/%s?name=%s' % (kind, name))[kind]
        return items[0]['id']

    def project(self, name: str) -> str:
        return self.call('POST', '/projects', {'project': {
            'name': name, 'domain_id': 'default'}})['project']['id']

    def user(self, name: str, password: str, project_id: str,
             email: str) -> str:
        return self.call('POST', '/users', {'user': {
            'name': name, 'password': password, 'domain_id': 'default',
            'default_project_id': project_id, 'email': email,
            'enabled': True}})['user']['id']

    def grant(self, project_id: str, user_id: str, role: str) -> None:
        self.call('PUT', '/projects/%s/users/%s/roles/%s'
                  % (project_id, user_id, self.find('roles', role)))

    def service(self, name: str, stype: str, url: str) -> None:
        sid = self.call('POST', '/services', {'service': {
            'name': name, 'type': stype, 'enabled': True}})['service']['id']
        for iface in ('public', 'internal', 'admin'):
            self.call('POST', '/endpoints', {'endpoint': {
                'service_id': sid, 'interface': iface, 'url': url,
                'region_id': REGION, 'enabled': True}})


def bootstrap_identity() -> dict:
    """Projects, users with e-mail, service users and the catalog."""
    ks = Keystone()
    ids = {'admin_project': ks.admin_project}
    admin_id = ks.find('users', ADMIN[0])
    ks.call('PATCH', '/users/' + admin_id,
            {'user': {'email': 'admin@example.org'}})
    service = ks.project('service')
    for name, pw in SERVICE_USERS:
        uid = ks.user(name, pw, service, name + '@cloud.example.org')
        for role in ('admin', 'service'):
            ks.grant(service, uid, role)
    projects = {}
    for name, pw, project, role, email in USERS:
        if project not in projects:
            projects[project] = ks.project(project)
        uid = ks.user(name, pw, projects[project], email)
        ks.grant(projects[project], uid, role)
        ids[name] = uid
    ids.update(projects)
    ks.service('nova', 'compute', NOVA_URL)
    ks.service('glance', 'image', GLANCE_URL)
    ks.service('placement', 'placement', PLACEMENT_URL)
    ks.service('neutron', 'network',
               'http://%s:%d' % (HOST, PORTS['neutron-stub']))
    ks.service('osvmexpire', 'vmexpire',
               OSVMEXPIRE_URL + '/v1/%(project_id)s')
    return ids


def upload_image() -> str:
    """A 1 MiB raw image (the fake driver never reads it)."""
    status, _h, img = http('POST', GLANCE_URL + '/v2/images', {
        'name': 'tiny', 'disk_format': 'raw', 'container_format': 'bare'})
    if status != 201:
        raise CloudError('Glance refused the image: %s %s' % (status, img))
    status, _h, data = http('PUT', '%s/v2/images/%s/file'
                            % (GLANCE_URL, img['id']), b'\0' * 1048576)
    if status != 204:
        raise CloudError('Glance image upload: %s %s' % (status, data))
    return img['id']


def nova_ready(deadline: float) -> None:
    """Compute registered in Placement, host mapped, a flavor exists."""
    wait_http('nova-api', NOVA_URL + '/', deadline)
    while time.monotonic() < deadline:
        status, _h, data = http('GET', PLACEMENT_URL + '/resource_providers',
                                headers={'X-Auth-Token': 'admin'})
        if status == 200 and data['resource_providers']:
            break
        if our_pid('nova-compute') is None:
            raise CloudError('nova-compute exited; log:\n    %s'
                             % log_tail('nova-compute'))
        time.sleep(0.5)
    else:
        raise CloudError('nova-compute did not register in time; log:\n'
                         '    %s' % log_tail('nova-compute'))
    nova_manage('cell_v2', 'discover_hosts')
    token, _p = keystone_token(*ADMIN)
    status, _h, data = http('POST', NOVA_URL + '/flavors', {'flavor': {
        'name': 'm1.tiny', 'id': '1', 'ram': 512, 'vcpus': 1, 'disk': 1}},
        token=token)
    if status != 200:
        raise CloudError('Nova refused the flavor: %s %s' % (status, data))


def check_osvmexpire(deadline: float) -> None:
    """The API validates a real token; worker and cleaner keep running."""
    wait_http('osvmexpire-api', OSVMEXPIRE_URL + '/', deadline)
    token, pid = keystone_token(*USERS[0][:3])
    status, _h, data = http('GET', '%s/v1/%s/vmexpires/'
                            % (OSVMEXPIRE_URL, pid), token=token)
    if status != 200:
        raise CloudError('os-vm-expire API refused alice\'s token: %s %s'
                         '\n    %s' % (status, data,
                                       log_tail('osvmexpire-api')))
    for name in ('osvmexpire-worker', 'osvmexpire-cleaner'):
        if our_pid(name) is None:
            raise CloudError('%s exited; log:\n    %s'
                             % (name, log_tail(name)))


def write_env(ids: dict, image_id: str, db_url: str) -> dict:
    env = {
        'OS_AUTH_URL': KEYSTONE_URL, 'OS_REGION_NAME': REGION,
        'CLOUD_STATE_DIR': CLOUD, 'CLOUD_MAIL_DIR': MAIL,
        'CLOUD_LOG_DIR': LOG, 'CLOUD_ROOT': ROOT,
        'CLOUD_VENV': CLOUD_VENV, 'OSVMEXPIRE_VENV': PROJECT_VENV,
        'OSVMEXPIRE_API_URL': OSVMEXPIRE_URL,
        'OSVMEXPIRE_CONFIG': osvmexpire_env()['OSVMEXPIRE_CONFIG'],
        'OSVMEXPIRE_DB_URL': db_url,
        'CLOUD_ADMIN_USER': ADMIN[0], 'CLOUD_ADMIN_PASSWORD': ADMIN[1],
        'CLOUD_ADMIN_PROJECT': ADMIN[2],
        'CLOUD_ADMIN_PROJECT_ID': ids['admin_project'],
        'NOVA_URL': NOVA_URL, 'GLANCE_URL': GLANCE_URL,
        'PLACEMENT_URL': PLACEMENT_URL, 'CLOUD_IMAGE_ID': image_id,
        'CLOUD_FLAVOR': 'm1.tiny', 'CLOUD_SMTP_PORT': str(PORTS['smtp']),
        'CLOUD_RABBIT_URL': RABBIT, 'CLOUD_REGION': REGION,
        'LOCALCLOUD_PORT_OFFSET': str(OFFSET),
        'CLOUD_SERVICE_USER': 'osvmexpire',
        'CLOUD_SERVICE_PASSWORD': dict(SERVICE_USERS)['osvmexpire'],
        'CLOUD_SERVICE_PROJECT': 'service',
    }
    for i, (name, pw, project, _role, email) in enumerate(USERS[:2], 1):
        env.update({'CLOUD_USER%d' % i: name, 'CLOUD_PASSWORD%d' % i: pw,
                    'CLOUD_PROJECT%d' % i: project,
                    'CLOUD_PROJECT%d_ID' % i: ids[project],
                    'CLOUD_USER%d_ID' % i: ids[name],
                    'CLOUD_USER%d_EMAIL' % i: email})
    name, pw, project, _role, email = USERS[2]
    env.update({'CLOUD_READER': name, 'CLOUD_READER_PASSWORD': pw,
                'CLOUD_READER_PROJECT': project,
                'CLOUD_READER_EMAIL': email})
    with open(ENV_FILE + '.tmp', 'w') as f:
        f.write('# Written by tools/localcloud.py up; source it.\n')
        for key, value in env.items():
            f.write('export %s=%s\n' % (key, shlex.quote(value)))
    os.rename(ENV_FILE + '.tmp', ENV_FILE)
    for name, pw, project in [ADMIN] + [u[:3] for u in USERS]:
        write(os.path.join(CLOUD, 'openrc-' + name), f"""
export OS_AUTH_URL={KEYSTONE_URL}
export OS_IDENTITY_API_VERSION=3
export OS_USERNAME={name}
export OS_PASSWORD={pw}
export OS_PROJECT_NAME={project}
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME={REGION}
export OS_COMPUTE_API_VERSION=2.96
""")
    return env


def memory_report() -> tuple[int, list[str]]:
    total, lines = 0, []
    for name in reversed(SERVICES):
        pid = our_pid(name)
        if pid is None:
            lines.append('  %-20s not running' % name)
            continue
        kb = rss_kb(pid)
        total += kb
        lines.append('  %-20s pid %-7d %6.0f MB' % (name, pid, kb / 1024))
    return total, lines


# -- commands ------------------------------------------------------------

def running() -> list[str]:
    return [n for n in SERVICES if our_pid(n) is not None]


def check_ports() -> None:
    busy = [('%s (%d)' % (n, p)) for n, p in PORTS.items()
            if not port_free(p)]
    if busy:
        raise CloudError('ports already in use on 127.0.0.1: %s. Another '
                         'local cloud (maybe of another checkout) or service '
                         'runs there; stop it first.' % ', '.join(busy))


def cmd_up(args) -> int:
    if running():
        if os.path.exists(ENV_FILE):
            say('the local cloud is already up (%s); "stop" first to start '
                'afresh' % ', '.join(running()))
            print_summary()
            return 0
        raise CloudError('processes of an earlier start still run: %s; '
                         'run "stop" first' % ', '.join(running()))
    check_ports()
    ensure_venvs()
    # Checked again: the venvs take minutes, and the vhost and database
    # below are shared by every checkout on this machine. Free ports (under
    # the machine-wide lock) mean no other local cloud runs.
    check_ports()
    t_start = time.monotonic()
    say('RabbitMQ vhost %s' % VHOST)
    ensure_broker()
    if os.path.exists(CLOUD):
        shutil.rmtree(CLOUD)
    for d in (ETC, LOG, RUN, DATA, LIB, MAIL):
        os.makedirs(d)
    # What "stop" may remove besides our processes: only what we created.
    with open(OWNED, 'w') as f:
        json.dump({'vhost': VHOST, 'databases': []}, f)
    urls, created = create_databases()
    DB_URLS.update(urls)
    with open(OWNED, 'w') as f:
        json.dump({'vhost': VHOST, 'databases': created}, f)
    db_url = DB_URLS['osvmexpire']
    write_configs()
    spawn('neutron-stub', [cloud_bin('python'),
                           os.path.join(HELPERS, 'neutron_stub.py'),
                           str(PORTS['neutron-stub'])])
    spawn('smtp', [cloud_bin('python'),
                   os.path.join(HELPERS, 'smtp_catcher.py'),
                   str(PORTS['smtp']), MAIL])
    deadline = time.monotonic() + args.timeout
    say('databases: Keystone, Placement, Glance, Nova, os-vm-expire')
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        steps = [setup_nova_db, setup_keystone, setup_placement,
                 setup_glance]
        if not args.without_osvmexpire:
            steps.append(setup_osvmexpire_db)
        jobs = {pool.submit(f): f.__name__ for f in steps}
        for job in concurrent.futures.as_completed(jobs):
            job.result()
            say('%s done' % jobs[job])
    start_nova()
    wait_http('keystone', KEYSTONE_URL, deadline)
    say('Keystone answers; creating projects, users and the catalog')
    ids = bootstrap_identity()
    wait_http('glance', GLANCE_URL + '/versions', deadline)
    image_id = upload_image()
    say('Glance has image %s' % image_id)
    if not args.without_osvmexpire:
        start_osvmexpire()
    wait_http('placement', PLACEMENT_URL + '/', deadline)
    nova_ready(deadline)
    say('Nova answers, compute host registered, flavor m1.tiny')
    for name in ('neutron-stub', 'smtp'):
        if our_pid(name) is None:
            raise CloudError('%s exited; log:\n    %s'
                             % (name, log_tail(name)))
    if not args.without_osvmexpire:
        check_osvmexpire(deadline)
    write_env(ids, image_id, db_url)
    elapsed = time.monotonic() - t_start
    with open(os.path.join(RUN, 'startup-seconds'), 'w') as f:
        f.write('%.1f\n' % elapsed)
    say('the local cloud is up in %.1f s' % elapsed)
    print_summary()
    return 0


def print_summary() -> None:
    total, lines = memory_report()
    try:
        with open(os.path.join(RUN, 'startup-seconds')) as f:
            startup = f.read().strip() + ' s'
    except OSError:
        startup = 'unknown'
    svc_pw = dict(SERVICE_USERS)['osvmexpire']
    users = '\n'.join('  %-6s / %-13s project %-9s role %-6s %s'
                      % u for u in USERS)
    print(f"""
Local cloud on 127.0.0.1 (state in {CLOUD})
  Keystone        {KEYSTONE_URL}
  Nova            {NOVA_URL}
  Glance          {GLANCE_URL}
  Placement       {PLACEMENT_URL} (noauth2)
  Neutron stub    http://{HOST}:{PORTS['neutron-stub']}
  os-vm-expire    {OSVMEXPIRE_URL}/v1/<project_id>  (catalog type vmexpire)
  SMTP catcher    {HOST}:{PORTS['smtp']}, mails in {MAIL}
  RabbitMQ        {RABBIT}
Credentials (domain Default)
  admin  / {ADMIN[1]:<13} project admin     role admin
{users}
  service user osvmexpire / {svc_pw} (project service)
  openrc: source {CLOUD}/openrc-alice   (also -admin, -bob, -carol)
  all settings: source {ENV_FILE}
  os-vm-expire config: {osvmexpire_env()['OSVMEXPIRE_CONFIG']}
  logs: {LOG}
Startup time {startup}; memory (RSS incl. children) {total / 1024:.0f} MB:""")
    print('\n'.join(lines), flush=True)


def cmd_stop(args) -> int:
    names = running()
    if names:
        say('stopping %s' % ', '.join(names))
    stop_services(SERVICES)
    left = running()
    if left:
        raise CloudError('still running after SIGKILL: %s' % ', '.join(left))
    if names:
        busy = wait_ports_free([PORTS[n] for n in names if n in PORTS])
        if busy:
            raise CloudError('ports still in use after stop: %s'
                             % ', '.join(map(str, busy)))
    try:
        with open(OWNED) as f:
            owned = json.load(f)
    except (OSError, ValueError):
        owned = {}
    if not owned and os.path.exists(ENV_FILE):
        # a cloud started before the marker existed
        owned = {'vhost': VHOST, 'database': MYSQL_DB}
    if owned.get('vhost'):
        drop_broker_vhost()
    # 'database' (one name) is the marker of an older checkout's "up"
    dbs = list(owned.get('databases') or [])
    if owned.get('database'):
        dbs.append(owned['database'])
    if dbs and not port_free(3306):
        try:
            mysql('; '.join('DROP DATABASE IF EXISTS %s' % d for d in dbs))
            say('dropped MariaDB databases %s' % ', '.join(dbs))
        except CloudError as exc:
            say('could not drop databases %s: %s' % (', '.join(dbs), exc))
    for path in (OWNED, ENV_FILE):
        if os.path.exists(path):
            os.unlink(path)
    say('stopped; logs stay in %s' % LOG)
    return 0


def cmd_status(args) -> int:
    up = running()
    if not up:
        print('the local cloud is not running')
        return 1
    print_summary()
    return 0 if len(up) == len(SERVICES) else 1


def cmd_env(args) -> int:
    if not os.path.exists(ENV_FILE):
        raise CloudError('the local cloud is not up: run '
                         '"python3 tools/localcloud.py up"')
    with open(ENV_FILE) as f:
        sys.stdout.write(f.read())
    return 0


def cmd_service(args) -> int:
    if args.name not in SERVICES:
        raise CloudError('unknown service %s; one of %s'
                         % (args.name, ', '.join(SERVICES)))
    if args.action == 'stop':
        stop_services([args.name])
    elif our_pid(args.name) is None:
        say('started %s (pid %d)' % (args.name, respawn(args.name)))
    else:
        say('%s already runs' % args.name)
    return 0


def cmd_demo(args) -> int:
    if not os.path.exists(ENV_FILE) or len(running()) != len(SERVICES):
        rc = cmd_up(args)
        if rc:
            return rc
    env = {}
    with open(ENV_FILE) as f:
        for line in f:
            if line.startswith('export '):
                key, _eq, value = line[7:].strip().partition('=')
                env[key] = shlex.split(value)[0] if value else ''
    say('demo: %s' % os.path.join(HELPERS, 'demo.py'))
    return subprocess.call([project_bin('python'),
                            os.path.join(HELPERS, 'demo.py')],
                           env=dict(os.environ, **env), timeout=600)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog='localcloud.py', description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    for name, func in (('up', cmd_up), ('demo', cmd_demo),
                       ('stop', cmd_stop), ('status', cmd_status),
                       ('env', cmd_env)):
        p = sub.add_parser(name)
        p.set_defaults(func=func)
        if name in ('up', 'demo'):
            p.add_argument('--timeout', type=float, default=240,
                           help='seconds the start may take (default 240)')
            p.add_argument('--without-osvmexpire', action='store_true',
                           help='start only the cloud (for developing '
                                'os-vm-expire by hand)')
    p = sub.add_parser('service', help='stop or start one process')
    p.add_argument('action', choices=('stop', 'start'))
    p.add_argument('name')
    p.set_defaults(func=cmd_service)
    args = parser.parse_args(argv)
    os.makedirs(STATE, exist_ok=True)
    try:
        if args.command in ('up', 'demo', 'stop'):
            with machine_lock():
                return args.func(args)
        return args.func(args)
    except CloudError as exc:
        print('localcloud.py: error: %s' % exc, file=sys.stderr)
        if args.command in ('up', 'demo') and running():
            print('localcloud.py: what started keeps running for '
                  'inspection (logs in %s); "python3 tools/localcloud.py'
                  ' stop" ends it' % LOG, file=sys.stderr)
        return 1


@contextlib.contextmanager
def machine_lock(timeout: float = 900):
    """One up/demo/stop at a time on the machine (shared names and ports).

    Waits for another checkout's command rather than failing at once: CI
    runs of two checkouts then queue up instead of corrupting each other.
    """
    with open(MACHINE_LOCK, 'a') as lock:
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise CloudError('another localcloud command held %s '
                                     'for %d s' % (MACHINE_LOCK, timeout))
                if not told:
                    say('waiting for another localcloud command (lock %s)'
                        % MACHINE_LOCK)
                    told = True
                time.sleep(1)
        yield


if __name__ == '__main__':
    sys.exit(main())
