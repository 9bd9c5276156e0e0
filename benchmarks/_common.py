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
"""What every benchmark shares: output, ports, databases, stand-ins.

The machine these run on is small and shared, so no figure is printed
alone: each comes with a baseline measured in the same run, and the ratio
is what a reader should compare with the targets.
"""

import contextlib
import datetime
import io
import json
import re
import socket
import threading
import time
import tracemalloc
import types
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import sqlalchemy as sa

from osvmexpire import expiration
from osvmexpire.db import models

PORT_RANGE = range(18400, 18500)
HOST = '127.0.0.1'
# Exit status when a target was not met (1 is an error, 2 a bad option).
UNMET = 3
RABBIT_URL = 'rabbit://guest:guest@127.0.0.1:5672/'
DAY = datetime.timedelta(days=1)


# -- output ------------------------------------------------------------------

def header(title: str) -> None:
    print('\n== %s' % title, flush=True)


def figure(label: str, value: float, baseline: float, unit: str,
           higher_is_better: bool = True, fmt: str = '%.1f') -> float:
    """Print ``value`` beside ``baseline``; return value/baseline."""
    ratio = value / baseline if baseline else float('inf')
    print(('  %-38s ' + fmt + ' %s   baseline ' + fmt + ' %s   ratio %.0f %%')
          % (label, value, unit, baseline, unit, ratio * 100), flush=True)
    return ratio


def line(label: str, text: str) -> None:
    print('  %-38s %s' % (label, text), flush=True)


def target(text: str, met: bool) -> bool:
    print('  TARGET %-60s %s' % (text, 'MET' if met else 'NOT MET'),
          flush=True)
    return met


def mib(nbytes: float) -> str:
    return '%.1f MiB' % (nbytes / 1048576.0)


@contextlib.contextmanager
def stopwatch() -> Iterator[list]:
    """``with stopwatch() as t: ...`` then ``t[0]`` is the elapsed time."""
    box = [0.0]
    start = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - start


def peak_python_memory(fn: Callable[[], object]) -> tuple[object, int]:
    """Run ``fn`` under tracemalloc; its result and the peak it allocated.

    Slower than the plain call, so timings are taken in a separate run.
    """
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        base = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return result, peak


def wait_for(predicate: Callable[[], bool], timeout: float,
             interval: float = 0.05, what: str = 'condition') -> float:
    """Poll until ``predicate()``; the time it took. Raises on timeout."""
    start = time.perf_counter()
    deadline = start + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError('%s not reached within %.0f s'
                               % (what, timeout))
        time.sleep(interval)
    return time.perf_counter() - start


# -- ports -------------------------------------------------------------------

_taken: set[int] = set()
_port_lock = threading.Lock()


def free_port() -> int:
    """A port of 18400-18499 on 127.0.0.1 nobody listens on right now."""
    with _port_lock:
        for port in PORT_RANGE:
            if port in _taken:
                continue
            with socket.socket() as sock:
                try:
                    sock.bind((HOST, port))
                except OSError:
                    continue
            _taken.add(port)
            return port
    raise RuntimeError('no free port in 18400-18499')


# -- databases ---------------------------------------------------------------

BACKENDS = ('sqlite', 'mysql', 'postgresql')


@contextlib.contextmanager
def database(backend: str):
    """A fresh, uniquely named database (dropped afterwards) with the
    schema, patched into :mod:`osvmexpire.db.api`."""
    from tests import fixtures
    db = fixtures.Database(backend, schema='models')
    try:
        yield db
    finally:
        db.cleanup()


def _record(**kw) -> types.SimpleNamespace:
    return types.SimpleNamespace(notified_at=None, notified_last_at=None,
                                 **kw)


DUE_KINDS = ('first_warning', 'last_warning', 'delete')


