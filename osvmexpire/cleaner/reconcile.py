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
"""Reconciliation with Nova: heal what missed notifications left behind.

The worker keeps the records in step with Nova as long as notifications
arrive. When one is lost (worker down longer than the queue kept it,
broker restart with non-durable queues, Nova misconfigured), the records
drift. :func:`reconcile` lists every server of every project from the Nova
API and fixes the drift both ways:

* a server without a record gets one, never due sooner than now +
  ``[cleaner] sync_min_duration`` days (``max_vm_duration`` when 0) and
  never sooner than the full warning period, so a newly found server is
  never deleted at once;
* a record whose server is not listed is closed, but only after a
  complete listing and once Nova answers 404 for that very server: a
  failed, partial or racing listing can never close a record;
* a server an admin took out of expiry (last event ``removed``), or whose
  deletion was already recorded, is skipped.

The cleaner runs it every ``[cleaner] sync_interval`` seconds and
``osvmexpire-manage vm sync`` once. :func:`track_server` starts tracking
one server on an admin's request (API, ``osvmexpire-manage vm add``).
"""

import datetime

from novaclient import exceptions as nova_exc
from oslo_log import log

from osvmexpire import clients
from osvmexpire import exception
from osvmexpire import expiration
from osvmexpire.db import api as db_api
from osvmexpire.db import models

LOG = log.getLogger(__name__)

PAGE_SIZE = 500
ACTOR = 'reconcile'


class NovaError(exception.OsVmExpireError):
    """Nova could not be asked (unreachable, error, unexpected answer)."""


def min_life(conf) -> datetime.timedelta:
    """Least life given to a server that starts being tracked late."""
    settings = expiration.Settings.from_conf(conf)
    days = conf.cleaner.sync_min_duration
    wanted = (days * expiration.DAY if days
              else settings.max_vm_duration)
    return max(wanted, settings.notify_before, settings.notify_before_last)


def _server_created(server, now: datetime.datetime) -> datetime.datetime:
    created = getattr(server, 'created', None)
    if isinstance(created, str) and created:
        try:
            value = expiration.utc(datetime.datetime.fromisoformat(created))
            return min(value.replace(microsecond=0), now)
        except ValueError:
            pass
    return now


def _expiry_for(conf, server, now: datetime.datetime):
    settings = expiration.Settings.from_conf(conf)
    created = _server_created(server, now)
    return created, expiration.initial_expiry(
        created, settings, min_life=min_life(conf), now=now), settings


def list_servers(nova, page_size: int = PAGE_SIZE) -> dict:
    """Every server of every project, {id: server}, page after page.

    Raises :class:`NovaError` on any failure: the caller must then treat
    the listing as unknown, not as empty.
    """
    servers = {}
    marker = None
    while True:
        try:
            page = nova.servers.list(detailed=True,
                                     search_opts={'all_tenants': 1},
                                     limit=page_size, marker=marker)
        except Exception as exc:
            raise NovaError('cannot list servers from Nova: %s' % exc)
        new = [s for s in page if s.id not in servers]
        if not page:
            return servers
        if not new:
            # Nova ignored the marker: stop rather than loop forever, and
            # do not trust a listing we cannot finish.
            raise NovaError('Nova returned the same page of servers again '
                            '(marker %s ignored)' % marker)
        for server in new:
            servers[server.id] = server
        marker = page[-1].id


def _gone(nova, instance_id: str) -> bool:
    """True only when Nova says 404 for this server."""
    try:
        nova.servers.get(instance_id)
    except nova_exc.NotFound:
        return True
    except Exception as exc:
        LOG.warning('Not closing the expiration of instance %s: Nova '
                    'could not confirm it is gone: %s', instance_id, exc)
        return False
    return False


