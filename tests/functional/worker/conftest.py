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
"""Real RabbitMQ for the worker's tests, isolated per test.

RabbitMQ on 127.0.0.1:5672 (guest/guest, override the server URL with
OSVMEXPIRE_TEST_RABBIT_URL). Each test session gets its own virtual host,
made with ``rabbitmqctl`` and deleted afterwards, and every test its own
exchange, topics and pool inside it, so tests never see each other's
messages nor those of other programs on the broker. A broker that does
not answer fails the tests; nothing is skipped.
"""

import os
import socket
import subprocess
import threading
import time
import uuid

import oslo_messaging
import pytest
import sqlalchemy as sa
from oslo_config import cfg

from osvmexpire.db import models
from osvmexpire.worker import service as worker_service
from tests.unit.worker import fakes

RABBIT = os.environ.get('OSVMEXPIRE_TEST_RABBIT_URL',
                        'rabbit://guest:guest@127.0.0.1:5672')


def rabbitmqctl(*args: str) -> str:
    result = subprocess.run(['rabbitmqctl', '-q', *args], check=False,
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError('rabbitmqctl %s failed (%d): %s'
                           % (' '.join(args), result.returncode,
                              result.stderr.strip() or result.stdout))
    return result.stdout


class VHost:
    """A RabbitMQ virtual host for guest; ``delete()`` removes it."""

    def __init__(self):
        self.name = 'osvmexpire_t_%s' % uuid.uuid4().hex[:10]
        rabbitmqctl('add_vhost', self.name)
        rabbitmqctl('set_permissions', '-p', self.name, 'guest',
                    '.*', '.*', '.*')
        self.url = '%s/%s' % (RABBIT, self.name)

    def close_connections(self) -> None:
        rabbitmqctl('close_all_connections', '-p', self.name,
                    'os-vm-expire connection drop test')

    def delete(self) -> None:
        rabbitmqctl('delete_vhost', self.name)


@pytest.fixture(scope='session')
def vhost():
    host = VHost()
    yield host
    host.delete()


class Bus:
    """One test's exchange, topics and pool, with a publisher and a way to
    run the worker's real listener in this process."""

    def __init__(self, url: str, tmpdir, extra: dict | None = None):
        """``extra``: {group: {option: value}} for the publisher, as in
        Nova's configuration."""
        uid = uuid.uuid4().hex[:8]
        self.url = url
        self.exchange = 'nova_%s' % uid
        self.topic = 'versioned_%s' % uid
        self.legacy_topic = 'legacy_%s' % uid
        self.pool = 'os_vm_expire_%s' % uid
        # Nova names its exchange with [DEFAULT] control_exchange; a file
        # is the public way to set it before oslo.messaging registers it.
        path = tmpdir / ('publisher-%s.conf' % uid)
        text = '[DEFAULT]\ncontrol_exchange = %s\n' % self.exchange
        for group, values in (extra or {}).items():
            text += '[%s]\n' % group + ''.join(
                '%s = %s\n' % kv for kv in values.items())
        path.write_text(text)
        self.pub_conf = cfg.ConfigOpts()
        self.pub_conf(['--config-file', str(path)], project='nova-test')
        self._pub_transport = None
        self._notifiers = {}
        self.listeners = []

    def overrides(self) -> dict:
        return {'nova_notifications.control_exchange': self.exchange,
                'nova_notifications.topic': self.topic,
                'nova_notifications.legacy_topic': self.legacy_topic,
                'nova_notifications.pool_name': self.pool}

    def config_text(self, db_url: str, **extra) -> str:
        """A worker configuration file for this bus and a database."""
        lines = ['[DEFAULT]', 'transport_url = %s' % self.url]
        lines += ['%s = %s' % kv for kv in extra.pop('DEFAULT', {}).items()]
        lines += ['[database]', 'connection = %s' % db_url, 'max_retries = 0',
                  '[nova_notifications]',
                  'control_exchange = %s' % self.exchange,
                  'topic = %s' % self.topic,
                  'legacy_topic = %s' % self.legacy_topic,
                  'pool_name = %s' % self.pool]
        for group, values in extra.items():
            lines.append('[%s]' % group)
            lines += ['%s = %s' % kv for kv in values.items()]
        return '\n'.join(lines) + '\n'

    # -- publishing, as Nova does ------------------------------------------
    def _notifier(self, legacy: bool, publisher_id: str):
        key = (legacy, publisher_id)
        if key not in self._notifiers:
            if self._pub_transport is None:
                self._pub_transport = (
                    oslo_messaging.get_notification_transport(
                        self.pub_conf, url=self.url))
            self._notifiers[key] = oslo_messaging.Notifier(
                self._pub_transport, publisher_id, driver='messagingv2',
                topics=[self.legacy_topic if legacy else self.topic])
        return self._notifiers[key]

    def publish(self, name: str, instance_id: str | None = None,
                **changes) -> dict:
        """Send a fixture notification (``instance-create-end``...) as
        Nova would: legacy ones on the legacy topic."""
        msg = fakes.notification(name, instance_id, **changes)
        self.publish_raw(msg['event_type'], msg['payload'],
                         legacy=name.startswith('compute-'),
                         publisher_id=msg['publisher_id'])
        return msg

    def publish_raw(self, event_type: str, payload, legacy: bool = False,
                    publisher_id: str = 'nova-compute:test') -> None:
        self._notifier(legacy, publisher_id).info({}, event_type, payload)

    def close_publisher(self) -> None:
        if self._pub_transport is not None:
            self._pub_transport.cleanup()
        self._pub_transport = None
        self._notifiers = {}

    # -- the worker's listener, in this process ----------------------------
    def start_listener(self, conf, endpoint=None, threads: int = 4):
        transport = oslo_messaging.get_notification_transport(conf,
                                                              url=self.url)
        listener = worker_service.build_listener(conf, transport=transport,
                                                 endpoint=endpoint)
        listener.start(override_pool_size=threads)
        self.listeners.append(listener)
        return listener

    def stop_listener(self, listener) -> None:
        listener.stop()
        listener.wait()
        listener.transport.cleanup()
        self.listeners.remove(listener)

    def cleanup(self) -> None:
        for listener in list(self.listeners):
            self.stop_listener(listener)
        self.close_publisher()


@pytest.fixture
def bus(vhost, tmp_path):
    b = Bus(vhost.url, tmp_path)
    yield b
    b.cleanup()


# -- database helpers --------------------------------------------------------

def count(db, *where, table=models.VmExpire) -> int:
    with db.engine.connect() as conn:
        stmt = sa.select(sa.func.count()).select_from(table)
        for clause in where:
            stmt = stmt.where(clause)
        return conn.scalar(stmt)


def instance_ids(db) -> set[str]:
    with db.engine.connect() as conn:
        return set(conn.scalars(sa.select(models.VmExpire.instance_id)))


def events(db, instance_id: str) -> list[str]:
    E = models.VmExpireEvent
    with db.engine.connect() as conn:
        return list(conn.scalars(sa.select(E.event).where(
            E.instance_id == instance_id).order_by(E.id)))


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1,
             what: str = 'condition'):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %.0f s waiting for %s'
                                 % (timeout, what))
        time.sleep(interval)