def vm_row(now: datetime.datetime, settings: expiration.Settings,
           kind: str | None, project_id: str, index: int,
           user_id: str | None = None) -> dict:
    """One ``vmexpire`` row; ``kind`` None = not due for weeks, else the
    action (of DUE_KINDS) due at ``now``."""
    if kind is None:
        created = now - 10 * DAY
        rec = _record(created_at=created,
                      expire_at=now + (30 + index % 30) * DAY)
    elif kind == 'first_warning':
        created = now - 55 * DAY
        rec = _record(created_at=created, expire_at=now + 5 * DAY)
    elif kind == 'last_warning':
        created = now - 59 * DAY
        rec = _record(created_at=created, expire_at=now + DAY)
        rec.notified_at = now - 9 * DAY
    elif kind == 'delete':
        created = now - 61 * DAY
        rec = _record(created_at=created, expire_at=now - DAY)
        rec.notified_at = now - 12 * DAY
        rec.notified_last_at = now - 3 * DAY
    else:
        raise ValueError(kind)
    step = expiration.next_step(rec, settings)
    if kind is not None:
        assert step.action == kind and step.is_due(now), (kind, step)
        if kind == 'delete':
            assert expiration.may_delete(rec, now, settings)
    return {
        'id': str(uuid.uuid4()), 'instance_id': str(uuid.uuid4()),
        'instance_name': 'bench-vm-%d' % index, 'project_id': project_id,
        'user_id': user_id or 'user-%05d' % (index % 50000),
        'domain_id': 'default',
        'created_at': rec.created_at, 'updated_at': None,
        'expire_at': rec.expire_at, 'notified_at': rec.notified_at,
        'notified_last_at': rec.notified_last_at, 'extensions': 0,
        'next_action_at': step.at, 'version': 1, 'deleting_at': None,
        'claimed_by': None, 'claimed_until': None, 'failures': 0,
        'last_error': None, 'extend_notice_pending': False}


def bulk_load(engine: sa.Engine, count: int, now: datetime.datetime,
              settings: expiration.Settings, due: int = 0,
              due_kinds: tuple[str, ...] = DUE_KINDS,
              project_of: Callable[[int], str] = (
                  lambda i: 'project-%04d' % (i % 1000)),
              user_of: Callable[[int], str] | None = None,
              start: int = 0, chunk: int = 5000) -> list[dict]:
    """Insert ``count`` rows, the first ``due`` of them due at ``now``
    (cycling through ``due_kinds``); the due rows are returned.

    Plain multi-row INSERTs in chunks, so memory stays flat at 1 M rows.
    """
    table = models.VmExpire.__table__
    due_rows = []
    for base in range(0, count, chunk):
        rows = []
        for i in range(base, min(base + chunk, count)):
            kind = due_kinds[i % len(due_kinds)] if i < due else None
            row = vm_row(now, settings, kind, project_of(start + i),
                         start + i,
                         user_of(start + i) if user_of else None)
            rows.append(row)
            if kind is not None:
                due_rows.append(row)
        _insert(engine, table, rows)
    return due_rows


def _sql_value(value, dialect: str):
    if isinstance(value, datetime.datetime):
        return value.strftime('%Y-%m-%d %H:%M:%S.%f' if dialect == 'sqlite'
                              else '%Y-%m-%d %H:%M:%S')
    if isinstance(value, bool):
        return int(value) if dialect != 'postgresql' else value
    return value


def _insert(engine: sa.Engine, table: sa.Table, rows: list[dict]) -> None:
    """The fastest plain way per backend: COPY on PostgreSQL, the
    driver's multi-row executemany elsewhere (SQLAlchemy's per-row
    processing would triple the load time at 1 M rows)."""
    dialect = engine.dialect.name
    names = [c.name for c in table.columns]
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if dialect == 'postgresql':
            buf = io.StringIO()
            for row in rows:
                buf.write('\t'.join(
                    '\\N' if row[n] is None
                    else str(_sql_value(row[n], dialect)) for n in names))
                buf.write('\n')
            buf.seek(0)
            cur.copy_from(buf, table.name, columns=names)
        else:
            mark = '?' if dialect == 'sqlite' else '%s'
            if dialect == 'sqlite':
                # oslo.db puts pysqlite in autocommit mode: one explicit
                # transaction per chunk, not one per row.
                cur.execute('PRAGMA cache_size = -262144')
                cur.execute('BEGIN')
            cur.executemany(
                'INSERT INTO %s (%s) VALUES (%s)' % (
                    table.name, ', '.join(names),
                    ', '.join([mark] * len(names))),
                [tuple(_sql_value(row[n], dialect) for n in names)
                 for row in rows])
        cur.close()
        raw.commit()
    finally:
        raw.close()


