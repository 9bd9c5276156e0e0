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
"""The cleaner process: cotyledon + futurist periodics, no eventlet.

Two periodic tasks run on their own threads: a cleaner cycle every
``[cleaner] interval`` seconds (the first right after start) and, when
``[cleaner] sync_interval`` > 0, a reconciliation with Nova. Neither task
ever raises out of its loop: a failed cycle is logged and the next one
runs on time. Any number of cleaners may run against one database; row
claims keep them out of each other's way.
"""

import threading

import cotyledon
import futurist
from futurist import periodics
from oslo_log import log

from osvmexpire import context as os_context
from osvmexpire.cleaner import cycle as cycle_mod
from osvmexpire.notifier import events

LOG = log.getLogger(__name__)


class Runner:
    """The periodic loop, usable without cotyledon (tests, --once)."""

    def __init__(self, conf, cycle: cycle_mod.Cycle | None = None,
                 reconcile=None):
        self.conf = conf
        self.cycle = cycle or cycle_mod.Cycle(conf)
        self._reconcile = reconcile
        self._worker = None
        self._last_start = None
        self._lock = threading.Lock()

    def run_cycle(self) -> dict | None:
        """One cleaner cycle; logs instead of raising."""
        try:
            start = self.cycle.clock()
            if self._last_start is not None and start < self._last_start:
                # Decisions only ever wait for the clock; a step back
                # delays work, it cannot make a deletion early. Say it.
                LOG.warning('cleaner: the clock went back from %s to %s',
                            self._last_start, start)
            self._last_start = start
            return self.cycle.run().as_dict()
        except Exception:
            LOG.exception('cleaner cycle failed; retried in %d s',
                          self.conf.cleaner.interval)
            return None

    def run_sync(self) -> dict | None:
        """One reconciliation with Nova; logs instead of raising."""
        try:
            reconcile = self._reconcile
            if reconcile is None:
                # Imported late: the worker module is optional for the
                # cleaner's own work and heavy to import.
                from osvmexpire.cleaner import reconcile as reconcile_mod
                reconcile = reconcile_mod.reconcile
            kwargs = {}
            if self.conf.cleaner.dry_run:
                # Rule 9: a dry-run cleaner changes no record.
                kwargs['dry_run'] = True
            result = reconcile(self.conf, os_context.get_admin_context(),
                               self.cycle.nova, **kwargs)
            LOG.info('reconciliation with Nova done: %s', result)
            return result
        except Exception:
            LOG.exception('reconciliation with Nova failed; retried in '
                          '%d s', self.conf.cleaner.sync_interval)
            return None

    def callables(self) -> list:
        interval = self.conf.cleaner.interval
        sync = self.conf.cleaner.sync_interval

        @periodics.periodic(interval, run_immediately=True)
        def cleaner_cycle():
            self.run_cycle()

        tasks = [(cleaner_cycle, None, None)]
        if sync > 0:
            @periodics.periodic(sync, run_immediately=True)
            def reconcile_with_nova():
                self.run_sync()
            tasks.append((reconcile_with_nova, None, None))
        return tasks

    def start(self) -> None:
        """Run until :meth:`stop` (blocks the calling thread)."""
        tasks = self.callables()
        with self._lock:
            self._worker = periodics.PeriodicWorker(
                tasks, executor_factory=lambda: futurist.ThreadPoolExecutor(
                    max_workers=len(tasks)))
        self._worker.start()

    def stop(self) -> None:
        with self._lock:
            worker = self._worker
        if worker is not None:
            worker.stop()
            worker.wait()


class CleanerService(cotyledon.Service):
    """One cleaner process under cotyledon's ServiceManager."""

    name = 'osvmexpire-cleaner'

    def __init__(self, worker_id, conf):
        super().__init__(worker_id)
        self.conf = conf
        self.runner = None

    def run(self):
        # Built after the fork: no DB engine, HTTP session or AMQP
        # connection crosses it.
        self.runner = Runner(self.conf, cycle_mod.Cycle(
            self.conf, publisher=events.safe_publisher(self.conf)))
        LOG.info('cleaner %s started: interval %d s, sync_interval %d s, '
                 'dry_run %s', self.runner.cycle.owner_id,
                 self.conf.cleaner.interval, self.conf.cleaner.sync_interval,
                 self.conf.cleaner.dry_run)
        self.runner.start()

    def terminate(self):
        if self.runner is not None:
            self.runner.stop()
        super().terminate()


def serve(conf) -> None:
    """Run the cleaner until SIGTERM/SIGINT."""
    manager = cotyledon.ServiceManager()
    manager.add(CleanerService, workers=1, args=(conf,))
    manager.run()