def reconcile(conf, ctx, nova=None, now: datetime.datetime | None = None,
              page_size: int = PAGE_SIZE, dry_run: bool = False) -> dict:
    """One reconciliation pass; returns counts.

    ``created``: servers that got a record; ``closed``: records of servers
    gone; ``unchanged``: servers tracked already (and records kept because
    Nova did not confirm their server is gone); ``skipped``: servers
    removed from expiry by an admin or whose deletion is recorded.
    Raises :class:`NovaError` when Nova cannot be listed; then nothing
    changed. ``dry_run`` (a dry-run cleaner) counts and logs what would
    change and writes nothing.
    """
    nova = nova or clients.get_nova(conf)
    now = expiration.utc(now) if now else db_api.utcnow()
    servers = list_servers(nova, page_size)
    tracked = db_api.tracked_instance_ids(ctx)
    counts = {'created': 0, 'closed': 0, 'unchanged': 0, 'skipped': 0}

    untracked = [sid for sid in servers if sid not in tracked]
    ended = db_api.removed_instance_ids(ctx, untracked)
    for sid in untracked:
        if sid in ended:
            counts['skipped'] += 1
            continue
        server = servers[sid]
        created, expire_at, settings = _expiry_for(conf, server, now)
        if dry_run:
            counts['created'] += 1
            LOG.info('Reconcile (dry run): would track instance %s of '
                     'project %s, expiring %sZ', sid,
                     getattr(server, 'tenant_id', None),
                     expire_at.isoformat())
            continue
        try:
            db_api.create_vmexpire(
                ctx, instance_id=sid,
                project_id=getattr(server, 'tenant_id', None) or '',
                expire_at=expire_at, settings=settings,
                instance_name=getattr(server, 'name', '') or '',
                user_id=getattr(server, 'user_id', None),
                created_at=created, actor=ACTOR,
                detail={'source': 'reconcile'}, respect_tombstone=True)
        except exception.Duplicate:
            counts['unchanged'] += 1
            continue
        except exception.Tombstoned:
            counts['skipped'] += 1
            continue
        counts['created'] += 1
        LOG.info('Reconcile: tracking instance %s of project %s, expires '
                 '%sZ', sid, getattr(server, 'tenant_id', None),
                 expire_at.isoformat())

    counts['unchanged'] += sum(1 for sid in servers if sid in tracked)
    for iid in sorted(tracked - set(servers)):
        if not _gone(nova, iid):
            counts['unchanged'] += 1
            continue
        if dry_run:
            counts['closed'] += 1
            LOG.info('Reconcile (dry run): would close the expiration of '
                     'instance %s (gone)', iid)
            continue
        if db_api.close_instance(ctx, iid, kind='closed', actor=ACTOR,
                                 detail={'source': 'reconcile'}):
            counts['closed'] += 1
            LOG.info('Reconcile: instance %s is gone, expiration closed',
                     iid)
    LOG.info('Reconciliation with Nova: %(created)d created, %(closed)d '
             'closed, %(unchanged)d unchanged, %(skipped)d skipped', counts)
    return counts


def track_server(conf, ctx, instance_id: str, nova=None,
                 actor: str | None = None, project_id: str | None = None,
                 now: datetime.datetime | None = None) -> models.VmExpire:
    """Start tracking an existing server on an admin's request.

    Reads the server from Nova; its expiry gives it at least
    :func:`min_life` from now. An admin's request overrides an earlier
    removal. ``project_id``, when given, must be the server's project.
    Raises NotFound (no such server in Nova, or not in ``project_id``),
    Duplicate (tracked already) or :class:`NovaError`.
    """
    nova = nova or clients.get_nova(conf)
    now = expiration.utc(now) if now else db_api.utcnow()
    try:
        server = nova.servers.get(instance_id)
    except nova_exc.NotFound:
        raise exception.NotFound('server %s not found in Nova' % instance_id)
    except Exception as exc:
        raise NovaError('cannot read server %s from Nova: %s'
                        % (instance_id, exc))
    server_project = getattr(server, 'tenant_id', None)
    if project_id is not None and server_project != project_id:
        raise exception.NotFound('server %s not found in project %s'
                                 % (instance_id, project_id))
    created, expire_at, settings = _expiry_for(conf, server, now)
    return db_api.create_vmexpire(
        ctx, instance_id=server.id, project_id=server_project or '',
        expire_at=expire_at, settings=settings,
        instance_name=getattr(server, 'name', '') or '',
        user_id=getattr(server, 'user_id', None), created_at=created,
        actor=actor, detail={'source': 'admin'})
