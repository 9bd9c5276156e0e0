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
"""Run the ExecStart of a shipped systemd unit and stop it as systemd does.

No systemd manager runs in CI (the container's PID 1 is not systemd), so
this plays its part for one unit: it takes the unit's ``ExecStart=`` line,
points the program at ``--bin-dir`` and replaces the paths given with
``--replace OLD=NEW`` (nothing else changes), and starts it in a process
group of its own (the unit's control group). It is up when ``--ready``
appears in its output (what the journal would show) or, for
``Type=notify``, when ``READY=1`` arrives on ``NOTIFY_SOCKET``. Then
``KillSignal=`` (SIGTERM by default) goes to every process of the group,
as with systemd's default ``KillMode=control-group``, and the main process
must exit 0 within ``TimeoutStopSec=`` and leave no process behind: with
``Restart=on-failure``, a stop that does not exit 0 would make systemd
restart the service.
"""

import argparse
import configparser
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from procs import alive
from procs import descendants
from procs import group_alive


def read_unit(path: str) -> dict:
    parser = configparser.ConfigParser(strict=False, interpolation=None,
                                       delimiters=('=',))
    parser.optionxform = str
    with open(path) as f:
        parser.read_string(f.read())
    return dict(parser['Service'])


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=5).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('unit')
    parser.add_argument('--bin-dir', required=True)
    parser.add_argument('--replace', action='append', default=[],
                        metavar='OLD=NEW', help='in the ExecStart arguments')
    parser.add_argument('--ready',
                        help='text in the output that says it is up '
                             '(not for Type=notify)')
    parser.add_argument('--ready-http', metavar='URL',
                        help='after READY=1, also wait until URL answers '
                             '(the API has loaded in its workers)')
    parser.add_argument('--wait-log', nargs=3,
                        metavar=('FILE', 'TEXT', 'COUNT'),
                        help='then wait until TEXT is COUNT times in FILE '
                             '(every uwsgi worker has loaded the API)')
    parser.add_argument('--workdir', default='.')
    parser.add_argument('--timeout', type=float, default=90)
    args = parser.parse_args()

    service = read_unit(args.unit)
    command = service['ExecStart']
    for pair in args.replace:
        old, new = pair.split('=', 1)
        if old not in command:
            raise SystemExit('%s: ExecStart does not contain %s'
                             % (args.unit, old))
        command = command.replace(old, new)
    argv = shlex.split(command)
    argv[0] = os.path.join(os.path.abspath(args.bin_dir),
                           os.path.basename(argv[0]))
    notify_type = service.get('Type') == 'notify'
    if not notify_type and not args.ready:
        raise SystemExit('--ready is needed for Type=%s'
                         % service.get('Type', 'simple'))
    kill_signal = getattr(signal, service.get('KillSignal', 'SIGTERM'))
    stop_timeout = float(service.get('TimeoutStopSec', '90'))
    name = os.path.basename(args.unit)
    print('%s: %s' % (name, ' '.join(argv)))

    env = {k: v for k, v in os.environ.items() if k != 'OSVMEXPIRE_CONFIG'}
    lines = []
    ready = threading.Event()
    notify = None
    if notify_type:
        path = os.path.abspath(os.path.join(args.workdir, 'notify.sock'))
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(path)
        env['NOTIFY_SOCKET'] = path

        def listen():
            while not ready.is_set():
                try:
                    message = notify.recv(4096).decode()
                except OSError:
                    return
                if 'READY=1' in message.split('\n'):
                    ready.set()
        threading.Thread(target=listen, daemon=True).start()
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env,
                            cwd=args.workdir, start_new_session=True)

    def read():
        for line in proc.stdout:
            lines.append(line)
            if args.ready and args.ready in line:
                ready.set()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def kill_group(sig):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass

    def fail(message):
        kill_group(signal.SIGKILL)
        proc.wait()
        sys.stderr.write(''.join(lines[-40:]))
        raise SystemExit('%s: %s' % (name, message))

    try:
        while not ready.wait(0.2):
            if proc.poll() is not None:
                fail('exited with %s before it was ready' % proc.returncode)
            if time.monotonic() - start > args.timeout:
                fail('not ready within %ds (%s)' % (
                    args.timeout, 'no READY=1' if notify_type
                    else 'no %r in its output' % args.ready))
        print('%s: %s after %.2fs' % (
            name, 'READY=1' if notify_type else 'ready',
            time.monotonic() - start))
        if args.ready_http:
            while not answers(args.ready_http):
                if proc.poll() is not None:
                    fail('exited with %s' % proc.returncode)
                if time.monotonic() - start > args.timeout:
                    fail('%s did not answer within %ds'
                         % (args.ready_http, args.timeout))
                time.sleep(0.2)
            print('%s: %s answers after %.2fs' % (
                name, args.ready_http, time.monotonic() - start))
        if args.wait_log:
            path, text, count = args.wait_log
            while not os.path.exists(path) or open(
                    path, errors='replace').read().count(text) < int(count):
                if time.monotonic() - start > args.timeout:
                    fail('%s: not %s times %r within %ds'
                         % (path, count, text, args.timeout))
                time.sleep(0.2)
            print('%s: %s x %r in %s after %.2fs' % (
                name, count, text, os.path.basename(path),
                time.monotonic() - start))
        pids = descendants(proc.pid)
        stop = time.monotonic()
        kill_group(kill_signal)
        try:
            rc = proc.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            fail('still running %ds (TimeoutStopSec) after %s'
                 % (stop_timeout, kill_signal.name))
        reader.join(5)
        if rc != 0:
            fail('exited with %d on %s: systemd would count a failure'
                 % (rc, kill_signal.name))
        # systemd waits for the whole group, then SIGKILLs what is left
        while True:
            left = [p for p in pids if alive(p)]
            if not left and not group_alive(proc.pid):
                break
            if time.monotonic() - stop > stop_timeout:
                fail('processes left %ds after the stop: %s'
                     % (stop_timeout, left))
            time.sleep(0.1)
        if any('Traceback' in line for line in lines):
            fail('a traceback in its output')
        print('%s: %d process(es) of the group stopped'
              % (name, len(pids) + 1))
    finally:
        if notify is not None:
            notify.close()
        kill_group(signal.SIGKILL)
        proc.wait()
    print('%s: %s -> exit 0 in %.2fs, nothing left'
          % (name, kill_signal.name, time.monotonic() - stop))
    return 0


if __name__ == '__main__':
    sys.exit(main())
