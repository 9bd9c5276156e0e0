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
"""The worker's real listener on RabbitMQ, notifications sent by
oslo.messaging's Notifier as Nova sends them, on real databases."""

import collections
import threading
import time
import uuid

import pytest
import sqlalchemy as sa
from oslo_db.sqlalchemy import enginefacade

from osvmexpire import service
from osvmexpire.db import api as db_api
from osvmexpire.db import models
from osvmexpire.worker import endpoint as worker_endpoint
from tests import fixtures
from tests.functional.worker.conftest import Bus
from tests.functional.worker.conftest import PrivateRabbit
from tests.functional.worker.conftest import Proxy
from tests.functional.worker.conftest import count
from tests.functional.worker.conftest import events
from tests.functional.worker.conftest import instance_ids
from tests.functional.worker.conftest import wait_for

SERVER_BACKENDS = ('mysql', 'postgresql')


@pytest.fixture(params=SERVER_BACKENDS)
def server_db(request):
    with fixtures.Database(request.param) as db:
        yield db


class CountingEndpoint(worker_endpoint.NovaNotificationEndpoint):
    """The real endpoint, recording its batch's result per message id."""

    def __init__(self, conf, delay: float = 0.0, **kw):
        kw.setdefault('retry_delay', 0.05)
        kw.setdefault('max_retry_delay', 0.5)
        super().__init__(conf, **kw)
        self.delay = delay
        self.results = collections.defaultdict(list)
        self.lock = threading.Lock()

    def info(self, messages):
        if self.delay:
            time.sleep(self.delay * len(messages))
        result = super().info(messages)
        with self.lock:
            for msg in messages:
                self.results[msg['metadata'].get('message_id')].append(
                    (msg['event_type'], result))
        return result

    def count(self, result=None) -> int:
        with self.lock:
            return sum(1 for rs in self.results.values() for _, r in rs
                       if result is None or r == result)


def new_id() -> str:
    return str(uuid.uuid4())


def test_lifecycle_both_formats(any_db, bus):
    """create (both formats, repeated), rename, delete: one record, then
    none, with its audit trail; works on all three backends."""
    conf = any_db.config(**bus.overrides())
    ep = CountingEndpoint(conf)
    bus.start_listener(conf, endpoint=ep, threads=1)
    iid = new_id()
    bus.publish('instance-create-end', iid)
    wait_for(lambda: count(any_db) == 1, what='record created')
    for name in ('compute-instance-create-end', 'instance-create-end'):
        bus.publish(name, iid)
    bus.publish('compute-instance-update', iid)
    wait_for(lambda: ep.count() == 4, what='4 messages handled')
    assert instance_ids(any_db) == {iid}
    assert events(any_db, iid) == ['created']
    rows = _rows(any_db)
    assert rows[0].instance_name == 'renamed-vm'
    assert rows[0].project_id == '6f70656e737461636b20342065766572'
    bus.publish('instance-delete-end', iid)
    wait_for(lambda: count(any_db) == 0, what='record closed')
    bus.publish('compute-instance-delete-end', iid)
    wait_for(lambda: ep.count() == 6, what='6 messages handled')
    assert events(any_db, iid) == ['created', 'closed']
    # nothing Nova sends besides these reaches the endpoint
    bus.publish('instance-create-start', new_id())
    bus.publish_raw('service.update', {'nova_object.data': {}})
    bus.publish('instance-create-end', iid)     # late, after the delete
    wait_for(lambda: ep.count() == 7, what='late create handled')
    time.sleep(0.3)
    assert ep.count() == 7
    assert count(any_db) == 0


def _rows(db):
    with db.engine.connect() as conn:
        return list(conn.execute(sa.select(models.VmExpire)))


