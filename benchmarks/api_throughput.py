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
"""API throughput: list a 10,000-server project by pages, and single GETs.

A real Keystone (``tools/keystone-venv.sh``, started on 127.0.0.1) issues
a member token of project ``bench``; a fresh database holds ``--vms``
(10,000) records of that project and as many of other projects. Two
gunicorn servers (``--workers`` x ``--threads``, gthread, keep-alive):

* the API, ``osvmexpire.api.wsgi:application``, with the real auth_token
  (the token is validated once per worker, then cached in process);
* the baseline, ``benchmarks.api_baseline:application``: the same
  middleware stack (``setup_app``) around a bare Pecan app that returns a
  fixed JSON of the same size.

A Python load generator (its own process, ``--connections`` keep-alive
connections) requests, for ``--duration`` seconds per round, alternately
on both servers: the 100 pages of the project (``?limit=100``, following
the ``next`` links) and single records by id. Printed: requests/s, p50
and p99 latency of both, and the ratio. Target: ≥ 70 % of the baseline.

    .venv/bin/python -m benchmarks.api_throughput [--backend postgresql]
"""

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from benchmarks import _common as c
from osvmexpire import expiration
from osvmexpire.db import api as db_api
from tests.functional.api import keystone_server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load(port: int, token: str, paths: list[str], connections: int,
          duration: float, out) -> None:
    """Load generator process: latencies of 200 answers, errors."""
    deadline = time.perf_counter() + duration
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker(offset: int) -> None:
        conn = http.client.HTTPConnection(c.HOST, port, timeout=30)
        mine, bad, i = [], 0, offset
        headers = {'X-Auth-Token': token, 'Accept': 'application/json'}
        while time.perf_counter() < deadline:
            path = paths[i % len(paths)]
            i += connections
            start = time.perf_counter()
            try:
                conn.request('GET', path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    mine.append(time.perf_counter() - start)
                else:
                    bad += 1
                if resp.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
        conn.close()
        with lock:
            lat.extend(mine)
            errors[0] += bad
    threads = [threading.Thread(target=worker, args=(n,))
               for n in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((lat, errors[0]))


def load(port: int, token: str, paths: list[str], connections: int,
         duration: float) -> tuple[list[float], int]:
    ctx = multiprocessing.get_context('spawn')
    out = ctx.Queue()
    proc = ctx.Process(target=_load, args=(port, token, paths, connections,
                                           duration, out))
    proc.start()
    result = out.get(timeout=duration + 120)
    proc.join(30)
    return result


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float('nan')
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


class Gunicorn:
    """``gunicorn APP`` on a free port with OSVMEXPIRE_CONFIG set."""

    def __init__(self, app: str, env: dict, workers: int, threads: int,
                 logdir: str):
        self.port = c.free_port()
        self.log = open(os.path.join(logdir, app.split(':')[0] + '.log'),
                        'wb')
        self.proc = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), 'gunicorn'),
             '--bind', '%s:%d' % (c.HOST, self.port), '--workers',
             str(workers), '--threads', str(threads), '--worker-class',
             'gthread', '--keep-alive', '30', '--no-control-socket',
             '--timeout', '60', '--chdir', ROOT, app],
            env=dict(os.environ, **env), stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True)
        wait_http('http://%s:%d/' % (c.HOST, self.port))

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()


def wait_http(url: str, timeout: float = 60) -> None:
    """Until ``url`` answers anything (even 401)."""
    def up():
        try:
            urllib.request.urlopen(url, timeout=2).close()
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True
    c.wait_for(up, timeout, 0.2, url)
    time.sleep(0.2)


