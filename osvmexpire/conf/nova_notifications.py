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
"""[nova_notifications] options: where the worker listens for Nova."""

from oslo_config import cfg

GROUP = 'nova_notifications'

OPTS = [
    cfg.StrOpt('control_exchange', default='nova',
               help='RabbitMQ exchange Nova publishes notifications on.'),
    cfg.StrOpt('topic', default='versioned_notifications',
               help='Topic of Nova versioned notifications '
                    '([notifications] versioned_notifications_topics in '
                    'nova.conf).'),
    cfg.StrOpt('legacy_topic', default='',
               help='Topic of Nova legacy (unversioned) notifications, '
                    'usually "notifications". Empty: not listened to.'),
    cfg.StrOpt('pool_name', default='os_vm_expire',
               help='Listener pool. Every pool gets its own copy of each '
                    'notification, so other consumers (Ceilometer...) '
                    'are not robbed; workers of one pool share the load.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    return [(GROUP, OPTS)]
