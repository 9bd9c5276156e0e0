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
"""The listener process: RabbitMQ in, :mod:`.endpoint` does the work.

One cotyledon process per worker, each with its own RabbitMQ connection
and an oslo.messaging notification listener on the threading executor.
All workers join the same pool (``[nova_notifications] pool_name``), so
RabbitMQ gives the pool one copy of every notification, beside the copies
of other consumers such as Ceilometer, and spreads it over the workers.

A message is acknowledged only after its batch was applied and
committed; REQUEUE returns the batch to the queue. A lost connection is
re-established by oslo.messaging, and messages that were unacknowledged
at that moment are delivered again (the handlers are idempotent).
"""

import cotyledon
import oslo_messaging
from oslo_config import cfg
from oslo_log import log
from oslo_service import backend

from osvmexpire import exception
from osvmexpire.worker import endpoint as worker_endpoint

LOG = log.getLogger(__name__)


def targets(conf: cfg.ConfigOpts) -> list[oslo_messaging.Target]:
    """The versioned topic, plus the legacy one when configured."""
    group = conf.nova_notifications
    topics = [group.topic]
    if group.legacy_topic and group.legacy_topic not in topics:
        topics.append(group.legacy_topic)
    return [oslo_messaging.Target(topic=topic,
                                  exchange=group.control_exchange)
            for topic in topics]


def build_listener(conf: cfg.ConfigOpts, transport=None, endpoint=None):
    """A batch notification listener (not started) for Nova's instance
    events: the endpoint gets up to ``[worker] batch_size`` notifications
    at once, or what arrived within ``batch_timeout`` seconds.

    ``transport`` defaults to ``[oslo_messaging_notifications]
    transport_url`` or ``[DEFAULT] transport_url``.
    """
    if transport is None:
        transport = oslo_messaging.get_notification_transport(conf)
    if endpoint is None:
        endpoint = worker_endpoint.NovaNotificationEndpoint(conf)
    return oslo_messaging.get_batch_notification_listener(
        transport, targets(conf), [endpoint], executor='threading',
        allow_requeue=True, pool=conf.nova_notifications.pool_name,
        batch_size=conf.worker.batch_size,
        batch_timeout=conf.worker.batch_timeout)


class NotificationWorker(cotyledon.Service):
    """One listener process."""

    name = 'osvmexpire-worker'

    def __init__(self, worker_id: int, conf: cfg.ConfigOpts):
        super().__init__(worker_id)
        self.conf = conf
        self.listener = None

    def run(self) -> None:
        # Built here, after the fork: connections are never shared.
        self.listener = build_listener(self.conf)
        self.listener.start(
            override_pool_size=self.conf.worker.executor_thread_pool_size)
        group = self.conf.nova_notifications
        backend_type = backend.get_backend_type()
        LOG.info('Worker %d listening on exchange %s, topics %s, pool %s '
                 '(oslo.service backend: %s)', self.worker_id,
                 group.control_exchange,
                 ', '.join(t.topic for t in targets(self.conf)),
                 group.pool_name,
                 backend_type.value if backend_type else 'none')

    def terminate(self) -> None:
        if self.listener is not None:
            # Messages in progress finish and are acknowledged; the rest
            # stays in the queue for the other workers or the next start.
            self.listener.stop()
            self.listener.wait()
            self.listener.transport.cleanup()


def check_transport(conf: cfg.ConfigOpts) -> None:
    """Fail at start, in one line, on a transport URL that cannot work.

    Creating a transport does not connect, so this is cheap; without it a
    typo would make every child process die and be restarted in a loop.
    """
    try:
        oslo_messaging.get_notification_transport(conf).cleanup()
    except (oslo_messaging.InvalidTransportURL,
            oslo_messaging.DriverLoadFailure) as exc:
        raise exception.OsVmExpireError(
            'invalid notification transport_url: %s' % exc)


def run(conf: cfg.ConfigOpts, workers: int) -> None:
    """Run ``workers`` listener processes until SIGTERM or SIGINT."""
    check_transport(conf)
    manager = cotyledon.ServiceManager()
    manager.add(NotificationWorker, workers=workers, args=(conf,))
    manager.run()
