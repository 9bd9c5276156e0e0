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
"""Cleaner cycle at 10,000 / 100,000 / 1,000,000 tracked servers.

``--due`` (1,000) of them are due: a third first warnings, a third last
warnings, a third deletions. For each database size, on SQLite, MariaDB
and PostgreSQL, this prints:

* the baseline: the bare indexed ``SELECT id, next_action_at FROM
  vmexpire WHERE next_action_at <= now`` (best of ``--repeat``);
* the decision scan: what the cleaner reads and decides before any I/O
  (``db.api.due_ids`` pages, the rows, ``expiration.due_step``), with the
  peak memory Python allocated for it (tracemalloc, separate run);
* one real cleaner cycle (``osvmexpire.cleaner.cycle.Cycle``) with an
  aiosmtpd server that accepts every mail and a Keystone + Nova stand-in
  that answers at once; the per-cycle deletion cap is lifted so every
  size does the same work; time and peak RSS growth.

Targets: decision scan at 1 M rows ≤ 1 s with flat memory, and a cycle
time that follows the due rows, not the table size.

    .venv/bin/python -m benchmarks.cleaner_cycle [--backends sqlite,...]
"""

import argparse
import collections
import threading
import time

import psutil
import sqlalchemy as sa

from benchmarks import _common as c
from osvmexpire import context
from osvmexpire import expiration
from osvmexpire.db import api as db_api
from osvmexpire.db import models


def bare_select(engine: sa.Engine, now) -> int:
    """The baseline: the due rows straight from the index."""
    M = models.VmExpire
    with engine.connect() as conn:
        return len(conn.execute(
            sa.select(M.id, M.next_action_at)
            .where(M.next_action_at <= now)).all())


def decision_scan(ctx, now, settings: expiration.Settings,
                  batch: int) -> collections.Counter:
    """Find and decide every due row, as the cleaner does, without I/O.

    Pages of ``db.api.due_ids`` (the cleaner's query), each page's rows
    in one SELECT, then the pure rules.
    """
    M = models.VmExpire
    decided = collections.Counter()
    after = None
    while True:
        page = db_api.due_ids(ctx, now, batch, after)
        if not page:
            break
        after = page[-1]
        with db_api.context_manager().reader.using(ctx) as session:
            rows = session.scalars(sa.select(M).where(
                M.id.in_([row_id for _, row_id in page]))).all()
            for row in rows:
                step = expiration.due_step(row, now, settings)
                if step is None:
                    decided['nothing'] += 1
                elif (step.action == expiration.Action.DELETE
                      and not expiration.may_delete(row, now, settings)):
                    decided['wait'] += 1
                else:
                    decided[str(step.action)] += 1
        if len(page) < batch:
            break
    return decided


def best_of(repeat: int, fn) -> tuple[float, object]:
    best, result = float('inf'), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


class RssPeak:
    """Samples this process's RSS every 5 ms; ``growth`` after exit."""

    def __init__(self):
        self._proc = psutil.Process()
        self._stop = threading.Event()
        self.start = self.peak = self._proc.memory_info().rss
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)

    @property
    def growth(self) -> int:
        return self.peak - self.start


def restore_due(engine: sa.Engine, due_rows: list[dict],
                stand_in: c.OpenStackStandIn) -> None:
    """Put the due rows back as they were before a cycle changed them."""
    M = models.VmExpire
    ids = [row['id'] for row in due_rows]
    with engine.begin() as conn:
        for start in range(0, len(ids), 500):
            conn.execute(sa.delete(M).where(M.id.in_(ids[start:start + 500])))
    c._insert(engine, M.__table__, due_rows)
    stand_in.servers.clear()
    for row in due_rows:
        stand_in.add(row['instance_id'], row['project_id'], row['user_id'],
                     row['instance_name'])


