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
"""Prototype (benchmark only): deletions pipelined per server.

``Cycle._delete_all`` runs the database steps of every deletion in the
cycle's thread, one after the other (re-read, exclusion check,
mark_deleting before; finish and release after), and only the Nova calls
on ``nova_concurrency`` threads. With a Nova that answers in 100 ms the
serial database part, about 50 ms per server on this machine, adds more
than the parallel Nova part takes.

This subclass changes only the scheduling (with the per-cycle cap lifted
and outside dry runs; otherwise it defers to the product): each server's
whole sequence (``_prepare_delete``, ``_nova_delete``, ``_finish_delete``,
``_release``: the product's own methods, unchanged) runs on one of the
``nova_concurrency`` threads, so database and Nova latencies overlap.
The oslo.db transaction state of a RequestContext is thread-local, so the
threads share the cycle's context safely; each thread counts into its own
``Report``, merged at the end; deletion notices are sent afterwards, one
per owner, as before.
"""

import collections
import concurrent.futures
import contextlib
import dataclasses
import threading

from oslo_log import log

from osvmexpire.cleaner import cycle as cycle_mod

LOG = log.getLogger(__name__)


def _merge(into: cycle_mod.Report, part: cycle_mod.Report) -> None:
    for field in dataclasses.fields(part):
        value = getattr(part, field.name)
        if isinstance(value, list):
            getattr(into, field.name).extend(value)
        else:
            setattr(into, field.name, getattr(into, field.name) + value)


class PipelinedCycle(cycle_mod.Cycle):

    def __init__(self, conf, *args, **kwargs):
        super().__init__(conf, *args, **kwargs)
        # SQLite allows one writer: there the database steps of different
        # servers take turns (still overlapping the Nova calls); the
        # server databases run them in parallel.
        self._db_turn = (threading.Lock()
                         if conf.database.connection.startswith('sqlite')
                         else contextlib.nullcontext())

    def _delete_all(self, rows, report, budget) -> None:
        if budget.limit or self.dry_run:
            # The deletion cap and dry runs: the product's own order.
            return super()._delete_all(rows, report, budget)
        if not rows:
            return
        self.nova  # noqa: B018 - build the client before the threads
        workers = max(1, min(self.conf.cleaner.nova_concurrency, len(rows)))
        with concurrent.futures.ThreadPoolExecutor(
                workers, thread_name_prefix='cleaner-delete') as pool:
            outcomes = list(pool.map(self._delete_one, rows))
        deleted = collections.defaultdict(list)
        for part, row, deleted_at in outcomes:
            _merge(report, part)
            budget.take()
            if deleted_at is not None:
                deleted[row.user_id].append((row, deleted_at))
        for user_id, entries in deleted.items():
            try:
                self._deletion_notice(user_id, entries, report)
            except Exception:
                LOG.exception('cleaner: deletion notice to %s failed',
                              user_id)

    def _delete_one(self, row):
        part = cycle_mod.Report()
        with self._db_turn:
            try:
                fresh = self._prepare_delete(row, part)
            except Exception as exc:
                LOG.exception('cleaner: cannot prepare deletion of %s',
                              row.instance_id)
                self._fail(row, 'delete', 'unexpected error: %s' % exc, part)
                fresh = None
            if fresh is None:
                self._release(row)
                return part, row, None
        result = self._nova_delete(fresh)
        deleted_at = None
        with self._db_turn:
            try:
                deleted_at = self._finish_delete(fresh, result, part)
            except Exception as exc:
                LOG.exception('cleaner: cannot record the deletion step of '
                              '%s (%s)', fresh.instance_id, result[0])
                part.failed += 1
                try:
                    self._fail(fresh, 'delete', 'cannot record: %s' % exc,
                               None)
                except Exception:
                    LOG.exception('cleaner: database unavailable')
            finally:
                self._release(fresh)
        return part, fresh, deleted_at
