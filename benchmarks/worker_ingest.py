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
"""Worker ingest: Nova ``instance.create.end`` notifications per second.

``-n`` (20,000) real-shaped versioned notifications (the Nova 34 capture in
``tests/fixtures/nova_notifications``, each with its own instance id) are
published to RabbitMQ 127.0.0.1:5672 on a unique exchange and topic. Two
listener pools are bound to it, so every message is queued twice:

* the baseline: a bare oslo.messaging notification listener (same
  transport, threading executor, thread count, pool, requeue setting)
  whose endpoint only acknowledges; timed until it has seen every message;
* the worker: ``osvmexpire.worker.service.build_listener`` with the real
  ``NovaNotificationEndpoint`` on a fresh database, logging at INFO to a
  file as oslo.log does; timed until every record exists.

Both consume a full queue in ``--workers`` child processes (the worker's
``[worker] workers``), started and connected before the clock starts.
Printed: events/s for both and the ratio. Targets: worker ≥ 80 % of the
baseline and ≥ 1,000 events/s.

    .venv/bin/python -m benchmarks.worker_ingest [--backends ...] [-n N]
"""

import argparse
import copy
import json
import multiprocessing
import os
import pathlib
import shutil
import tempfile
import threading
import time
import uuid

import sqlalchemy as sa

from benchmarks import _common as c

FIXTURE = (pathlib.Path(__file__).resolve().parents[1] / 'tests' / 'fixtures'
           / 'nova_notifications' / 'instance-create-end.json')


def _conf(names: dict, db_url: str | None, log_file: str | None):
    from osvmexpire import service
    conf = service.new_config()
    conf([], project='os-vm-expire', default_config_files=[])
    conf.set_override('control_exchange', names['exchange'],
                      group='nova_notifications')
    conf.set_override('topic', names['topic'], group='nova_notifications')
    if db_url:
        conf.set_override('connection', db_url, group='database')
    if log_file:
        conf.set_override('log_file', log_file)
    return conf


class _Acknowledge:
    """The baseline endpoint: count, acknowledge, nothing else."""

    def __init__(self, counter):
        self.counter = counter

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        import oslo_messaging
        with self.counter.get_lock():
            self.counter.value += 1
        return oslo_messaging.NotificationResult.HANDLED


def consumer(kind: str, names: dict, pool: str, threads: int,
             db_url: str | None, log_file: str, counter, ready, go,
             stop) -> None:
    """One listener process (spawned): connect, wait for go, consume."""
    import oslo_messaging
    from oslo_log import log

    from osvmexpire.worker import service as worker_service
    conf = _conf(names, db_url, log_file)
    conf.set_override('pool_name', pool, group='nova_notifications')
    log.setup(conf, 'os-vm-expire')
    transport = oslo_messaging.get_notification_transport(
        conf, url=c.RABBIT_URL)
    if kind == 'worker':
        from osvmexpire.db import api as db_api
        db_api.configure(conf)
        db_api.get_engine().connect().close()
        listener = worker_service.build_listener(conf, transport)
    else:
        listener = oslo_messaging.get_notification_listener(
            transport, worker_service.targets(conf), [_Acknowledge(counter)],
            executor='threading', allow_requeue=True, pool=pool)
    ready.release()
    go.wait()
    listener.start(override_pool_size=threads)
    stop.wait()
    listener.stop()
    listener.wait()
    transport.cleanup()


def _kombu():
    import kombu
    return kombu.Connection('amqp://guest:guest@127.0.0.1:5672//')


def queue_depth(queue: str) -> int:
    with _kombu() as conn:
        return conn.channel().queue_declare(queue=queue, passive=True)[1]


def purge(queues) -> None:
    with _kombu() as conn:
        channel = conn.channel()
        for queue in queues:
            channel.queue_purge(queue=queue)


def delete_broker_objects(names: dict) -> None:
    with _kombu() as conn:
        channel = conn.channel()
        for queue in names['queues']:
            channel.queue_delete(queue=queue)
        channel.exchange_delete(exchange=names['exchange'])


