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
"""Who owns a server: Keystone lookups with a small time-limited cache.

A cycle asks about the same few users and projects many times; the cache
keeps that to one Keystone call each. Answers ("this user has no e-mail",
"this user is gone") are cached; failures to ask (Keystone down) are not,
and raise :class:`IdentityUnavailable` so the caller takes no destructive
step on a guess.
"""

import dataclasses
import threading
import time

from keystoneauth1 import exceptions as ks_exc


class IdentityUnavailable(Exception):
    """Keystone could not be asked (down, timeout, 5xx)."""


@dataclasses.dataclass(frozen=True)
class User:
    id: str
    name: str
    email: str | None
    domain_id: str | None
    exists: bool = True


@dataclasses.dataclass(frozen=True)
class Project:
    id: str
    name: str
    domain_id: str | None
    exists: bool = True


class Owners:
    """Users and projects from a python-keystoneclient v3 client."""

    def __init__(self, keystone, ttl: float = 300.0, clock=time.monotonic,
                 hold: float = 30.0):
        self.keystone = keystone
        self.ttl = ttl
        self.clock = clock
        self.hold = hold
        self._cache: dict[tuple[str, str], tuple[float, object]] = {}
        self._down: tuple[float, str] | None = None
        self._lock = threading.Lock()

    def _cached(self, key, fetch):
        now = self.clock()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and now - hit[0] < self.ttl:
                return hit[1]
            if self._down is not None and now < self._down[0]:
                # Keystone failed moments ago: fail fast instead of one
                # timeout per owner.
                raise IdentityUnavailable(self._down[1])
        try:
            value = fetch()
        except IdentityUnavailable as exc:
            with self._lock:
                self._down = (now + self.hold, str(exc))
            raise
        with self._lock:
            self._cache[key] = (now, value)
            self._down = None
        return value

    def user(self, user_id: str) -> User:
        """The user, ``exists=False`` if Keystone says it is gone."""
        def fetch():
            try:
                u = self.keystone.users.get(user_id)
            except ks_exc.NotFound:
                return User(user_id, user_id, None, None, exists=False)
            except Exception as exc:
                raise IdentityUnavailable(_describe('user', user_id, exc))
            email = getattr(u, 'email', None) or None
            return User(u.id, getattr(u, 'name', None) or u.id,
                        email.strip() if isinstance(email, str) else None,
                        getattr(u, 'domain_id', None))
        return self._cached(('user', user_id), fetch)

    def project(self, project_id: str) -> Project:
        def fetch():
            try:
                p = self.keystone.projects.get(project_id)
            except ks_exc.NotFound:
                return Project(project_id, project_id, None, exists=False)
            except Exception as exc:
                raise IdentityUnavailable(
                    _describe('project', project_id, exc))
            return Project(p.id, getattr(p, 'name', None) or p.id,
                           getattr(p, 'domain_id', None))
        return self._cached(('project', project_id), fetch)

    def project_name(self, project_id: str) -> str:
        """For mails only: falls back to the id when Keystone fails."""
        try:
            return self.project(project_id).name
        except IdentityUnavailable:
            return project_id

    def domains(self, project_id: str, user_id: str | None) -> set[str]:
        """Domains of the project and of the user (for domain exclusions).

        Raises IdentityUnavailable: without the answer an excluded server
        could be deleted, so the caller must not proceed.
        """
        found = set()
        project = self.project(project_id)
        if project.domain_id:
            found.add(project.domain_id)
        if user_id:
            user = self.user(user_id)
            if user.domain_id:
                found.add(user.domain_id)
        return found


def _describe(kind: str, ident: str, exc: Exception) -> str:
    return 'Keystone lookup of %s %s failed: %s' % (
        kind, ident, str(exc) or exc.__class__.__name__)
