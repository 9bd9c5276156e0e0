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
"""Prototype (benchmark only): the worker with batched database writes.

The real endpoint spends two transactions and eight statements on every
``instance.create.end`` (tombstone check, INSERT in a savepoint, audit
event, commit, re-read of the events). In a burst of boots that is what
limits ingest. This prototype takes the notifications in batches
(``oslo_messaging.get_batch_notification_listener``) and stores a batch
of creations with four statements in one transaction:

    SELECT instance_id FROM vmexpire WHERE instance_id IN (...)  tracked
    newest created/terminal event per instance_id IN (...)       tombstones
    INSERT vmexpire (many rows); INSERT vmexpire_event (many rows)
    COMMIT
    then one SELECT of terminal events for the new ids (a delete that
    raced with us, as the real endpoint re-checks per instance)

Semantics are the real endpoint's: a repeated create does not reset an
expiry, a tombstoned instance is not re-created, a transient failure
requeues (the whole batch; redelivery is harmless as every handler is
idempotent). A batch with anything else than distinct creations, or whose
bulk INSERT hits a duplicate (another worker was faster), falls back to
the real per-message endpoint.
"""

import contextlib
import datetime
import threading
import uuid

import oslo_messaging
import sqlalchemy as sa
from oslo_db import exception as db_exc
from oslo_log import log

from osvmexpire import context
from osvmexpire import expiration
from osvmexpire.db import api as db_api
from osvmexpire.db import models
from osvmexpire.worker import endpoint as worker_endpoint
from osvmexpire.worker import service as worker_service

LOG = log.getLogger(__name__)


class _Probe:
    notified_at = None
    notified_last_at = None

    def __init__(self, expire_at: datetime.datetime):
        self.expire_at = expire_at


class BatchEndpoint:
    """Batch endpoint: ``info(messages)`` with a list of notifications."""

    filter_rule = worker_endpoint.NovaNotificationEndpoint.filter_rule

    def __init__(self, conf):
        self.single = worker_endpoint.NovaNotificationEndpoint(conf)
        self.settings = self.single.settings
        # SQLite has one writer: concurrent batches would fail with
        # "database is locked" and be requeued; let them take turns.
        self._write_turn = (
            threading.Lock()
            if (conf.database.connection or '').startswith('sqlite')
            else contextlib.nullcontext())

    def info(self, messages):
        creates, seen = [], set()
        for msg in messages:
            if msg['event_type'] not in worker_endpoint.CREATE_EVENTS:
                return self._one_by_one(messages)
            try:
                inst = worker_endpoint.parse_instance(msg['payload'], True)
            except worker_endpoint.MalformedNotification:
                return self._one_by_one(messages)
            if inst.instance_id in seen:
                return self._one_by_one(messages)
            seen.add(inst.instance_id)
            creates.append((inst, msg['event_type']))
        try:
            with self._write_turn:
                self._create_all(context.get_admin_context(), creates)
        except db_exc.DBDuplicateEntry:
            return self._one_by_one(messages)
        except worker_endpoint.TRANSIENT_ERRORS as exc:
            LOG.warning('Requeueing %d notifications: %s', len(messages), exc)
            self.single._pause()
            return worker_endpoint.REQUEUE
        return worker_endpoint.HANDLED

    def _one_by_one(self, messages):
        for msg in messages:
            result = self.single.handle(msg['event_type'], msg['payload'],
                                        msg['metadata'])
            if result == worker_endpoint.REQUEUE:
                return result
        return worker_endpoint.HANDLED

    def _create_all(self, ctx, creates) -> None:
        M, E = models.VmExpire, models.VmExpireEvent
        now = db_api.utcnow()
        ids = [inst.instance_id for inst, _ in creates]
        new_ids = []
        with db_api.context_manager().writer.using(ctx) as session:
            tracked = set(session.scalars(
                sa.select(M.instance_id).where(M.instance_id.in_(ids))))
            skip = tracked | db_api.removed_instance_ids(ctx, ids)
            rows, events = [], []
            for inst, event_type in creates:
                if inst.instance_id in skip:
                    continue
                created = inst.created_at or now
                expire_at = expiration.initial_expiry(created, self.settings,
                                                      now=now)
                row_id = str(uuid.uuid4())
                rows.append({
                    'id': row_id, 'instance_id': inst.instance_id,
                    'instance_name': (inst.name or '')[:255],
                    'project_id': inst.project_id, 'user_id': inst.user_id,
                    'domain_id': inst.domain_id,
                    'created_at': min(created, now), 'expire_at': expire_at,
                    'extensions': 0, 'version': 1, 'failures': 0,
                    'extend_notice_pending': False,
                    'next_action_at': expiration.next_step(
                        _Probe(expire_at), self.settings).at})
                events.append({
                    'vmexpire_id': row_id, 'instance_id': inst.instance_id,
                    'project_id': inst.project_id, 'event': 'created',
                    'actor': ctx.actor, 'created_at': now,
                    'detail': {'source': event_type,
                               'expire_at': expire_at.isoformat() + 'Z'}})
                new_ids.append(inst.instance_id)
            if rows:
                session.execute(sa.insert(M.__table__), rows)
                session.execute(sa.insert(E.__table__), events)
        if not new_ids:
            return
        # A delete handled meanwhile by another worker (see the endpoint).
        with db_api.context_manager().reader.using(ctx) as session:
            raced = set(session.scalars(
                sa.select(E.instance_id).where(
                    E.instance_id.in_(new_ids),
                    E.event.in_(models.TERMINAL_EVENTS))))
        for iid in raced:
            db_api.close_instance(ctx, iid, detail={
                'source': 'instance.create.end',
                'reason': 'deleted meanwhile'})


def build_listener(conf, transport, batch_size: int = 100,
                   batch_timeout: float = 0.2):
    """The batched counterpart of ``worker.service.build_listener``."""
    return oslo_messaging.get_batch_notification_listener(
        transport, worker_service.targets(conf), [BatchEndpoint(conf)],
        executor='threading', allow_requeue=True,
        pool=conf.nova_notifications.pool_name, batch_size=batch_size,
        batch_timeout=batch_timeout)
