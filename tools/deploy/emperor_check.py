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
"""Start the API from the shipped uwsgi vassal under an emperor, check it.

The emperor runs with the command of the deployment guide
(``uwsgi --master --die-on-term --emperor DIR --logto LOG --stats ADDR``),
only its paths made temporary. The shipped vassal is copied with two
lines changed: ``http-socket`` (a free port on 127.0.0.1) and
``env = OSVMEXPIRE_CONFIG=...``. Then:

1. the emperor reports ``READY=1`` on ``NOTIFY_SOCKET`` (what
   ``Type=notify`` in osvmexpire-api.service waits for);
2. ``GET /`` answers 300 with the version document;
3. an authenticated ``GET /v1/{project}/vmexpires/`` answers 200;
4. the stats server (``--stats``) answers for the emperor's master;
5. with ``--reload-endpoint``: a changed configuration is read after the
   vassal is touched (the reload of the install guide);
6. SIGTERM stops the emperor with exit code 0 and leaves no process.

Exits non-zero with a one-line reason on the first failure.
"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from procs import alive
from procs import descendants

PORT_RANGE = range(18300, 18400)


def free_port(exclude=()) -> int:
    """A port of 18300-18399 nobody listens on (checked by binding it)."""
    for port in PORT_RANGE:
        if port in exclude:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(('127.0.0.1', port))
            except OSError:
                continue
            return port
    raise SystemExit('no free port in 18300-18399')


def make_vassal(shipped: str, dest: str, port: int, config: str) -> None:
    """Copy the shipped vassal, pointing it at a test port and config."""
    with open(shipped) as f:
        text = f.read()
    for key, value in (('http-socket', '127.0.0.1:%d' % port),
                       ('env', 'OSVMEXPIRE_CONFIG=%s' % config)):
        text, count = re.subn(r'(?m)^%s = .*$' % re.escape(key),
                              '%s = %s' % (key, value), text)
        if count != 1:
            raise SystemExit('%s: expected one "%s = " line, found %d'
                             % (shipped, key, count))
    with open(dest, 'w') as f:
        f.write(text)


def http(url: str, headers: dict, method: str = 'GET',
         body: bytes | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, headers=headers, method=method,
                                 data=body)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b'null')
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body)
        except ValueError:
            return exc.code, {'raw': body.decode(errors='replace')}


def stats(port: int) -> dict:
    with socket.create_connection(('127.0.0.1', port), timeout=10) as sock:
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return json.loads(b''.join(chunks))


def wait_ready(notify: socket.socket, emperor: subprocess.Popen,
               timeout: float) -> float:
    start = time.monotonic()
    notify.settimeout(0.5)
    while time.monotonic() - start < timeout:
        if emperor.poll() is not None:
            raise SystemExit('the emperor exited with %s before it was '
                             'ready' % emperor.returncode)
        try:
            message = notify.recv(4096).decode()
        except TimeoutError:
            continue
        if 'READY=1' in message.split('\n'):
            return time.monotonic() - start
    raise SystemExit('no READY=1 on NOTIFY_SOCKET within %ds' % timeout)


def wait_http(url: str, timeout: float) -> None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            http(url, {})
            return
        except (OSError, urllib.error.URLError):
            time.sleep(0.2)
    raise SystemExit('%s did not answer within %ds' % (url, timeout))


def reload_check(base: str, config: str, endpoint: str, vassal: str,
                 timeout: float) -> None:
    """Change the config, touch the vassal, wait for the new value."""
    with open(config, 'a') as f:
        f.write('\n[api]\npublic_endpoint = %s\n' % endpoint)
    start = time.monotonic()
    # The emperor compares whole-second mtimes: a touch within the second
    # the vassal was written would go unnoticed, so move it clearly later.
    stamp = max(time.time(), os.stat(vassal).st_mtime + 2)
    os.utime(vassal, (stamp, stamp))
    href = None
    while time.monotonic() - start < timeout:
        try:
            status, body = http(base + '/', {})
            href = body['versions']['values'][0]['links'][0]['href']
        except (OSError, urllib.error.URLError, KeyError, TypeError):
            href = None
        if href and href.startswith(endpoint):
            print('touch vassal: configuration re-read after %.2fs (links '
                  'now %s)' % (time.monotonic() - start, href))
            return
        time.sleep(0.5)
    raise SystemExit('the API did not re-read its configuration within '
                     '%ds of touching the vassal (links: %s)'
                     % (timeout, href))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--uwsgi', required=True)
    parser.add_argument('--vassal', required=True,
                        help='the shipped vassal (etc/uwsgi/...ini)')
    parser.add_argument('--config', required=True,
                        help='osvmexpire.conf the API reads')
    parser.add_argument('--project', required=True,
                        help='project id of the authenticated list')
    parser.add_argument('--header', action='append', default=[],
                        help='NAME: VALUE sent with the list request')
    parser.add_argument('--expect-records', type=int,
                        help='number of records the list must show')
    parser.add_argument('--extend', action='store_true',
                        help='extend the first listed record (PUT, 202), '
                             'and send a body over 64 KiB (413)')
    parser.add_argument('--other-project',
                        help='a project the credentials do not belong to: '
                             'its list must be refused with 403')
    parser.add_argument('--reload-endpoint',
                        help='append [api] public_endpoint = this URL to '
                             'the config, touch the vassal, expect it in '
                             'the version document')
    parser.add_argument('--workdir', help='default: a new temporary dir')
    parser.add_argument('--timeout', type=float, default=90)
    args = parser.parse_args()

    work = args.workdir or tempfile.mkdtemp(prefix='osvmexpire-uwsgi.')
    vassals = os.path.join(work, 'vassals')
    os.makedirs(vassals, exist_ok=True)
    api_port = free_port()
    stats_port = free_port(exclude=(api_port,))
    make_vassal(args.vassal, os.path.join(vassals, 'osvmexpire-api.ini'),
                api_port, args.config)
    log = os.path.join(work, 'osvmexpire-api.log')
    notify_path = os.path.join(work, 'notify.sock')
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    headers = dict(h.split(':', 1) for h in args.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}

    command = [args.uwsgi, '--master', '--die-on-term',
               '--emperor', vassals, '--logto', log,
               '--stats', '127.0.0.1:%d' % stats_port]
    print('emperor: %s' % ' '.join(command))
    env = dict(os.environ, NOTIFY_SOCKET=notify_path)
    env.pop('OSVMEXPIRE_CONFIG', None)
    t0 = time.monotonic()
    emperor = subprocess.Popen(command, env=env, cwd=work)
    base = 'http://127.0.0.1:%d' % api_port
    try:
        ready = wait_ready(notify, emperor, args.timeout)
        print('READY=1 from the emperor after %.2fs' % ready)
        wait_http(base + '/', args.timeout)
        status, body = http(base + '/', {'Accept': 'application/json'})
        if status != 300 or not isinstance(body, dict) \
                or 'versions' not in body:
            raise SystemExit('GET / answered %s %s, expected 300 and the '
                             'version document' % (status, body))
        print('GET / -> %d after %.2fs: %s' % (
            status, time.monotonic() - t0, json.dumps(body)[:200]))
        status, body = http(base + '/v1/%s/vmexpires/' % args.project,
                            {})
        if status != 401:
            raise SystemExit('GET /v1/%s/vmexpires/ without credentials '
                             'answered %s, expected 401' % (args.project,
                                                            status))
        print('GET /v1/%s/vmexpires/ without credentials -> 401'
              % args.project)
        status, body = http(base + '/v1/%s/vmexpires/' % args.project,
                            headers)
        if status != 200 or 'vmexpires' not in body:
            raise SystemExit('GET /v1/%s/vmexpires/ answered %s %s'
                             % (args.project, status, body))
        records = body['vmexpires']
        print('GET /v1/%s/vmexpires/ -> 200, %d record(s): %s'
              % (args.project, len(records),
                 ', '.join(r.get('instance_name', '?') for r in records)))
        if args.expect_records is not None and (
                len(records) != args.expect_records
                or any(r.get('project_id') != args.project
                       for r in records)):
            raise SystemExit('expected %d record(s) of project %s, got %s'
                             % (args.expect_records, args.project, records))
        if args.extend:
            url = base + '/v1/%s/vmexpires/%s' % (args.project,
                                                 records[0]['id'])
            put_headers = dict(headers, **{'Content-Type':
                                           'application/json'})
            status, body = http(url, put_headers, 'PUT', b'{}')
            if status != 202 or body['vmexpire']['extensions'] != 1:
                raise SystemExit('PUT %s answered %s %s, expected 202 and '
                                 'one extension' % (url, status, body))
            print('PUT .../vmexpires/%s -> 202, expire_at %s'
                  % (records[0]['id'], body['vmexpire']['expire_at']))
            big = b'{"days": 1, "pad": "' + b'x' * 70000 + b'"}'
            status, body = http(url, put_headers, 'PUT', big)
            if status != 413:
                raise SystemExit('PUT of a %d-byte body answered %s %s, '
                                 'expected 413' % (len(big), status, body))
            print('PUT of a %d-byte body -> 413' % len(big))
        if args.other_project:
            status, body = http(
                base + '/v1/%s/vmexpires/' % args.other_project, headers)
            if status != 403:
                raise SystemExit('GET /v1/%s/vmexpires/ of another project '
                                 'answered %s %s, expected 403'
                                 % (args.other_project, status, body))
            print('GET /v1/%s/vmexpires/ (another project) -> 403'
                  % args.other_project)
        info = stats(stats_port)
        if info.get('pid') != emperor.pid:
            raise SystemExit('stats on 127.0.0.1:%d are not the emperor '
                             'master\'s: %s' % (stats_port, info))
        print('stats server 127.0.0.1:%d: uwsgi %s, master pid %d'
              % (stats_port, info.get('version'), info['pid']))
        if args.reload_endpoint:
            reload_check(base, args.config, args.reload_endpoint,
                         os.path.join(vassals, 'osvmexpire-api.ini'),
                         args.timeout)
        pids = descendants(emperor.pid)
    except BaseException:
        emperor.kill()
        emperor.wait()
        with open(log, errors='replace') as f:
            sys.stderr.write('--- %s (last 60 lines)\n' % log)
            sys.stderr.writelines(f.readlines()[-60:])
        raise
    finally:
        notify.close()

    t1 = time.monotonic()
    emperor.send_signal(signal.SIGTERM)
    try:
        rc = emperor.wait(timeout=60)
    except subprocess.TimeoutExpired:
        emperor.kill()
        raise SystemExit('the emperor did not stop within 60s of SIGTERM')
    left = [p for p in pids if alive(p)]
    if rc != 0:
        raise SystemExit('the emperor exited with %d on SIGTERM' % rc)
    if left:
        raise SystemExit('processes left after the emperor stopped: %s'
                         % left)
    with socket.socket() as sock:
        if sock.connect_ex(('127.0.0.1', api_port)) == 0:
            raise SystemExit('port %d still answers after stop' % api_port)
    print('SIGTERM: emperor and its %d processes stopped in %.2fs, rc 0'
          % (len(pids), time.monotonic() - t1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
