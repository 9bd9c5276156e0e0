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
"""Database access: plain functions over an oslo.db enginefacade.

Every function takes a :class:`osvmexpire.context.RequestContext` and runs
in its own reader or writer transaction (nested calls join the outer one).
Each state change writes its audit event in the same transaction.

Functions used by the cleaner are conditional updates: they only change a
row still claimed by the caller and still at the version the caller
decided on, so an extension that lands in between always wins.
"""

import contextlib
import datetime
import functools
import threading
import types
import uuid

import sqlalchemy as sa
from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade

from osvmexpire import exception
from osvmexpire import expiration
from osvmexpire.db import models

_main = enginefacade.transaction_context()
_configured = False
_lock = threading.Lock()


def configure(conf) -> None:
    """Give the engine facade the [database] options (once per process)."""
    global _configured
    with _lock:
        if not _configured:
            # thread_checkin: oslo.db yields to other green threads with a
            # sleep(0) on every connection checkin; every process here runs
            # on native threads, where it is only a system call.
            _main.configure(thread_checkin=False,
                            **dict(conf.database.items()))
            _configured = True


def write_turn(conf):
    """What threads of one process hold around their database writes.

    SQLite has a single writer: concurrent transactions of one process
    fail with "database is locked", so there the threads take turns (a
    lock). The server databases need nothing (a no-op context manager).
    """
    if (conf.database.connection or '').startswith('sqlite'):
        return threading.Lock()
    return contextlib.nullcontext()


def context_manager():
    """The process-wide transaction context (tests patch its factory)."""
    return _main


def get_engine():
    return _main.writer.get_engine()