def publish(names: dict, count: int, publishers: int = 4) -> float:
    """Publish ``count`` create notifications; events/s of the publish."""
    import oslo_messaging
    from oslo_config import cfg
    template = json.loads(FIXTURE.read_text())
    pconf = cfg.ConfigOpts()
    pconf([], project='bench', default_config_files=[])
    oslo_messaging.get_notification_transport(pconf, url=c.RABBIT_URL
                                              ).cleanup()
    pconf.set_override('control_exchange', names['exchange'])
    transport = oslo_messaging.get_notification_transport(
        pconf, url=c.RABBIT_URL)

    def run(part: int) -> None:
        notifier = oslo_messaging.Notifier(
            transport, publisher_id=template['publisher_id'],
            driver='messagingv2', topics=[names['topic']])
        for i in range(part, count, publishers):
            payload = copy.deepcopy(template['payload'])
            data = payload['nova_object.data']
            data['uuid'] = str(uuid.uuid4())
            data['display_name'] = 'bench-%d' % i
            data['tenant_id'] = 'project-%04d' % (i % 1000)
            notifier.info({}, template['event_type'], payload)
    with c.stopwatch() as took:
        workers = [threading.Thread(target=run, args=(p,))
                   for p in range(publishers)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
    transport.cleanup()
    return count / took[0]


def consume(kind: str, names: dict, pool: str, count: int, workers: int,
            threads: int, db_url: str | None, log_file: str,
            timeout: float) -> tuple[float, int]:
    """Run ``workers`` consumer processes on a full queue.

    Returns (events/s, events done). After ``timeout`` seconds the rate
    is taken from the events done so far (SQLite can be that slow).
    """
    ctx = multiprocessing.get_context('spawn')
    counter = ctx.Value('q', 0)
    ready, go, stop = ctx.Semaphore(0), ctx.Event(), ctx.Event()
    procs = [ctx.Process(target=consumer, args=(
        kind, names, pool, threads, db_url, log_file, counter, ready, go,
        stop), daemon=True) for _ in range(workers)]
    for proc in procs:
        proc.start()
    engine = sa.create_engine(db_url) if db_url else None

    def done() -> int:
        if engine is None:
            return counter.value
        with engine.connect() as conn:
            return conn.exec_driver_sql(
                'SELECT count(*) FROM vmexpire').scalar()
    try:
        for _ in procs:
            if not ready.acquire(timeout=120):
                raise RuntimeError('a %s consumer did not start' % kind)
        go.set()
        start = time.perf_counter()
        deadline = start + timeout
        finished = 0
        while time.perf_counter() < deadline:
            finished = done()
            if finished >= count:
                break
            time.sleep(0.02)
        took = time.perf_counter() - start
    finally:
        stop.set()
        for proc in procs:
            proc.join(30)
            if proc.is_alive():
                proc.terminate()
        if engine is not None:
            engine.dispose()
    return (finished / took if count else 0.0), finished


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog='python -m benchmarks.worker_ingest', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('-n', '--count', type=int, default=20000)
    parser.add_argument('--backends', default=','.join(c.BACKENDS))
    parser.add_argument('--workers', type=int, default=1,
                        help='listener processes ([worker] workers)')
    parser.add_argument('--threads', type=int, default=8,
                        help='threads per process ([worker] '
                             'executor_thread_pool_size)')
    parser.add_argument('--timeout', type=float, default=300,
                        help='seconds per consumer run; past it the rate '
                             'is taken from the events done so far')
    args = parser.parse_args(argv)
    # Spawned consumers inherit this: no eventlet deprecation noise.
    os.environ['PYTHONWARNINGS'] = 'ignore'
    ok = True
    tag = 'bench_%s' % uuid.uuid4().hex[:10]
    pools = ['_bare', '_worker']
    names = {'exchange': tag, 'topic': tag,
             'queues': [tag + p for p in pools] + [tag + '.info']}
    logdir = tempfile.mkdtemp(prefix='osvmexpire-bench-')
    timeout = args.timeout
    try:
        # Declare both pools' queues (bound to exchange/topic.info).
        for pool in pools:
            consume('bare', names, tag + pool, 0, 1, 1, None,
                    os.path.join(logdir, 'declare.log'), 60)
        for backend in args.backends.split(','):
            c.header('worker ingest on %s: %d instance.create.end, %d '
                     'process(es) x %d threads' % (
                         backend, args.count, args.workers, args.threads))
            with c.database(backend) as db:
                purge(tag + p for p in pools)
                rate = publish(names, args.count)
                c.wait_for(lambda: all(
                    queue_depth(tag + p) >= args.count for p in pools),
                    60, what='all messages queued')
                c.line('published', '%.0f events/s' % rate)
                bare, _ = consume('bare', names, tag + '_bare', args.count,
                                  args.workers, args.threads, None,
                                  os.path.join(logdir, 'bare.log'), timeout)
                log_file = os.path.join(logdir, 'worker-%s.log' % backend)
                real, real_n = consume(
                    'worker', names, tag + '_worker', args.count,
                    args.workers, args.threads, db.url, log_file, timeout)
                with db.engine.connect() as conn:
                    events = conn.exec_driver_sql(
                        "SELECT count(*) FROM vmexpire_event "
                        "WHERE event = 'created'").scalar()
                    records = conn.exec_driver_sql(
                        'SELECT count(*) FROM vmexpire').scalar()
                with open(log_file) as f:
                    problems = sum(1 for ln in f if ' osvmexpire.' in ln and (
                        ' WARNING ' in ln or ' ERROR ' in ln))
                ratio = c.figure('worker ingest (events/s)', real, bare,
                                 'ev/s', fmt='%.0f')
                c.line('records / created events', '%d / %d%s; %d WARNING '
                       'or ERROR lines of osvmexpire in the log' % (
                           records, events, '' if real_n >= args.count else
                           ' (%d when stopped after %.0f s)' % (
                               real_n, timeout), problems))
                ok &= c.target('%s: worker >= 80 %% of the bare listener'
                               % backend, ratio >= 0.8)
                ok &= c.target('%s: worker >= 1,000 events/s' % backend,
                               real >= 1000)
    finally:
        delete_broker_objects(names)
    # The logs are kept only when an exception ended the run.
    shutil.rmtree(logdir, ignore_errors=True)
    return 0 if ok else c.UNMET


if __name__ == '__main__':
    raise SystemExit(main())
