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
"""Rule 8 for the cleaner's optional notifications: a broker that is down
must not hang the cycle (oslo.messaging retries forever by default)."""

import socket
import threading

from osvmexpire.cleaner import cycle as cycle_mod
from osvmexpire.notifier import events
from tests.functional.cleaner.test_notifications import _conf
from tests.unit.cleaner import fakes
from tests.unit.cleaner.fakes import DAY
from tests.unit.cleaner.fakes import T0


def _silent_port(stack):
    """A port that accepts TCP connections and never answers."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    sock.listen(16)
    stack.append(sock)
    return sock.getsockname()[1]


def test_broker_down_does_not_hang_the_cycle(sqlite_db, smtp, admin_ctx,
                                             settings, tmp_path):
    stack = []
    url = 'rabbit://guest:guest@127.0.0.1:%d/' % _silent_port(stack)
    conf = _conf(sqlite_db, smtp, tmp_path, 'osvmexpire_down', url=url)
    publisher = events.build_publisher(conf)
    assert publisher is not None
    ks, nova = fakes.Keystone(), fakes.Nova()
    ks.add_user('u1')
    ks.add_project('p1')
    fakes.make_vm(admin_ctx, settings, 'd', expire_at=T0 - DAY,
                  notified_at=T0 - 11 * DAY, notified_last_at=T0 - 3 * DAY)
    nova.servers.add('d', 'p1')
    reports = []
    runner = threading.Thread(target=lambda: reports.append(cycle_mod.Cycle(
        conf, admin_ctx, nova=nova, keystone=ks, clock=fakes.Clock(),
        owner_id='c', publisher=publisher).run()), daemon=True)
    try:
        runner.start()
        runner.join(60)
        assert not runner.is_alive(), 'the cycle hangs on the broker'
    finally:
        publisher.transport.cleanup()
        for sock in stack:
            sock.close()
    assert reports[0].deleted == 1
