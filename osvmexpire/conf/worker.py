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
"""[worker] options of the notification listener process."""

from oslo_config import cfg

GROUP = 'worker'

OPTS = [
    cfg.IntOpt('workers', default=1, min=1,
               help='Listener processes osvmexpire-worker runs; they '
                    'share the notification pool and split the load.'),
    cfg.IntOpt('executor_thread_pool_size', default=8, min=1,
               help='Threads per listener process handling '
                    'notifications.'),
    cfg.IntOpt('batch_size', default=500, min=1,
               help='Notifications a listener hands to the endpoint at '
                    'once. The creations in a batch are stored in one '
                    'database transaction, which is what makes a burst of '
                    'boots cheap (a transaction and its commit cost as '
                    'much as about a hundred rows); 1 handles every '
                    'notification alone.'),
    cfg.FloatOpt('batch_timeout', default=0.5, min=0.0,
                 help='Seconds a listener waits for a batch to fill before '
                      'it handles what it has: the longest a notification '
                      'waits when traffic is low.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    return [(GROUP, OPTS)]
