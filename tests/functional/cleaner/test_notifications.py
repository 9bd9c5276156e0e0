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
"""The cleaner's own notifications over a real RabbitMQ (127.0.0.1:5672)."""

import threading
import uuid

import kombu
import oslo_messaging
import pytest

from osvmexpire import service
from osvmexpire.cleaner import cycle as cycle_mod
from osvmexpire.notifier import events
from tests.unit.cleaner import fakes
from tests.unit.cleaner.fakes import DAY
from tests.unit.cleaner.fakes import T0

URL = 'rabbit://guest:guest@127.0.0.1:5672/'


class Collector:
    def __init__(self):
        self.got = []
        self.done = threading.Event()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self.got.append((publisher_id, event_type, payload))
        if len(self.got) >= 2:
            self.done.set()
        return oslo_messaging.NotificationResult.HANDLED


@pytest.fixture
def topic():
    name = 'osvmexpire_test_%s' % uuid.uuid4().hex[:10]
    yield name
    with kombu.Connection('amqp://guest:guest@127.0.0.1:5672//') as conn:
        channel = conn.channel()
        for queue in (name + '.info', 'osvmexpire-test-' + name):
            try:
                channel.queue_delete(queue)
            except Exception:
                channel = conn.channel()


def _conf(db, smtp, tmp_path, topic, driver='messagingv2', url=URL):
    path = tmp_path / 'notif.conf'
    path.write_text(
        '[DEFAULT]\ntransport_url = %s\n[database]\nconnection = %s\n'
        '[oslo_messaging_notifications]\ndriver = %s\ntopics = %s\n'
        '[smtp]\nemail_smtp_host = 127.0.0.1\nemail_smtp_port = %d\n'
        % (url, db.url, driver, topic, smtp.port))
    conf = service.new_config()
    conf(['--config-file', str(path)], project='os-vm-expire',
         default_config_files=[])
    return conf


def test_warning_and_deletion_are_published(sqlite_db, smtp, admin_ctx,
                                            settings, tmp_path, topic):
    conf = _conf(sqlite_db, smtp, tmp_path, topic)
    publisher = events.build_publisher(conf)
    assert publisher is not None
    collector = Collector()
    transport = oslo_messaging.get_notification_transport(conf)
    listener = oslo_messaging.get_notification_listener(
        transport, [oslo_messaging.Target(topic=topic)], [collector],
        executor='threading', pool='osvmexpire-test-' + topic)
    listener.start()
    try:
        ks, nova = fakes.Keystone(), fakes.Nova()
        ks.add_user('u1')
        ks.add_project('p1')
        fakes.make_vm(admin_ctx, settings, 'w', expire_at=T0 + DAY)
        fakes.make_vm(admin_ctx, settings, 'd', expire_at=T0 - DAY,
                      notified_at=T0 - 11 * DAY,
                      notified_last_at=T0 - 3 * DAY)
        nova.servers.add('d', 'p1')
        report = cycle_mod.Cycle(conf, admin_ctx, nova=nova, keystone=ks,
                                 clock=fakes.Clock(), owner_id='c',
                                 publisher=publisher).run()
        assert report.warned == 1 and report.deleted == 1
        assert collector.done.wait(20)
    finally:
        listener.stop()
        listener.wait()
        transport.cleanup()
        publisher.transport.cleanup()
    kinds = {e: p for _, e, p in collector.got}
    assert set(kinds) == {'vmexpire.warning.sent', 'vmexpire.deleted'}
    assert kinds['vmexpire.warning.sent']['instance_id'] == 'w'
    assert kinds['vmexpire.warning.sent']['which'] == 'first_warning'
    assert kinds['vmexpire.deleted']['instance_id'] == 'd'
    assert all(p.startswith('vmexpire.cleaner.') for p, _, _ in
               collector.got)


def test_disabled_without_driver(sqlite_db, smtp, tmp_path, topic):
    conf = _conf(sqlite_db, smtp, tmp_path, topic, driver='')
    assert events.build_publisher(conf) is None


def test_bad_transport_only_disables_notifications(sqlite_db, smtp,
                                                   tmp_path, topic):
    conf = _conf(sqlite_db, smtp, tmp_path, topic, url='nonsense://x')
    assert events.safe_publisher(conf) is None