# -- a TCP proxy that can make a database unreachable ------------------------

class Proxy:
    """Forwards 127.0.0.1:<port> to a server port until ``down()``.

    Down, it cuts every open connection and refuses new ones at once (it
    accepts and closes them), which is what a database restart or a
    network cut looks like to a client.
    """

    def __init__(self, target_port: int):
        self.target = ('127.0.0.1', target_port)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.is_up = True
        self.refused = 0
        self._conns = set()
        self._lock = threading.Lock()
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._stop:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            if not self.is_up:
                self.refused += 1
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._conns.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b),
                                 daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            with self._lock:
                self._conns.discard(src)
                self._conns.discard(dst)

    def down(self):
        self.is_up = False
        with self._lock:
            conns = list(self._conns)
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def up(self):
        self.is_up = True

    def close(self):
        self._stop = True
        self.down()
        self.sock.close()


# -- a private RabbitMQ node that a test may stop and start ------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class PrivateRabbit:
    """A RabbitMQ node of its own (loopback, free ports, data in ``path``)
    so a test can really restart a broker without touching the shared one.
    """

    BIN = '/usr/lib/rabbitmq/bin'

    def __init__(self, path):
        self.path = path
        self.port = free_port()
        self.node = 'osvmexpire%s@localhost' % uuid.uuid4().hex[:8]
        path.mkdir(parents=True, exist_ok=True)
        (path / 'enabled_plugins').write_text('[].\n')
        (path / 'rabbitmq.conf').write_text(
            'listeners.tcp.default = 127.0.0.1:%d\n'
            'loopback_users.guest = true\n' % self.port)
        (path / 'env.conf').write_text('')
        loopback = '-kernel inet_dist_use_interface {127,0,0,1}'
        self.env = dict(
            os.environ, HOME=str(path), ERL_EPMD_ADDRESS='127.0.0.1',
            RABBITMQ_NODENAME=self.node, RABBITMQ_NODE_IP_ADDRESS='127.0.0.1',
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(free_port()),
            RABBITMQ_CONFIG_FILE=str(path / 'rabbitmq.conf'),
            RABBITMQ_CONF_ENV_FILE=str(path / 'env.conf'),
            RABBITMQ_MNESIA_BASE=str(path / 'mnesia'),
            RABBITMQ_LOG_BASE=str(path / 'log'),
            RABBITMQ_PID_FILE=str(path / 'rabbit.pid'),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(path / 'enabled_plugins'),
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=loopback,
            RABBITMQ_CTL_ERL_ARGS=loopback)
        self.url = 'rabbit://guest:guest@127.0.0.1:%d/' % self.port
        self.pid = None

    def start(self) -> None:
        subprocess.run([self.BIN + '/rabbitmq-server', '-detached'],
                       env=self.env, check=True, timeout=60,
                       capture_output=True)
        subprocess.run([self.BIN + '/rabbitmqctl', '-n', self.node, '-q',
                        'wait', '--timeout', '90',
                        str(self.path / 'rabbit.pid')],
                       env=self.env, check=True, timeout=120,
                       capture_output=True)
        self.pid = int((self.path / 'rabbit.pid').read_text().strip())

    def stop(self) -> None:
        if self.pid is None:
            return
        os.kill(self.pid, 15)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            os.kill(self.pid, 9)
        self.pid = None