def analyze(engine: sa.Engine) -> None:
    """Fresh planner statistics and, on PostgreSQL, the visibility map,
    as a long-running database has them (autovacuum runs after bulk
    inserts too): index-only scans are possible, as in production."""
    if engine.dialect.name == 'postgresql':
        # VACUUM cannot run in a transaction block.
        with engine.connect().execution_options(
                isolation_level='AUTOCOMMIT') as conn:
            conn.exec_driver_sql('VACUUM ANALYZE vmexpire')
        return
    with engine.begin() as conn:
        if engine.dialect.name == 'mysql':
            conn.exec_driver_sql('ANALYZE TABLE vmexpire')
        else:
            conn.exec_driver_sql('ANALYZE')


# -- SMTP sink ---------------------------------------------------------------

class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 that accepts and counts mails."""

    def __init__(self):
        from aiosmtpd.controller import Controller
        self.count = 0
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(self, hostname=HOST, port=self.port)

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.count += 1
        return '250 OK'

    def __enter__(self):
        self._controller.start()
        return self

    def __exit__(self, *exc):
        self._controller.stop()


# -- Keystone + Nova stand-in ------------------------------------------------

_SERVER_RE = re.compile(r'^/compute/v2\.1/servers/([^/?]+)$')
_USER_RE = re.compile(r'^/identity/v3/users/([^/?]+)$')
_PROJECT_RE = re.compile(r'^/identity/v3/projects/([^/?]+)$')


class OpenStackStandIn:
    """Answers what the cleaner asks Keystone and Nova, nothing more.

    Keystone: version document, password token (with a catalog pointing
    back here), users (with an e-mail) and projects. Nova: GET and DELETE
    ``/servers/{id}`` after ``delay`` seconds, for the servers registered
    with :meth:`add`; a deleted or unknown one is 404. Threaded HTTP/1.1
    with keep-alive, like a real API behind a proxy.
    """

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.port = free_port()
        self.base = 'http://%s:%d' % (HOST, self.port)
        self.servers: dict[str, dict] = {}
        self.calls: dict[str, int] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'
            # Headers and body are separate writes: without this, delayed
            # ACKs add 40 ms to every keep-alive request.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                stand_in._handle(self, 'GET')

            def do_POST(self):
                stand_in._handle(self, 'POST')

            def do_DELETE(self):
                stand_in._handle(self, 'DELETE')

        self._httpd = ThreadingHTTPServer((HOST, self.port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        daemon=True)

    def add(self, instance_id: str, project_id: str, user_id: str,
            name: str = 'vm') -> None:
        self.servers[instance_id] = {
            'id': instance_id, 'name': name, 'tenant_id': project_id,
            'user_id': user_id, 'status': 'ACTIVE', 'locked': False,
            'metadata': {}, 'created': '2026-01-01T00:00:00Z',
            'updated': '2026-01-01T00:00:00Z', 'links': []}

    def configure(self, conf) -> None:
        """Point ``[service_credentials]`` of a parsed conf here."""
        from keystoneauth1 import loading as ks_loading
        group = 'service_credentials'
        conf.register_opts(
            ks_loading.get_auth_plugin_conf_options('v3password'),
            group=group)
        for name, value in (
                ('auth_type', 'v3password'),
                ('auth_url', self.base + '/identity/v3'),
                ('username', 'bench'), ('password', 'bench'),
                ('project_name', 'service'),
                ('user_domain_id', 'default'),
                ('project_domain_id', 'default'),
                ('region_name', 'RegionOne'), ('timeout', 10)):
            conf.set_override(name, value, group=group)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._httpd.server_close()

    # the HTTP side

    def _count(self, key: str) -> None:
        with self._lock:
            self.calls[key] = self.calls.get(key, 0) + 1

    def _version(self, path: str) -> dict:
        return {'version': {
            'id': 'v3.14', 'status': 'stable',
            'updated': '2020-01-01T00:00:00Z',
            'links': [{'rel': 'self', 'href': self.base + path}],
            'media-types': [{
                'base': 'application/json',
                'type': 'application/vnd.openstack.identity-v3+json'}]}}

    def _token(self) -> dict:
        now = datetime.datetime.now(datetime.UTC)

        def endpoint(url):
            return [{'id': uuid.uuid4().hex, 'interface': iface,
                     'region': 'RegionOne', 'region_id': 'RegionOne',
                     'url': url} for iface in ('public', 'internal', 'admin')]
        domain = {'id': 'default', 'name': 'Default'}
        return {'token': {
            'methods': ['password'],
            'issued_at': now.strftime('%Y-%m-%dT%H:%M:%S.000000Z'),
            'expires_at': (now + datetime.timedelta(hours=2)).strftime(
                '%Y-%m-%dT%H:%M:%S.000000Z'),
            'user': {'id': 'bench', 'name': 'bench', 'domain': domain},
            'project': {'id': 'service', 'name': 'service', 'domain': domain},
            'roles': [{'id': 'admin', 'name': 'admin'}],
            'catalog': [
                {'type': 'identity', 'name': 'keystone', 'id': 'k',
                 'endpoints': endpoint(self.base + '/identity/v3')},
                {'type': 'compute', 'name': 'nova', 'id': 'n',
                 'endpoints': endpoint(self.base + '/compute/v2.1')}]}}

    def _handle(self, req: BaseHTTPRequestHandler, method: str) -> None:
        path = req.path.split('?', 1)[0].rstrip('/') or '/'
        length = int(req.headers.get('Content-Length') or 0)
        if length:
            req.rfile.read(length)
        status, body, headers = 404, {'error': 'not found'}, {}
        if method == 'GET' and path in ('/identity', '/identity/v3'):
            status, body = 200, self._version('/identity/v3/')
        elif method == 'POST' and path == '/identity/v3/auth/tokens':
            status, body = 201, self._token()
            headers['X-Subject-Token'] = 'bench-token-' + uuid.uuid4().hex
        elif method == 'GET' and _USER_RE.match(path):
            uid = _USER_RE.match(path).group(1)
            status, body = 200, {'user': {
                'id': uid, 'name': uid, 'email': '%s@example.org' % uid,
                'domain_id': 'default', 'enabled': True, 'links': {}}}
        elif method == 'GET' and _PROJECT_RE.match(path):
            pid = _PROJECT_RE.match(path).group(1)
            status, body = 200, {'project': {
                'id': pid, 'name': pid, 'domain_id': 'default',
                'enabled': True, 'links': {}}}
        elif path in ('/compute', '/compute/v2.1'):
            status, body = 200, {'version': {
                'id': 'v2.1', 'status': 'CURRENT', 'version': '2.96',
                'min_version': '2.1', 'links': [
                    {'rel': 'self', 'href': self.base + '/compute/v2.1/'}]}}
        elif _SERVER_RE.match(path) and method in ('GET', 'DELETE'):
            status, body = self._server(method,
                                        _SERVER_RE.match(path).group(1))
        self._count('%s %s' % (method, _kind(path)))
        data = b'' if body is None else json.dumps(body).encode()
        req.send_response(status)
        for key, value in headers.items():
            req.send_header(key, value)
        if data:
            req.send_header('Content-Type', 'application/json')
        req.send_header('Content-Length', str(len(data)))
        req.end_headers()
        if data:
            req.wfile.write(data)

    def _server(self, method: str, instance_id: str):
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)
            server = self.servers.get(instance_id)
            if server is None:
                return 404, {'itemNotFound': {
                    'code': 404,
                    'message': 'Instance %s could not be found.'
                    % instance_id}}
            if method == 'DELETE':
                self.servers.pop(instance_id, None)
                return 204, None
            return 200, {'server': server}
        finally:
            with self._lock:
                self.in_flight -= 1


def _kind(path: str) -> str:
    """A path with its ids blanked, to count calls per kind."""
    for regex, name in ((_SERVER_RE, '/servers/{id}'),
                        (_USER_RE, '/users/{id}'),
                        (_PROJECT_RE, '/projects/{id}')):
        if regex.match(path):
            return name
    return path