@pytest.mark.parametrize('backend', SERVER_BACKENDS)
def test_duplicates_and_delete_before_create(backend, bus):
    with fixtures.Database(backend) as db:
        conf = db.config(**bus.overrides())
        ep = CountingEndpoint(conf)
        bus.start_listener(conf, endpoint=ep, threads=4)
        dup, early = new_id(), new_id()
        bus.publish('instance-delete-end', early)
        bus.publish('compute-instance-delete-end', early)
        for _ in range(5):
            bus.publish('instance-create-end', dup)
            bus.publish('compute-instance-create-end', dup)
        bus.publish('instance-create-end', early)
        bus.publish('compute-instance-create-end', early)
        wait_for(lambda: ep.count() == 14, what='14 messages handled')
        assert ep.count(worker_endpoint.REQUEUE) == 0
        assert instance_ids(db) == {dup}
        assert events(db, dup) == ['created']
        # two deletes handled at the same instant may both write the
        # tombstone; there is never a record
        assert set(events(db, early)) == {'closed'}


def test_malformed_is_dropped_once(sqlite_db, bus, caplog):
    conf = sqlite_db.config(**bus.overrides())
    ep = CountingEndpoint(conf)
    bus.start_listener(conf, endpoint=ep, threads=1)
    bus.publish_raw('instance.create.end', {'nova_object.data': {}})
    bus.publish_raw('compute.instance.create.end', 'garbage', legacy=True)
    iid = new_id()
    bus.publish('instance-create-end', iid)
    wait_for(lambda: count(sqlite_db) == 1, what='valid message applied')
    time.sleep(0.5)
    assert ep.count() == 3
    assert ep.count(worker_endpoint.HANDLED) == 3
    dropped = [r.getMessage() for r in caplog.records
               if 'Dropping malformed' in r.getMessage()]
    assert len(dropped) == 2
    assert all('message id' in m and 'None' not in m for m in dropped)


@pytest.mark.parametrize('backend', SERVER_BACKENDS)
def test_database_down_requeues_then_applies(backend, bus):
    """The database becomes unreachable: the notifications are requeued
    (not acknowledged, not lost) and applied once it is back."""
    with fixtures.Database(backend) as db:
        port = 3306 if backend == 'mysql' else 5432
        proxy = Proxy(port)
        proxied = db.url.replace(':%d/' % port, ':%d/' % proxy.port)
        factory = enginefacade._TransactionFactory()
        factory.configure(connection=proxied, max_retries=0)
        reset = db_api.context_manager().patch_factory(factory)
        try:
            conf = db.config(**bus.overrides())
            ep = CountingEndpoint(conf)
            bus.start_listener(conf, endpoint=ep, threads=2)
            first = new_id()
            bus.publish('instance-create-end', first)
            wait_for(lambda: count(db) == 1, what='first record')

            proxy.down()
            ids = [new_id() for _ in range(3)]
            for iid in ids:
                bus.publish('instance-create-end', iid)
            bus.publish('instance-delete-end', first)
            wait_for(lambda: ep.count(worker_endpoint.REQUEUE) >= 8,
                     what='requeues while the database is down')
            assert instance_ids(db) == {first}
            assert proxy.refused > 0

            proxy.up()
            wait_for(lambda: instance_ids(db) == set(ids), timeout=60,
                     what='requeued notifications applied')
            assert events(db, first) == ['created', 'closed']
        finally:
            for listener in list(bus.listeners):
                bus.stop_listener(listener)
            reset()
            factory.dispose_pool()
            proxy.close()


def test_rabbitmq_connection_drop(vhost, bus, tmp_path):
    """All broker connections of the vhost are closed while the worker is
    busy: it reconnects, and every notification is applied exactly once."""
    with fixtures.Database('postgresql') as db:
        conf = db.config(**bus.overrides())
        # small batches: the backlog drains gradually, the drop lands in it
        conf.set_override('batch_size', 10, group='worker')
        ep = CountingEndpoint(conf, delay=0.03)
        bus.start_listener(conf, endpoint=ep, threads=2)
        first = [new_id() for _ in range(300)]
        for iid in first:
            bus.publish('instance-create-end', iid)
        bus.close_publisher()
        wait_for(lambda: count(db) >= 50, what='50 records')
        vhost.close_connections()
        at_drop = count(db)
        assert at_drop < len(first), 'drop came too late to test anything'
        wait_for(lambda: count(db) == len(first), timeout=90,
                 what='all records after the connection drop')
        # the consumer is subscribed again: new messages still arrive
        second = [new_id() for _ in range(20)]
        for iid in second:
            bus.publish('compute-instance-create-end', iid)
        wait_for(lambda: count(db) == len(first) + len(second), timeout=60,
                 what='records published after the drop')
        assert instance_ids(db) == set(first) | set(second)
        created = count(db, models.VmExpireEvent.event == 'created',
                        table=models.VmExpireEvent)
        assert created == len(first) + len(second)
        print('connection drop: %d of %d applied at the drop, %d messages '
              'handled in all (redeliveries: %d)'
              % (at_drop, len(first), ep.count(),
                 ep.count() - len(first) - len(second)))


