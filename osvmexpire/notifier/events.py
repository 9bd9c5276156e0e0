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
"""The cleaner's own notifications: ``vmexpire.warning.sent``,
``vmexpire.deleted``, over oslo.messaging, for tools that want to react.

Off unless ``[oslo_messaging_notifications] driver`` is set (for example
``messagingv2``); the transport is ``[oslo_messaging_notifications]
transport_url`` or ``[DEFAULT] transport_url``. A failed notification is
logged and never affects the cleaner's work.
"""

import socket

from oslo_log import log

from osvmexpire import context as os_context

LOG = log.getLogger(__name__)

PUBLISHER = 'vmexpire.cleaner'


def build_publisher(conf):
    """A callable ``(event_type, payload)``, or None if notifications are
    disabled. oslo.messaging is imported only when this is called."""
    import oslo_messaging

    class _Serializer(oslo_messaging.NoOpSerializer):
        def serialize_context(self, ctxt):
            return ctxt.to_dict()

    transport = oslo_messaging.get_notification_transport(conf)
    notifier = oslo_messaging.Notifier(
        transport, publisher_id='%s.%s' % (PUBLISHER, socket.gethostname()),
        serializer=_Serializer())
    drivers = [d for d in conf.oslo_messaging_notifications.driver
               if d and d != 'noop']
    if not drivers or not notifier.is_enabled():
        transport.cleanup()
        return None
    ctx = os_context.get_admin_context()

    def publish(event_type: str, payload: dict) -> None:
        notifier.info(ctx, event_type, payload)
    publish.transport = transport
    return publish


def safe_publisher(conf):
    """:func:`build_publisher`, but a broken setup only disables
    notifications (logged): they are optional, the cleaner's work is not."""
    try:
        return build_publisher(conf)
    except Exception:
        LOG.exception('cleaner: notifications disabled: cannot set up the '
                      'oslo.messaging notifier')
        return None