def get_json(port: int, path: str, token: str) -> tuple[dict, int]:
    conn = http.client.HTTPConnection(c.HOST, port, timeout=60)
    conn.request('GET', path, headers={'X-Auth-Token': token})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    if resp.status != 200:
        raise RuntimeError('GET %s: %d %s' % (path, resp.status, body[:300]))
    return json.loads(body), len(body)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog='python -m benchmarks.api_throughput', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--backend', default='postgresql',
                        choices=c.BACKENDS)
    parser.add_argument('--vms', type=int, default=10000)
    parser.add_argument('--page', type=int, default=100)
    parser.add_argument('--workers', type=int, default=2,
                        help='gunicorn worker processes')
    parser.add_argument('--threads', type=int, default=4,
                        help='gunicorn threads per worker')
    parser.add_argument('--connections', type=int, default=8)
    parser.add_argument('--duration', type=float, default=8.0,
                        help='seconds per round')
    parser.add_argument('--rounds', type=int, default=2)
    args = parser.parse_args(argv)
    logdir = tempfile.mkdtemp(prefix='osvmexpire-bench-api-')
    ok = True
    servers = []
    # The functional tests' real Keystone, with their accounts: user
    # ``member`` of project ``owner``, ``svc`` for auth_token.
    with keystone_server.Keystone() as ks, c.database(args.backend) as db:
        project = ks.ids['project:owner']
        now = db_api.utcnow()
        c.bulk_load(db.engine, args.vms, now, expiration.Settings(),
                    project_of=lambda i: project)
        c.bulk_load(db.engine, args.vms, now, expiration.Settings(),
                    start=args.vms)
        c.analyze(db.engine)
        conf_file = os.path.join(logdir, 'osvmexpire.conf')
        with open(conf_file, 'w') as f:
            f.write('[DEFAULT]\nlog_file = %s/api.log\n[database]\n'
                    'connection = %s\n' % (logdir, db.url)
                    + ks.authtoken_section())
        bodies_file = os.path.join(logdir, 'bodies.json')
        env = {'OSVMEXPIRE_CONFIG': conf_file,
               'OSVMEXPIRE_BENCH_BODIES': bodies_file,
               'PYTHONWARNINGS': 'ignore'}
        token = ks.token('member', 'owner')
        try:
            api = Gunicorn('osvmexpire.api.wsgi:application', env,
                           args.workers, args.threads, logdir)
            servers.append(api)
            # The pages a client walks, following the next links.
            pages = []
            path = '/v1/%s/vmexpires/?limit=%d' % (project, args.page)
            while path and len(pages) < 1000:
                pages.append(path)
                doc, size = get_json(api.port, path, token)
                if len(pages) == 1:
                    first, list_size = doc, size
                nxt = [ln['href'] for ln in doc.get('links', [])
                       if ln.get('rel') == 'next']
                path = None
                if nxt:
                    parsed = urllib.parse.urlsplit(nxt[0])
                    path = parsed.path + '?' + parsed.query
            ids = [v['id'] for v in first['vmexpires']]
            gets = ['/v1/%s/vmexpires/%s' % (project, i) for i in ids]
            one, get_size = get_json(api.port, gets[0], token)
            with open(bodies_file, 'w') as f:
                json.dump({'list': first, 'get': one}, f)
            base = Gunicorn('benchmarks.api_baseline:application', env,
                            args.workers, args.threads, logdir)
            servers.append(base)
            _, base_list = get_json(base.port, pages[0], token)
            _, base_get = get_json(base.port, gets[0], token)
            c.header('API on %s: project of %d servers (%d pages of %d), '
                     'gunicorn %d x %d, %d connections, %d x %.0f s' % (
                         args.backend, first['total'], len(pages), args.page,
                         args.workers, args.threads, args.connections,
                         args.rounds, args.duration))
            c.line('response sizes', 'list page %d B (baseline %d B), '
                   'single %d B (baseline %d B)' % (
                       list_size, base_list, get_size, base_get))
            for label, paths in (('list page', pages),
                                 ('single GET', gets)):
                results = {'api': ([], 0), 'base': ([], 0)}
                for _ in range(args.rounds):
                    for key, server in (('base', base), ('api', api)):
                        load(server.port, token, paths[:1], 2, 1.0)  # warm
                        lat, err = load(server.port, token, paths,
                                        args.connections, args.duration)
                        prev = results[key]
                        results[key] = (prev[0] + lat, prev[1] + err)
                total = args.rounds * args.duration
                rps = {k: len(v[0]) / total for k, v in results.items()}
                ratio = c.figure('%s (req/s)' % label, rps['api'],
                                 rps['base'], 'req/s', fmt='%.0f')
                for pct in (50, 99):
                    c.figure('%s p%d (ms)' % (label, pct),
                             percentile(results['api'][0], pct) * 1000,
                             percentile(results['base'][0], pct) * 1000,
                             'ms', higher_is_better=False)
                c.line('%s errors' % label, '%d (baseline %d)' % (
                    results['api'][1], results['base'][1]))
                ok &= c.target('%s: >= 70 %% of the baseline req/s' % label,
                               ratio >= 0.7)
                ok &= results['api'][1] == 0 and results['base'][1] == 0
        finally:
            for server in servers:
                server.stop()
    # The server logs are kept only when an exception ended the run.
    shutil.rmtree(logdir, ignore_errors=True)
    return 0 if ok else c.UNMET


if __name__ == '__main__':
    raise SystemExit(main())