def test_own_pool_beside_other_consumers(sqlite_db, bus):
    """Another consumer of Nova's notifications (Ceilometer, with its own
    pool) still gets every message: the worker takes a copy, not them."""
    conf = sqlite_db.config(**bus.overrides())
    ours = CountingEndpoint(conf)
    bus.start_listener(conf, endpoint=ours, threads=1)
    other_conf = sqlite_db.config(**dict(
        bus.overrides(), **{'nova_notifications.pool_name': 'ceilometer_'
                            + bus.pool}))
    theirs = CountingEndpoint(other_conf)
    # the other consumer only counts; it must not touch the database
    bus.start_listener(other_conf, endpoint=_Counter(theirs), threads=1)
    ids = [new_id() for _ in range(10)]
    for iid in ids:
        bus.publish('instance-create-end', iid)
    wait_for(lambda: ours.count() == 10 and theirs.count() == 10,
             what='both pools got all 10')
    assert count(sqlite_db) == 10


class _Counter:
    """An endpoint that records messages without handling them."""

    filter_rule = worker_endpoint.NovaNotificationEndpoint.filter_rule

    def __init__(self, recorder):
        self.recorder = recorder

    def info(self, messages):
        with self.recorder.lock:
            for msg in messages:
                self.recorder.results[
                    msg['metadata'].get('message_id')].append(
                        (msg['event_type'], worker_endpoint.HANDLED))
        return worker_endpoint.HANDLED


@pytest.fixture
def private_rabbit(tmp_path):
    node = PrivateRabbit(tmp_path / 'rabbit')
    node.start()
    yield node
    node.stop()


def test_broker_restart_with_durable_queues(private_rabbit, tmp_path):
    """A real broker restart while the worker runs. With
    [oslo_messaging_rabbit] amqp_durable_queues = true (on Nova and on the
    worker) the pool's queue and its messages survive: nothing is lost."""
    durable = {'oslo_messaging_rabbit': {'amqp_durable_queues': 'true'}}
    bus = Bus(private_rabbit.url, tmp_path, extra=durable)
    with fixtures.Database('postgresql') as db:
        path = tmp_path / 'worker.conf'
        path.write_text(bus.config_text(db.url, **durable))
        conf = service.new_config()
        conf(['--config-file', str(path)], project='os-vm-expire',
             default_config_files=[])
        conf.set_override('batch_size', 10, group='worker')
        ep = CountingEndpoint(conf, delay=0.1)
        try:
            bus.start_listener(conf, endpoint=ep, threads=2)
            first = [new_id() for _ in range(200)]
            for iid in first:
                bus.publish('instance-create-end', iid)
            bus.close_publisher()
            wait_for(lambda: count(db) >= 20, what='20 records')
            private_rabbit.stop()
            at_stop = count(db)
            private_rabbit.start()
            wait_for(lambda: count(db) == len(first), timeout=120,
                     what='all records after the broker restart')
            assert at_stop < len(first), 'restart came too late'
            second = [new_id() for _ in range(20)]
            for iid in second:
                bus.publish('compute-instance-create-end', iid)
            wait_for(lambda: count(db) == len(first) + len(second),
                     timeout=60, what='records sent after the restart')
            assert instance_ids(db) == set(first) | set(second)
            print('broker restart: %d of %d applied at the stop, %d '
                  'messages handled in all' % (at_stop, len(first),
                                               ep.count()))
        finally:
            bus.cleanup()
