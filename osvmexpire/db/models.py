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
"""SQLAlchemy models: vmexpire, vmexclude and the vmexpire_event audit trail.

Times are naive UTC ``DateTime`` columns on every backend. Models and the
alembic migrations must match: ``tests/functional/test_migrations.py``
compares them on SQLite, MariaDB and PostgreSQL.
"""

import datetime

import sqlalchemy as sa
from oslo_db.sqlalchemy import types as db_types
from sqlalchemy import orm


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None,
                                                       microsecond=0)


class Base(orm.DeclarativeBase):
    pass


EXCLUDE_TYPES = ('domain', 'project', 'user')

# What the audit trail records. Terminal kinds end tracking of an instance:
# the worker will not re-create a record after one of them (a late
# create.end), and reconciliation respects an admin's "removed".
EVENT_KINDS = ('created', 'extended', 'warned', 'deleted', 'closed',
               'removed', 'excluded', 'skipped', 'failed', 'renamed')
TERMINAL_EVENTS = ('deleted', 'closed', 'removed')


class VmExpire(Base):
    """One tracked Nova server and the state of its expiry."""

    __tablename__ = 'vmexpire'
    __table_args__ = (
        sa.UniqueConstraint('instance_id', name='uniq_vmexpire0instance_id'),
        sa.Index('ix_vmexpire_project_expire', 'project_id', 'expire_at'),
        sa.Index('ix_vmexpire_next_action', 'next_action_at'),
        sa.Index('ix_vmexpire_expire_at', 'expire_at'),
        sa.Index('ix_vmexpire_user_id', 'user_id'),
    )

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    instance_id: orm.Mapped[str] = orm.mapped_column(sa.String(36))
    instance_name: orm.Mapped[str] = orm.mapped_column(
        sa.String(255), default='')
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    user_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    domain_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=_utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, onupdate=_utcnow)
    expire_at: orm.Mapped[datetime.datetime] = orm.mapped_column(sa.DateTime)
    # Warning state for the current expire_at: when each was delivered.
    notified_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)
    notified_last_at: orm.Mapped[datetime.datetime | None] = (
        orm.mapped_column(sa.DateTime))
    extensions: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    # expiration.next_step(row).at, kept up to date on every change so the
    # cleaner finds due rows with one range scan of an index.
    next_action_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime)
    # Bumped on every change of expire_at; destructive steps are
    # conditional on the version the cleaner decided on (an extension wins).
    version: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=1)
    # Set (conditionally on version) right before the cleaner asks Nova to
    # delete the server; an extension is refused from then on.
    deleting_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)
    claimed_by: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    claimed_until: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)
    # Consecutive failed warnings or deletions, and the last reason: what
    # "osvmexpire-manage vm list --stuck" shows.
    failures: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    last_error: orm.Mapped[str | None] = orm.mapped_column(sa.String(1024))
    # An extension not yet confirmed to the owner by mail.
    extend_notice_pending: orm.Mapped[bool] = orm.mapped_column(
        sa.Boolean, default=False)


class VmExclude(Base):
    """A domain, project or user whose servers never expire."""

    __tablename__ = 'vmexclude'
    __table_args__ = (
        sa.UniqueConstraint('exclude_type', 'exclude_id',
                            name='uniq_vmexclude0type0id'),
    )

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    exclude_type: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    exclude_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=_utcnow)


class VmExpireEvent(Base):
    """Append-only audit trail: what happened to which server, who, when."""

    __tablename__ = 'vmexpire_event'
    __table_args__ = (
        sa.Index('ix_vmexpire_event_instance', 'instance_id', 'id'),
        sa.Index('ix_vmexpire_event_vmexpire', 'vmexpire_id', 'id'),
        sa.Index('ix_vmexpire_event_kind_created', 'event', 'created_at'),
    )

    id: orm.Mapped[int] = orm.mapped_column(
        sa.BigInteger().with_variant(sa.Integer, 'sqlite'),
        primary_key=True, autoincrement=True)
    vmexpire_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36))
    instance_id: orm.Mapped[str] = orm.mapped_column(sa.String(36))
    project_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    event: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    actor: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=_utcnow)
    detail: orm.Mapped[dict | None] = orm.mapped_column(
        db_types.JsonEncodedDict(mysql_as_long=True), default=dict)
