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
"""[cleaner] options: warnings, deletion and reconciliation."""

from oslo_config import cfg

GROUP = 'cleaner'

OPTS = [
    cfg.IntOpt('interval', default=300, min=1,
               help='Seconds between two cleaner cycles. The first cycle '
                    'runs right after start.'),
    cfg.IntOpt('notify_before_days', default=10, min=0,
               help='First warning, in days before expiry. A server is '
                    'never deleted sooner than this many days after its '
                    'owner received the first warning, even if the '
                    'warning went out late.'),
    cfg.IntOpt('notify_before_days_last', default=2, min=0,
               help='Last warning, in days before expiry. A server is '
                    'never deleted sooner than this many days after its '
                    'owner received the last warning.'),
    cfg.BoolOpt('dry_run', default=False,
                help='Log and record in the audit trail what the cleaner '
                     'would do (warn, delete) without sending mail, '
                     'deleting servers or changing any record.'),
    cfg.IntOpt('max_deletions_per_cycle', default=100, min=0,
               help='Most servers one cycle may delete; the rest waits '
                    'for the next cycle and the cleaner logs a warning. A '
                    'guard against a runaway cycle (a wrong clock, a bad '
                    'migration). 0 means no limit.'),
    cfg.IntOpt('batch_size', default=500, min=1,
               help='Records read from the database per query while '
                    'scanning due records.'),
    cfg.IntOpt('claim_timeout', default=600, min=10,
               help='Seconds a cleaner owns a record it claimed. If the '
                    'cleaner dies, another may take the record once the '
                    'claim has lapsed. Must exceed the time of one '
                    'warning or deletion.'),
    cfg.IntOpt('nova_concurrency', default=16, min=1,
               help='Deletions a cleaner runs in parallel (each: its '
                    'database steps, then the Nova re-check and delete '
                    'calls). Nova needs two calls per server: at 100 ms '
                    'each, 1,000 servers take about 13 s at 16, 26 s at 8. '
                    'More gets through large backlogs faster but puts more '
                    'load on the Nova API and holds as many database '
                    'connections (keep it below the pool size, '
                    '[database] max_pool_size + max_overflow).'),
    cfg.IntOpt('sync_interval', default=3600, min=0,
               help='Seconds between two reconciliations with Nova (list '
                    'every server, create missing records, close records '
                    'of servers that are gone). 0 disables it; '
                    '"osvmexpire-manage vm sync" runs one on demand.'),
    cfg.IntOpt('sync_min_duration', default=0, min=0,
               help='Days of life given to a server that reconciliation '
                    'finds without a record, counted from now. 0 means '
                    'max_vm_duration. Never less than the full warning '
                    'period, so reconciliation never causes an immediate '
                    'deletion.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    return [(GROUP, OPTS)]
