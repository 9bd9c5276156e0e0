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
"""SMTP server that stores every mail it receives as a file (test only).

Usage: ``smtp_catcher.py PORT MAIL_DIR``. Each message becomes
``MAIL_DIR/<time>-<n>.eml``, written atomically (a temporary name, then
a rename), with the SMTP envelope in ``X-Envelope-From`` and
``X-Envelope-To`` headers so Bcc recipients are visible too.
"""

import itertools
import os
import signal
import sys
import threading
import time

from aiosmtpd.controller import Controller


class MailDir:
    def __init__(self, path: str) -> None:
        self.path = path
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            name = '%s-%04d.eml' % (time.strftime('%Y%m%dT%H%M%S'),
                                    next(self.counter))
        head = 'X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n' % (
            envelope.mail_from, ', '.join(envelope.rcpt_tos))
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode()
        tmp = os.path.join(self.path, '.' + name + '.tmp')
        with open(tmp, 'wb') as f:
            f.write(head.encode() + data)
        os.rename(tmp, os.path.join(self.path, name))
        print('stored %s for %s' % (name, ', '.join(envelope.rcpt_tos)),
              flush=True)
        return '250 Message accepted for delivery'


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    os.makedirs(path, exist_ok=True)
    controller = Controller(MailDir(path), hostname='127.0.0.1', port=port)
    controller.start()
    print('SMTP catcher on 127.0.0.1:%d, mails in %s' % (port, path),
          flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    stop.wait()
    controller.stop()


if __name__ == '__main__':
    main()