def utcnow() -> datetime.datetime:
    """Naive UTC now, to the second: what every backend stores alike."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None,
                                                       microsecond=0)


def _add_event(session, kind: str, actor: str, instance_id: str,
               project_id: str | None = None,
               vmexpire_id: str | None = None,
               detail: dict | None = None,
               at: datetime.datetime | None = None) -> None:
    session.add(models.VmExpireEvent(
        vmexpire_id=vmexpire_id, instance_id=instance_id,
        project_id=project_id, event=kind, actor=actor or 'unknown',
        created_at=at or utcnow(), detail=detail or {}))


def _event_for(session, row: models.VmExpire, kind: str, actor: str,
               detail: dict | None = None, at=None) -> None:
    _add_event(session, kind, actor, row.instance_id, row.project_id,
               row.id, detail, at)



# -- vmexpire ---------------------------------------------------------------

@_main.reader
def last_lifecycle_event(ctx, instance_id: str):
    """Newest created/deleted/closed/removed event of an instance, or None."""
    kinds = ('created',) + models.TERMINAL_EVENTS
    stmt = (sa.select(models.VmExpireEvent)
            .where(models.VmExpireEvent.instance_id == instance_id,
                   models.VmExpireEvent.event.in_(kinds))
            .order_by(models.VmExpireEvent.id.desc()).limit(1))
    return ctx.session.scalars(stmt).first()


@_main.writer
def create_vmexpire(ctx, *, instance_id: str, project_id: str,
                    expire_at: datetime.datetime,
                    settings: expiration.Settings,
                    instance_name: str = '', user_id: str | None = None,
                    domain_id: str | None = None,
                    created_at: datetime.datetime | None = None,
                    actor: str | None = None,
                    detail: dict | None = None,
                    respect_tombstone: bool = False) -> models.VmExpire:
    """Start tracking an instance; record a ``created`` event.

    Raises :class:`exception.Duplicate` if it is tracked already, and with
    ``respect_tombstone`` :class:`exception.Tombstoned` if its last
    lifecycle event says it was deleted or removed from expiry (a late or
    repeated create notification must not bring it back).
    """
    session = ctx.session
    if respect_tombstone:
        last = last_lifecycle_event(ctx, instance_id)
        if last is not None and last.event in models.TERMINAL_EVENTS:
            raise exception.Tombstoned(
                'instance %s was %s' % (instance_id, last.event))
    row = models.VmExpire(
        id=str(uuid.uuid4()), instance_id=instance_id,
        instance_name=(instance_name or '')[:255], project_id=project_id,
        user_id=user_id, domain_id=domain_id,
        created_at=expiration.utc(created_at) if created_at else utcnow(),
        expire_at=expiration.utc(expire_at), extensions=0, version=1,
        failures=0, extend_notice_pending=False)
    row.next_action_at = expiration.next_step(row, settings).at
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except db_exc.DBDuplicateEntry:
        raise exception.Duplicate(
            'instance %s already has an expiration' % instance_id)
    _event_for(session, row, 'created', actor or ctx.actor,
               dict(detail or {}, expire_at=expiration.iso(row.expire_at)))
    return row


def _scoped(stmt, project_id: str | None):
    if project_id is not None:
        stmt = stmt.where(models.VmExpire.project_id == project_id)
    return stmt


@_main.reader
def get_vmexpire(ctx, vmexpire_id: str,
                 project_id: str | None = None) -> models.VmExpire:
    """One record by id; ``project_id`` restricts the lookup (non-admins)."""
    stmt = _scoped(sa.select(models.VmExpire)
                   .where(models.VmExpire.id == vmexpire_id), project_id)
    row = ctx.session.scalars(stmt).first()
    if row is None:
        raise exception.NotFound('vmexpire %s not found' % vmexpire_id)
    return row


@_main.reader
def get_vmexpire_by_instance(ctx, instance_id: str,
                             project_id: str | None = None
                             ) -> models.VmExpire:
    stmt = _scoped(sa.select(models.VmExpire)
                   .where(models.VmExpire.instance_id == instance_id),
                   project_id)
    row = ctx.session.scalars(stmt).first()
    if row is None:
        raise exception.NotFound(
            'no expiration for instance %s' % instance_id)
    return row


@_main.reader
def find_vmexpire(ctx, ident: str,
                  project_id: str | None = None) -> models.VmExpire:
    """A record by record id or by instance id (CLI convenience)."""
    stmt = _scoped(sa.select(models.VmExpire).where(sa.or_(
        models.VmExpire.id == ident, models.VmExpire.instance_id == ident)),
        project_id)
    rows = ctx.session.scalars(stmt.limit(2)).all()
    if not rows:
        raise exception.NotFound('no expiration with id or instance id %s'
                                 % ident)
    if len(rows) > 1:
        raise exception.Conflict('%s is ambiguous: give the record id'
                                 % ident)
    return rows[0]


@_main.reader
def list_vmexpires(ctx, project_id: str | None = None,
                   instance_id: str | None = None,
                   user_id: str | None = None,
                   expire_before: datetime.datetime | None = None,
                   stuck: bool = False,
                   limit: int | None = None,
                   marker: str | None = None
                   ) -> tuple[list[models.VmExpire], int]:
    """Records sorted by (expire_at, id), keyset-paged after ``marker``.

    Returns the page and the total number of records matching the filters.
    """
    M = models.VmExpire
    stmt = _scoped(sa.select(M), project_id)
    if instance_id is not None:
        stmt = stmt.where(M.instance_id == instance_id)
    if user_id is not None:
        stmt = stmt.where(M.user_id == user_id)
    if expire_before is not None:
        stmt = stmt.where(M.expire_at < expiration.utc(expire_before))
    if stuck:
        stmt = stmt.where(M.failures > 0)
    total = ctx.session.scalar(
        sa.select(sa.func.count()).select_from(stmt.subquery()))
    if marker is not None:
        mrow = ctx.session.get(M, marker)
        if mrow is None or (project_id is not None
                            and mrow.project_id != project_id):
            raise exception.NotFound('marker %s not found' % marker)
        stmt = stmt.where(*_after(M.expire_at, M.id, mrow.expire_at,
                                  mrow.id))
    stmt = stmt.order_by(M.expire_at, M.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(ctx.session.scalars(stmt)), total


def _after(expire_at, id_, marker_expire_at, marker_id) -> tuple:
    """Keyset paging: rows after the marker in (expire_at, id) order.

    The redundant ``expire_at >= marker's`` is what lets every backend
    start the (project_id, expire_at) index range at the marker instead
    of reading and dropping all the rows of the earlier pages.
    """
    return (expire_at >= marker_expire_at,
            sa.or_(expire_at > marker_expire_at, id_ > marker_id))


@_main.writer
def extend_vmexpire(ctx, vmexpire_id: str, now: datetime.datetime,
                    settings: expiration.Settings, days: int | None = None,
                    force: bool = False, project_id: str | None = None,
                    actor: str | None = None) -> models.VmExpire:
    """Extend a record (see :func:`expiration.extended_expiry`).

    The update is conditional on the version read, and refused once the
    cleaner has started deleting the server. Raises NotFound, Conflict,
    ExtensionRefused or InvalidExtension.
    """
    session = ctx.session
    row = get_vmexpire(ctx, vmexpire_id, project_id)
    if row.deleting_at is not None:
        raise exception.Conflict('the server is being deleted')
    old = row.expire_at
    new = expiration.extended_expiry(row.created_at, old, now, settings,
                                     days=days, force=force)
    fresh = models.VmExpire(expire_at=new, notified_at=None,
                            notified_last_at=None)
    values = dict(expire_at=new, notified_at=None, notified_last_at=None,
                  extensions=models.VmExpire.extensions + 1,
                  version=models.VmExpire.version + 1,
                  next_action_at=expiration.next_step(fresh, settings).at,
                  failures=0, last_error=None, extend_notice_pending=True,
                  updated_at=utcnow())
    result = session.execute(
        sa.update(models.VmExpire)
        .where(models.VmExpire.id == row.id,
               models.VmExpire.version == row.version,
               models.VmExpire.deleting_at.is_(None))
        .values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise exception.Conflict(
            'the expiration changed meanwhile; retry the extension')
    detail = {'old_expire_at': expiration.iso(old),
              'new_expire_at': expiration.iso(new)}
    if days is not None:
        detail['days'] = days
    if force:
        detail['force'] = True
    _event_for(session, row, 'extended', actor or ctx.actor, detail)
    session.expire(row)
    return session.get(models.VmExpire, row.id)


@_main.writer
def remove_vmexpire(ctx, vmexpire_id: str, project_id: str | None = None,
                    actor: str | None = None, kind: str = 'removed',
                    detail: dict | None = None) -> None:
    """Stop tracking a record: the server is kept and never expires.

    Refused (Conflict) while the cleaner is deleting the server.
    """
    session = ctx.session
    row = get_vmexpire(ctx, vmexpire_id, project_id)
    if row.deleting_at is not None and kind == 'removed':
        raise exception.Conflict('the server is being deleted')
    stmt = sa.delete(models.VmExpire).where(models.VmExpire.id == row.id)
    if kind == 'removed':
        # Conditional like every step that races the cleaner: the read
        # above may predate its mark_deleting (MariaDB snapshot, or simply
        # a commit in between); the row must then stay, or the server
        # would be deleted although its expiry was removed.
        stmt = stmt.where(models.VmExpire.deleting_at.is_(None))
    result = session.execute(
        stmt.execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise exception.Conflict('the server is being deleted')
    session.expunge(row)
    _event_for(session, row, kind, actor or ctx.actor,
               dict(detail or {}, expire_at=expiration.iso(row.expire_at)))


@_main.writer
def close_instance(ctx, instance_id: str, kind: str = 'closed',
                   actor: str | None = None, detail: dict | None = None,
                   project_id: str | None = None) -> bool:
    """Close the record of a server that is gone; True if one existed.

    The event is written even without a record: it is the tombstone that
    stops a late create notification from re-creating it.
    """
    session = ctx.session
    row = session.scalars(sa.select(models.VmExpire).where(
        models.VmExpire.instance_id == instance_id)).first()
    if row is None:
        _add_event(session, kind, actor or ctx.actor, instance_id,
                   project_id, None, detail)
        return False
    _event_for(session, row, kind, actor or ctx.actor,
               dict(detail or {}, expire_at=expiration.iso(row.expire_at)))
    session.delete(row)
    return True


@_main.writer
def rename_instance(ctx, instance_id: str, name: str) -> bool:
    """Keep the instance name current (instance.update); no audit event."""
    result = ctx.session.execute(
        sa.update(models.VmExpire)
        .where(models.VmExpire.instance_id == instance_id,
               models.VmExpire.instance_name != name[:255])
        .values(instance_name=name[:255], updated_at=utcnow())
        .execution_options(synchronize_session=False))
    return result.rowcount > 0


@_main.reader
def tracked_instance_ids(ctx) -> set[str]:
    return set(ctx.session.scalars(sa.select(models.VmExpire.instance_id)))


@_main.reader
def removed_instance_ids(ctx, instance_ids) -> set[str]:
    """Of ``instance_ids``, those whose last lifecycle event is terminal."""
    E = models.VmExpireEvent
    kinds = ('created',) + models.TERMINAL_EVENTS
    ids = list(instance_ids)
    result = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        newest = (sa.select(E.instance_id, sa.func.max(E.id).label('mid'))
                  .where(E.instance_id.in_(chunk), E.event.in_(kinds))
                  .group_by(E.instance_id).subquery())
        stmt = (sa.select(E.instance_id, E.event)
                .join(newest, E.id == newest.c.mid))
        for iid, kind in ctx.session.execute(stmt):
            if kind in models.TERMINAL_EVENTS:
                result.add(iid)
    return result


# -- worker: a batch of creations ---------------------------------------------

@_main.writer
def create_vmexpires(ctx, instances: list[dict],
                     settings: expiration.Settings,
                     actor: str | None = None) -> list[str]:
    """Start tracking many instances in one transaction; their ids.

    The batched :func:`create_vmexpire` of the worker (``respect_tombstone``
    semantics): each dict has ``instance_id``, ``project_id``,
    ``expire_at`` and optionally ``instance_name``, ``user_id``,
    ``domain_id``, ``created_at``, ``detail``; instance ids must be
    distinct. Instances tracked already or whose last lifecycle event is
    terminal are skipped; the others get their record and ``created``
    event with two multi-row INSERTs. An instance tracked by someone else
    meanwhile raises :class:`exception.Duplicate` and nothing is written.
    """
    M = models.VmExpire
    session = ctx.session
    ids = [item['instance_id'] for item in instances]
    skip = set()
    for start in range(0, len(ids), 500):
        skip.update(session.scalars(sa.select(M.instance_id).where(
            M.instance_id.in_(ids[start:start + 500]))))
    skip |= removed_instance_ids(ctx, ids)
    now = utcnow()
    columns = dict.fromkeys(c.key for c in M.__table__.columns)
    rows, events = [], []
    for item in instances:
        if item['instance_id'] in skip:
            continue
        # Plain dicts, not ORM objects: building those was a fifth of the
        # cost of a batch.
        row = dict(columns, id=str(uuid.uuid4()),
                   instance_id=item['instance_id'],
                   instance_name=(item.get('instance_name') or '')[:255],
                   project_id=item['project_id'],
                   user_id=item.get('user_id'),
                   domain_id=item.get('domain_id'),
                   created_at=expiration.utc(item.get('created_at') or now),
                   expire_at=expiration.utc(item['expire_at']),
                   extensions=0, version=1, failures=0,
                   extend_notice_pending=False)
        row['next_action_at'] = expiration.next_step(
            types.SimpleNamespace(**row), settings).at
        rows.append(row)
        events.append({
            'vmexpire_id': row['id'], 'instance_id': row['instance_id'],
            'project_id': row['project_id'], 'event': 'created',
            'actor': actor or ctx.actor or 'unknown', 'created_at': now,
            'detail': dict(item.get('detail') or {},
                           expire_at=expiration.iso(row['expire_at']))})
    if rows:
        try:
            session.execute(sa.insert(M.__table__), rows)
        except db_exc.DBDuplicateEntry:
            raise exception.Duplicate(
                'an instance of the batch was tracked meanwhile')
        session.execute(sa.insert(models.VmExpireEvent.__table__), events)
    return [row['instance_id'] for row in rows]


@_main.reader
def terminal_instance_ids(ctx, instance_ids) -> set[str]:
    """Of ``instance_ids``, those with any deleted/closed/removed event.

    The worker's check, after committing new records, for a delete that
    another worker handled at the same moment.
    """
    E = models.VmExpireEvent
    ids = list(instance_ids)
    result = set()
    for start in range(0, len(ids), 500):
        result.update(ctx.session.scalars(sa.select(E.instance_id).where(
            E.instance_id.in_(ids[start:start + 500]),
            E.event.in_(models.TERMINAL_EVENTS)).distinct()))
    return result


# -- audit trail -------------------------------------------------------------

@_main.writer
def add_event(ctx, kind: str, instance_id: str,
              project_id: str | None = None, vmexpire_id: str | None = None,
              actor: str | None = None, detail: dict | None = None) -> None:
    _add_event(ctx.session, kind, actor or ctx.actor, instance_id,
               project_id, vmexpire_id, detail)


@_main.reader
def list_events(ctx, vmexpire_id: str | None = None,
                instance_id: str | None = None,
                project_id: str | None = None,
                kind: str | None = None,
                limit: int | None = None) -> list[models.VmExpireEvent]:
    """Events, oldest first, of a record and/or an instance."""
    E = models.VmExpireEvent
    stmt = sa.select(E)
    if vmexpire_id is not None and instance_id is not None:
        stmt = stmt.where(sa.or_(E.vmexpire_id == vmexpire_id,
                                 E.instance_id == instance_id))
    elif vmexpire_id is not None:
        stmt = stmt.where(E.vmexpire_id == vmexpire_id)
    elif instance_id is not None:
        stmt = stmt.where(E.instance_id == instance_id)
    if project_id is not None:
        stmt = stmt.where(E.project_id == project_id)
    if kind is not None:
        stmt = stmt.where(E.event == kind)
    stmt = stmt.order_by(E.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(ctx.session.scalars(stmt))


# -- exclusions --------------------------------------------------------------

@_main.writer
def create_exclude(ctx, exclude_type: str, exclude_id: str,
                   actor: str | None = None) -> models.VmExclude:
    if exclude_type not in models.EXCLUDE_TYPES:
        raise ValueError('exclusion type must be one of %s'
                         % ', '.join(models.EXCLUDE_TYPES))
    row = models.VmExclude(id=str(uuid.uuid4()), exclude_type=exclude_type,
                           exclude_id=exclude_id, created_at=utcnow())
    session = ctx.session
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except db_exc.DBDuplicateEntry:
        raise exception.Duplicate('%s %s is already excluded'
                                  % (exclude_type, exclude_id))
    _add_event(session, 'excluded', actor or ctx.actor, '-',
               exclude_id if exclude_type == 'project' else None, None,
               {'exclude_type': exclude_type, 'exclude_id': exclude_id,
                'exclude': row.id})
    return row


@_main.reader
def get_exclude(ctx, exclude_uuid: str) -> models.VmExclude:
    row = ctx.session.get(models.VmExclude, exclude_uuid)
    if row is None:
        raise exception.NotFound('vmexclude %s not found' % exclude_uuid)
    return row


@_main.reader
def list_excludes(ctx, exclude_type: str | None = None
                  ) -> list[models.VmExclude]:
    stmt = sa.select(models.VmExclude)
    if exclude_type is not None:
        stmt = stmt.where(models.VmExclude.exclude_type == exclude_type)
    stmt = stmt.order_by(models.VmExclude.exclude_type,
                         models.VmExclude.exclude_id)
    return list(ctx.session.scalars(stmt))


@_main.writer
def delete_exclude(ctx, exclude_uuid: str, actor: str | None = None) -> None:
    row = get_exclude(ctx, exclude_uuid)
    _add_event(ctx.session, 'excluded', actor or ctx.actor, '-',
               None, None, {'exclude_type': row.exclude_type,
                            'exclude_id': row.exclude_id,
                            'exclude': row.id, 'removed': True})
    ctx.session.delete(row)


@_main.reader
def excluded_ids(ctx) -> dict[str, set[str]]:
    """{'domain': {...}, 'project': {...}, 'user': {...}}"""
    result = {t: set() for t in models.EXCLUDE_TYPES}
    for kind, ident in ctx.session.execute(sa.select(
            models.VmExclude.exclude_type, models.VmExclude.exclude_id)):
        result.setdefault(kind, set()).add(ident)
    return result


# -- the cleaner's claims and conditional steps ------------------------------

@_main.reader
def due_ids(ctx, now: datetime.datetime, limit: int,
            after: tuple[datetime.datetime, str] | None = None
            ) -> list[tuple[datetime.datetime, str]]:
    """(next_action_at, id) of unclaimed rows due at ``now``, in order.

    One range scan of ix_vmexpire_next_action; page with ``after`` (the
    last pair returned).
    """
    M = models.VmExpire
    now = expiration.utc(now)
    stmt = (sa.select(M.next_action_at, M.id)
            .where(M.next_action_at <= now,
                   sa.or_(M.claimed_until.is_(None), M.claimed_until < now)))
    if after is not None:
        stmt = stmt.where(sa.or_(
            M.next_action_at > after[0],
            sa.and_(M.next_action_at == after[0], M.id > after[1])))
    stmt = stmt.order_by(M.next_action_at, M.id).limit(limit)
    return [tuple(r) for r in ctx.session.execute(stmt)]


@_main.writer
def claim(ctx, vmexpire_id: str, owner: str, now: datetime.datetime,
          ttl: datetime.timedelta) -> bool:
    """Take a row with one atomic conditional UPDATE; True if we got it.

    A claim lapses after ``ttl``, so a crashed cleaner's rows are taken
    over by another once its claims expire.
    """
    M = models.VmExpire
    now = expiration.utc(now)
    result = ctx.session.execute(
        sa.update(M)
        .where(M.id == vmexpire_id,
               sa.or_(M.claimed_until.is_(None), M.claimed_until < now))
        # updated_at kept: a claim is not a change of the record.
        .values(claimed_by=owner, claimed_until=now + ttl,
                updated_at=M.updated_at)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


# Two cleaners' page claims lock rows in the same (index) order, so a
# deadlock is unlikely; should one happen, the loser just tries again.
@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@_main.writer
def claim_page(ctx, vmexpire_ids: list[str], owner: str,
               now: datetime.datetime, ttl: datetime.timedelta
               ) -> list[models.VmExpire]:
    """:func:`claim` for a page of rows: the rows we got, in given order.

    One conditional UPDATE (the same condition as :func:`claim`, per row:
    a live claim of another cleaner is never taken) and one SELECT of the
    rows now claimed by ``owner``, in one transaction instead of two per
    row.
    """
    if not vmexpire_ids:
        return []
    M = models.VmExpire
    now = expiration.utc(now)
    ctx.session.execute(
        sa.update(M)
        .where(M.id.in_(vmexpire_ids),
               sa.or_(M.claimed_until.is_(None), M.claimed_until < now))
        .values(claimed_by=owner, claimed_until=now + ttl,
                updated_at=M.updated_at)
        .execution_options(synchronize_session=False))
    rows = {row.id: row for row in ctx.session.scalars(
        sa.select(M).where(M.id.in_(vmexpire_ids), M.claimed_by == owner,
                           M.claimed_until >= now))}
    return [rows[i] for i in vmexpire_ids if i in rows]


@_main.writer
def release(ctx, vmexpire_id: str, owner: str) -> None:
    M = models.VmExpire
    ctx.session.execute(
        sa.update(M).where(M.id == vmexpire_id, M.claimed_by == owner)
        .values(claimed_by=None, claimed_until=None,
                updated_at=M.updated_at)
        .execution_options(synchronize_session=False))


@_main.reader
def get_claimed(ctx, vmexpire_id: str, owner: str,
                now: datetime.datetime) -> models.VmExpire | None:
    """The row, read in a fresh transaction, if ``owner`` still holds it."""
    row = ctx.session.get(models.VmExpire, vmexpire_id)
    if (row is None or row.claimed_by != owner or row.claimed_until is None
            or row.claimed_until < expiration.utc(now)):
        return None
    return row


def _conditional(ctx, row_id: str, owner: str, version: int, **values):
    M = models.VmExpire
    result = ctx.session.execute(
        sa.update(M).where(M.id == row_id, M.claimed_by == owner,
                           M.version == version)
        .values(**values).execution_options(synchronize_session=False))
    return result.rowcount == 1


@_main.writer
def record_warning(ctx, row: models.VmExpire, owner: str,
                   action: expiration.Action, at: datetime.datetime,
                   settings: expiration.Settings,
                   actor: str | None = None,
                   detail: dict | None = None) -> bool:
    """Store that a warning for ``row``'s version was delivered at ``at``.

    False if the row changed meanwhile (the warning was for an expiry that
    no longer holds; the new one gets its own warnings).
    """
    at = expiration.utc(at)
    first = at if action == expiration.Action.FIRST_WARNING else (
        row.notified_at)
    last = at if action == expiration.Action.LAST_WARNING else None
    probe = models.VmExpire(expire_at=row.expire_at, notified_at=first,
                            notified_last_at=last)
    ok = _conditional(
        ctx, row.id, owner, row.version, notified_at=first,
        notified_last_at=last, failures=0, last_error=None,
        next_action_at=expiration.next_step(probe, settings).at)
    if ok:
        _event_for(ctx.session, row, 'warned', actor or ctx.actor,
                   dict(detail or {}, which=str(action),
                        expire_at=expiration.iso(row.expire_at)), at=at)
    return ok


@_main.writer
def record_failure(ctx, row: models.VmExpire, owner: str, kind: str,
                   error: str, retry_at: datetime.datetime | None = None,
                   actor: str | None = None,
                   detail: dict | None = None) -> bool:
    """Count a failed or skipped step; the row stays due for a retry.

    ``kind`` is the audit event ('failed' or 'skipped').
    """
    values = dict(failures=models.VmExpire.failures + 1,
                  last_error=error[:1024])
    if retry_at is not None:
        values['next_action_at'] = expiration.utc(retry_at)
    ok = _conditional(ctx, row.id, owner, row.version, **values)
    _event_for(ctx.session, row, kind, actor or ctx.actor,
               dict(detail or {}, error=error[:1024]))
    return ok


@_main.writer
def mark_deleting(ctx, row: models.VmExpire, owner: str,
                  now: datetime.datetime) -> bool:
    """Commit to deleting: from here on extensions are refused.

    Conditional on the version the decision was made on; False means an
    extension (or anything else) changed the row: do not delete.
    """
    return _conditional(ctx, row.id, owner, row.version,
                        deleting_at=expiration.utc(now))


@_main.writer
def unmark_deleting(ctx, row: models.VmExpire, owner: str) -> bool:
    """Give up a deletion that did not happen (Nova error, locked...)."""
    return _conditional(ctx, row.id, owner, row.version, deleting_at=None)


@_main.writer
def finish(ctx, row: models.VmExpire, kind: str,
           actor: str | None = None, detail: dict | None = None) -> None:
    """Close a record after its server was deleted ('deleted') or found
    gone ('closed')."""
    session = ctx.session
    current = session.get(models.VmExpire, row.id)
    _event_for(session, row, kind, actor or ctx.actor,
               dict(detail or {}, expire_at=expiration.iso(row.expire_at)))
    if current is not None:
        session.delete(current)


@_main.writer
def clear_extend_notice(ctx, row: models.VmExpire) -> None:
    M = models.VmExpire
    ctx.session.execute(
        sa.update(M).where(M.id == row.id, M.version == row.version)
        .values(extend_notice_pending=False)
        .execution_options(synchronize_session=False))


@_main.reader
def pending_extend_notices(ctx, limit: int) -> list[models.VmExpire]:
    stmt = (sa.select(models.VmExpire)
            .where(models.VmExpire.extend_notice_pending.is_(True))
            .order_by(models.VmExpire.updated_at).limit(limit))
    return list(ctx.session.scalars(stmt))


@_main.writer
def postpone(ctx, row: models.VmExpire, owner: str,
             until: datetime.datetime) -> bool:
    """Move a claimed row's next look to ``until`` (cleaner, excluded row).

    Conditional on claim and version like every cleaner step. Only ever
    delays the row, so it can never make a deletion happen earlier. A
    deletion mark left by a cleaner that died mid-deletion is cleared:
    the row is not being deleted, so it may be extended or removed again.
    """
    return _conditional(ctx, row.id, owner, row.version,
                        next_action_at=expiration.utc(until),
                        deleting_at=None)


@_main.reader
def db_utcnow(ctx) -> datetime.datetime:
    """Naive UTC now from the database server's clock, to the second.

    The cleaners take their time from here: every cleaner, on any host,
    then shares one clock, so host clock skew or a host clock jump cannot
    make one cleaner's live claim look lapsed to another.
    """
    dialect = ctx.session.bind.dialect.name
    if dialect == 'mysql':
        value = ctx.session.execute(sa.text('SELECT UTC_TIMESTAMP()'))
    elif dialect == 'postgresql':
        value = ctx.session.execute(sa.text(
            "SELECT CAST(clock_timestamp() AT TIME ZONE 'UTC' AS timestamp)"))
    else:
        value = ctx.session.execute(sa.text(
            "SELECT strftime('%Y-%m-%d %H:%M:%S', 'now')"))
    value = value.scalar()
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value.replace(microsecond=0, tzinfo=None)


# -- the API's read paths: plain rows, one round trip -------------------------
# The API renders rows and never changes them, so it reads plain column rows
# (no ORM identity map) and lets the database compute what it needs beside
# each row: whether an exclusion covers it and, for a list, the total.

def _excluded_column() -> sa.ColumnElement:
    """True when a vmexclude row names the record's domain, project or user
    (a few unique-index lookups per row instead of the whole table)."""
    M, X = models.VmExpire.__table__.c, models.VmExclude.__table__.c
    return sa.exists().where(sa.or_(
        sa.and_(X.exclude_type == 'domain', X.exclude_id == M.domain_id),
        sa.and_(X.exclude_type == 'project', X.exclude_id == M.project_id),
        sa.and_(X.exclude_type == 'user', X.exclude_id == M.user_id),
    )).label('excluded')


# What the API renders of a record (osvmexpire.api.views.vmexpire): the
# cleaner's bookkeeping columns stay in the database.
_VIEW_COLUMNS = ('id', 'instance_id', 'instance_name', 'project_id',
                 'user_id', 'created_at', 'updated_at', 'expire_at',
                 'notified_at', 'notified_last_at', 'extensions')


def _view_columns(table) -> list:
    return [table.c[name] for name in _VIEW_COLUMNS]


@functools.cache
def _view_statements(scoped: bool, instance: bool, user: bool, before: bool,
                     marker: bool, limit: bool) -> tuple:
    """(page, count) statements of :func:`list_vmexpires_view` for one
    combination of filters, built once: values are bound parameters."""
    T = models.VmExpire.__table__

    def filters(c) -> list:
        where = []
        if scoped:
            where.append(c.project_id == sa.bindparam('project_id'))
        if instance:
            where.append(c.instance_id == sa.bindparam('instance_id'))
        if user:
            where.append(c.user_id == sa.bindparam('user_id'))
        if before:
            where.append(c.expire_at < sa.bindparam('expire_before'))
        return where

    counted = T.alias('counted')
    count = (sa.select(sa.func.count()).select_from(counted)
             .where(*filters(counted.c)))
    page = filters(T.c)
    if marker:
        K = T.alias('marker')
        mk = sa.select(K.c.expire_at).where(K.c.id == sa.bindparam('marker'))
        if scoped:
            mk = mk.where(K.c.project_id == sa.bindparam('project_id'))
        page.extend(_after(T.c.expire_at, T.c.id, mk.scalar_subquery(),
                           sa.bindparam('marker')))
    stmt = (sa.select(*_view_columns(T), _excluded_column(),
                      count.scalar_subquery().label('total'))
            .where(*page).order_by(T.c.expire_at, T.c.id))
    if limit:
        stmt = stmt.limit(sa.bindparam('limit', type_=sa.Integer))
    return stmt, count


@functools.cache
def _get_view_statement(scoped: bool):
    T = models.VmExpire.__table__
    stmt = (sa.select(*_view_columns(T), _excluded_column())
            .where(T.c.id == sa.bindparam('vmexpire_id')))
    if scoped:
        stmt = stmt.where(T.c.project_id == sa.bindparam('project_id'))
    return stmt


@_main.reader
def get_vmexpire_view(ctx, vmexpire_id: str,
                      project_id: str | None = None) -> sa.Row:
    """One record as a row with an ``excluded`` column; like
    :func:`get_vmexpire` (NotFound, scoped by ``project_id``)."""
    row = ctx.session.execute(
        _get_view_statement(project_id is not None),
        {'vmexpire_id': vmexpire_id, 'project_id': project_id}).first()
    if row is None:
        raise exception.NotFound('vmexpire %s not found' % vmexpire_id)
    return row


@_main.reader
def list_vmexpires_view(ctx, project_id: str | None = None,
                        instance_id: str | None = None,
                        user_id: str | None = None,
                        expire_before: datetime.datetime | None = None,
                        limit: int | None = None,
                        marker: str | None = None
                        ) -> tuple[list[sa.Row], int]:
    """:func:`list_vmexpires` for the API, in one statement: the rows carry
    ``excluded``, the total comes with them and the marker is a subquery.
    Only an empty page costs more queries (the total, the marker check)."""
    if expire_before is not None:
        expire_before = expiration.utc(expire_before)
    params = {'project_id': project_id, 'instance_id': instance_id,
              'user_id': user_id, 'expire_before': expire_before,
              'marker': marker, 'limit': limit}
    stmt, count = _view_statements(
        *(params[k] is not None for k in (
            'project_id', 'instance_id', 'user_id', 'expire_before',
            'marker', 'limit')))
    used = {k: v for k, v in params.items() if v is not None}
    rows = ctx.session.execute(stmt, used).all()
    if rows:
        return rows, rows[0].total
    if marker is not None:
        T = models.VmExpire.__table__
        mk = sa.select(T.c.id).where(T.c.id == marker)
        if project_id is not None:
            mk = mk.where(T.c.project_id == project_id)
        if ctx.session.scalar(mk) is None:
            raise exception.NotFound('marker %s not found' % marker)
    count_params = {k: v for k, v in used.items()
                    if k not in ('marker', 'limit')}
    return rows, ctx.session.scalar(count, count_params)