def run_cycle(db, now, smtp: c.SmtpSink, stand_in: c.OpenStackStandIn,
              due_rows: list[dict], batch: int):
    from osvmexpire.cleaner import cycle as cycle_mod
    restore_due(db.engine, due_rows, stand_in)
    conf = db.config(**{
        'smtp.email_smtp_host': c.HOST, 'smtp.email_smtp_port': smtp.port,
        'cleaner.max_deletions_per_cycle': 0,
        'cleaner.batch_size': batch})
    stand_in.configure(conf)
    mails = smtp.count
    cycle = cycle_mod.Cycle(conf, clock=lambda: now)
    with RssPeak() as rss, c.stopwatch() as took:
        report = cycle.run()
    restore_due(db.engine, due_rows, stand_in)
    return took[0], rss.growth, report, smtp.count - mails


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog='python -m benchmarks.cleaner_cycle', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--backends', default=','.join(c.BACKENDS))
    parser.add_argument('--sizes', default='10000,100000,1000000',
                        help='table sizes, ascending (rows are added)')
    parser.add_argument('--due', type=int, default=1000)
    parser.add_argument('--batch', type=int, default=500,
                        help='[cleaner] batch_size')
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--no-cycle', action='store_true',
                        help='only the scan and its baseline')
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(',')]
    settings = expiration.Settings()
    now = db_api.utcnow()
    ctx = context.get_admin_context()
    ok = True
    summary = []
    with c.SmtpSink() as smtp, c.OpenStackStandIn() as stand_in:
        for backend in args.backends.split(','):
            c.header('cleaner cycle on %s, %d due rows' % (backend, args.due))
            with c.database(backend) as db:
                loaded, due_rows, cycles = 0, [], []
                for size in sizes:
                    with c.stopwatch() as took:
                        due_rows += c.bulk_load(
                            db.engine, size - loaded, now, settings,
                            due=max(0, args.due - loaded), start=loaded)
                        c.analyze(db.engine)
                    loaded = size
                    print('  -- %d rows (loaded in %.0f s)' % (size, took[0]))
                    base_t, base_n = best_of(
                        args.repeat, lambda: bare_select(db.engine, now))
                    scan_t, decided = best_of(
                        args.repeat,
                        lambda: decision_scan(ctx, now, settings, args.batch))
                    _, scan_mem = c.peak_python_memory(
                        lambda: decision_scan(ctx, now, settings, args.batch))
                    _, base_mem = c.peak_python_memory(
                        lambda: bare_select(db.engine, now))
                    assert base_n == args.due, base_n
                    assert sum(decided.values()) == args.due, decided
                    c.figure('decision scan (ms)', scan_t * 1000,
                             base_t * 1000, 'ms', higher_is_better=False)
                    c.line('scan decided', ', '.join(
                        '%s %d' % kv for kv in sorted(decided.items())))
                    c.line('scan peak Python memory', '%s (baseline %s)' % (
                        c.mib(scan_mem), c.mib(base_mem)))
                    row = [backend, size, scan_t, base_t, scan_mem]
                    if not args.no_cycle:
                        took_c, growth, report, mails = run_cycle(
                            db, now, smtp, stand_in, due_rows, args.batch)
                        cycles.append(took_c)
                        c.line('full cycle', '%.2f s, RSS +%s, %d mails, %s'
                               % (took_c, c.mib(growth), mails, {
                                   k: v for k, v in report.as_dict().items()
                                   if v}))
                        row += [took_c, growth]
                    summary.append(row)
                scans = [r for r in summary if r[0] == backend]
                ok &= c.target('%s: decision scan at %d rows <= 1 s'
                               % (backend, scans[-1][1]), scans[-1][2] <= 1.0)
                mems = [r[4] for r in scans]
                ok &= c.target(
                    '%s: scan memory flat (max <= 1.5 x min + 1 MiB)'
                    % backend, max(mems) <= 1.5 * min(mems) + 1048576)
                if cycles:
                    ok &= c.target(
                        '%s: cycle at %d rows <= 2 x cycle at %d rows'
                        % (backend, sizes[-1], sizes[0]),
                        cycles[-1] <= 2 * cycles[0])
    c.header('summary (scan ms / bare SELECT ms / cycle s)')
    for row in summary:
        print('  %-10s %9d rows  scan %7.1f ms  select %7.1f ms  %s' % (
            row[0], row[1], row[2] * 1000, row[3] * 1000,
            'cycle %.2f s' % row[5] if len(row) > 5 else ''))
    return 0 if ok else c.UNMET


if __name__ == '__main__':
    raise SystemExit(main())
