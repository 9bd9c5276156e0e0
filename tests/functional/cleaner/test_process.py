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
"""osvmexpire-cleaner as a real process: first cycle right after start,
clean stop on SIGTERM, --once, one-line errors on bad configuration."""

import json
import os
import signal
import subprocess
import sys
import time

from osvmexpire.db import api as db_api
from tests.unit.cleaner import fakes
from tests.unit.cleaner.fakes import DAY


def _write_conf(tmp_path, env, extra=''):
    path = tmp_path / 'cleaner.conf'
    path.write_text(
        '[DEFAULT]\nlog_file = %s\n[database]\nconnection = %s\n'
        '[cleaner]\ninterval = 3600\nsync_interval = 0\n'
        '[smtp]\nemail_smtp_host = 127.0.0.1\nemail_smtp_port = %d\n%s%s'
        % (tmp_path / 'cleaner.log', env.db.url, env.smtp.port,
           env.cloud.config_file_section(10), extra))
    return str(path)


def _cmd(*args):
    return [sys.executable, '-m', 'osvmexpire.cmd.cleaner', *args]


def _env():
    env = dict(os.environ)
    env.pop('OSVMEXPIRE_CONFIG', None)
    return env


def test_service_runs_first_cycle_at_once_and_stops_on_sigterm(env,
                                                               tmp_path):
    now = db_api.utcnow()
    warn = fakes.make_vm(env.ctx, env.settings, 'warn', expire_at=now + DAY)
    fakes.make_vm(env.ctx, env.settings, 'del', expire_at=now - DAY,
                  notified_at=now - 11 * DAY, notified_last_at=now - 3 * DAY)
    env.cloud.add_server('warn', 'p1')
    env.cloud.add_server('del', 'p1')
    conf = _write_conf(tmp_path, env)
    started = time.monotonic()
    proc = subprocess.Popen(_cmd('--config-file', conf), env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while len(env.smtp.messages) < 2 and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        first_cycle = time.monotonic() - started
        assert len(env.smtp.messages) == 2, first_cycle
        assert env.cloud.deleted == ['del']
        assert db_api.get_vmexpire(env.ctx, warn.id).notified_at
        os.killpg(proc.pid, signal.SIGTERM)
        rc = proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert rc == 0
    assert first_cycle < 20
    log = (tmp_path / 'cleaner.log').read_text()
    assert 'cleaner cycle done' in log and 'Traceback' not in log


def test_once_prints_counts(env, tmp_path):
    now = db_api.utcnow()
    fakes.make_vm(env.ctx, env.settings, 'warn', expire_at=now + DAY)
    env.cloud.add_server('warn', 'p1')
    out = subprocess.run(_cmd('--once', '--config-file',
                              _write_conf(tmp_path, env)),
                         env=_env(), capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    counts = json.loads(out.stdout.strip().splitlines()[-1])
    assert counts['warned'] == 1 and counts['mails'] == 1


def test_once_dry_run_flag(env, tmp_path):
    now = db_api.utcnow()
    fakes.make_vm(env.ctx, env.settings, 'warn', expire_at=now + DAY)
    out = subprocess.run(_cmd('--once', '--dry-run', '--config-file',
                              _write_conf(tmp_path, env)),
                         env=_env(), capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1])['dry_run'] == 1
    assert env.smtp.messages == []


def test_bad_config_is_one_line(env, tmp_path):
    conf = _write_conf(tmp_path, env, '[cleaner]\ninterval = soon\n')
    out = subprocess.run(_cmd('--once', '--config-file', conf), env=_env(),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert 'Traceback' not in out.stderr
    assert 'interval' in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
