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
"""Process-table checks shared by the deploy checks (psutil)."""

import os

import psutil


def alive(pid: int) -> bool:
    """True if pid runs (a zombie waiting to be reaped does not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def descendants(pid: int) -> list[int]:
    """Every live descendant of pid, to check later that none is left."""
    return [p.pid for p in psutil.Process(pid).children(recursive=True)
            if alive(p.pid)]


def group_alive(pgid: int) -> bool:
    """True if a live process is left in process group pgid."""
    for pid in psutil.pids():
        try:
            if os.getpgid(pid) == pgid and alive(pid):
                return True
        except OSError:
            continue
    return False
