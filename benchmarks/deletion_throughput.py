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
"""Deletion throughput: 1,000 due servers against a slow Nova.

``-n`` (1,000) records are due for deletion (both warnings delivered long
enough ago), owned by ``--owners`` (100) users. A Keystone + Nova stand-in
answers every Nova call after ``--delay`` (0.1 s). One real cleaner cycle
(``osvmexpire.cleaner.cycle.Cycle``) runs with the per-cycle deletion cap
lifted and ``[cleaner] nova_concurrency`` set to each of
``--concurrency``; mails go to an aiosmtpd server that accepts them.

Baseline: the same Nova calls (GET then DELETE per server) made directly
with the same number of threads, i.e. what the stand-in alone costs.
Target: the 1,000 deletions in ≤ 30 s.

    .venv/bin/python -m benchmarks.deletion_throughput [--backends ...]
"""

import argparse
import concurrent.futures

import requests

from benchmarks import _common as c
from osvmexpire import expiration
from osvmexpire.db import api as db_api


def direct_calls(stand_in: c.OpenStackStandIn, ids: list[str],
                 threads: int) -> float:
    """The baseline: GET + DELETE of every server, ``threads`` at a time."""
    local = {}

    def one(instance_id):
        import threading
        session = local.setdefault(threading.get_ident(), requests.Session())
        url = stand_in.base + '/compute/v2.1/servers/' + instance_id
        session.get(url, timeout=10).raise_for_status()
        session.delete(url, timeout=10).raise_for_status()
    with c.stopwatch() as took:
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, ids))
    return took[0]


def run_cycle(cycle_cls, backend: str, args, threads: int,
              smtp: c.SmtpSink, stand_in: c.OpenStackStandIn):
    """Load the due rows in a fresh database, run one cycle; figures."""
    settings = expiration.Settings()
    now = db_api.utcnow()
    with c.database(backend) as db:
        rows = c.bulk_load(
            db.engine, args.count, now, settings, due=args.count,
            due_kinds=('delete',),
            user_of=lambda i: 'owner-%03d' % (i % args.owners))
        stand_in.servers.clear()
        for row in rows:
            stand_in.add(row['instance_id'], row['project_id'],
                         row['user_id'], row['instance_name'])
        conf = db.config(**{
            'smtp.email_smtp_host': c.HOST,
            'smtp.email_smtp_port': smtp.port,
            'cleaner.max_deletions_per_cycle': 0,
            'cleaner.nova_concurrency': threads})
        stand_in.configure(conf)
        stand_in.max_in_flight = 0
        mails = smtp.count
        cycle = cycle_cls(conf, clock=lambda: now)
        with c.stopwatch() as took:
            report = cycle.run()
        return (took[0], report, len(stand_in.servers),
                stand_in.max_in_flight, smtp.count - mails)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog='python -m benchmarks.deletion_throughput', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('-n', '--count', type=int, default=1000)
    parser.add_argument('--owners', type=int, default=100)
    parser.add_argument('--delay', type=float, default=0.1)
    parser.add_argument('--concurrency', default='8,16',
                        help='[cleaner] nova_concurrency values to run')
    parser.add_argument('--backends', default=','.join(c.BACKENDS))
    parser.add_argument('--limit', type=float, default=30.0,
                        help='target, seconds')
    args = parser.parse_args(argv)
    from osvmexpire.cleaner import cycle as cycle_mod
    ok = True
    with c.SmtpSink() as smtp, c.OpenStackStandIn(args.delay) as stand_in:
        for backend in args.backends.split(','):
            for threads in [int(x) for x in args.concurrency.split(',')]:
                c.header('deletion throughput on %s: %d due servers, Nova '
                         'answers after %.0f ms, nova_concurrency %d' % (
                             backend, args.count, args.delay * 1000,
                             threads))
                stand_in.servers.clear()
                ids = ['base-%d' % i for i in range(args.count)]
                for iid in ids:
                    stand_in.add(iid, 'p', 'u')
                base = direct_calls(stand_in, ids, threads)
                c.line('baseline', '%.2f s: GET + DELETE of each server, '
                       '%d threads, no database' % (base, threads))
                took, report, left, in_flight, mails = run_cycle(
                    cycle_mod.Cycle, backend, args, threads, smtp, stand_in)
                c.figure('cleaner cycle (s)', took, base, 's',
                         higher_is_better=False, fmt='%.2f')
                c.line('', '%.1f deletions/s; Nova calls in flight max '
                       '%d; %d mails; %s' % (
                           report.deleted / took, in_flight, mails, {
                               k: v for k, v in report.as_dict().items()
                               if v}))
                ok &= c.target('%s: all %d deleted, none left in Nova'
                               % (backend, args.count),
                               report.deleted == args.count and left == 0)
                ok &= c.target('%s, nova_concurrency %d: <= %.0f s'
                               % (backend, threads, args.limit),
                               took <= args.limit)
    return 0 if ok else c.UNMET


if __name__ == '__main__':
    raise SystemExit(main())
