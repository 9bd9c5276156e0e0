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
"""What the worker does with one Nova notification.

Nova sends each event twice when ``[notifications] notification_format``
is ``both``: versioned (topic ``versioned_notifications``, event
``instance.create.end``, the data under ``payload['nova_object.data']``)
and legacy (topic ``notifications``, event ``compute.instance.create.end``,
a flat payload). Either one is enough; handling both is harmless because
every handler is idempotent:

=============================  ==============================================
event                          effect
=============================  ==============================================
``[compute.]instance.create    a record expiring ``max_vm_duration`` from
.end``                         now; a repeat never resets it; ignored after
                               the instance's delete (tombstone)
``[compute.]instance.delete    the record is closed (audit event kept); the
.end``                         event is written even without a record, so a
                               late create cannot bring the server back
``[compute.]instance.update``  the stored instance name follows renames
=============================  ==============================================

Notifications arrive in batches (oslo.messaging's batch listener, up to
``[worker] batch_size`` of them or what came within ``batch_timeout``).
The creations of distinct instances in a batch are stored together in one
transaction (:func:`db_api.create_vmexpires`), which is what a burst of
boots needs; everything else is handled one message at a time, in order.

The result tells oslo.messaging what to do with the batch: HANDLED
acknowledges it; REQUEUE (database down, any transient fault) gives it
back to RabbitMQ so nothing is lost (the messages of the batch that were
applied are applied again, harmlessly). A payload that can never be applied
(no instance id...) is logged once, with its message id, and acknowledged.
Exclusions are not looked at here: every server gets a record and the
cleaner checks exclusions when it acts.
"""

import dataclasses
import datetime
import threading
import time

import oslo_messaging
import sqlalchemy.exc
from oslo_db import exception as db_exc
from oslo_log import log

from osvmexpire import context
from osvmexpire import exception
from osvmexpire import expiration
from osvmexpire.db import api as db_api
from osvmexpire.db import models

LOG = log.getLogger(__name__)

CREATE_EVENTS = frozenset(('instance.create.end',
                           'compute.instance.create.end'))
DELETE_EVENTS = frozenset(('instance.delete.end',
                           'compute.instance.delete.end'))
UPDATE_EVENTS = frozenset(('instance.update', 'compute.instance.update'))

# Matched by oslo.messaging before the endpoint is called: the many other
# events Nova sends (create.start, shutdown, scheduler...) cost one regex.
EVENT_TYPE_RE = r'^(compute\.)?instance\.(create\.end|delete\.end|update)$'

HANDLED = oslo_messaging.NotificationResult.HANDLED
REQUEUE = oslo_messaging.NotificationResult.REQUEUE

# Database errors that retrying can never fix: the payload is at fault.
PERMANENT_DB_ERRORS = (db_exc.DBDataError, db_exc.DBInvalidUnicodeParameter)
TRANSIENT_ERRORS = (db_exc.DBError, sqlalchemy.exc.SQLAlchemyError, OSError)


class MalformedNotification(ValueError):
    """The payload lacks what the event needs; retrying cannot help."""


@dataclasses.dataclass(frozen=True)
class Instance:
    """What the worker needs of a Nova instance, whatever the format."""

    instance_id: str
    project_id: str | None = None
    user_id: str | None = None
    name: str | None = None
    created_at: datetime.datetime | None = None
    domain_id: str | None = None
    # False when an update says the name did not change (Nova sets
    # old_display_name only on a rename), so most updates cost no query.
    renamed: bool = True


def _text(data: dict, key: str, max_len: int,
          required: bool = False) -> str | None:
    value = data.get(key)
    if value in (None, ''):
        if required:
            raise MalformedNotification('no %s' % key)
        return None
    if not isinstance(value, str):
        raise MalformedNotification('%s is not a string' % key)
    if len(value) > max_len:
        raise MalformedNotification('%s longer than %d characters'
                                    % (key, max_len))
    return value


def parse_time(value) -> datetime.datetime | None:
    """Nova's times as naive UTC; None when unset or unreadable.

    Versioned: ``2026-11-25T14:34:56Z`` or null. Legacy: ``created_at``
    is ``2026-11-25 14:34:56+00:00``, other times
    ``2026-11-25T14:34:57.945792`` (UTC without a zone) or ``""``.
    """
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return expiration.utc(parsed).replace(microsecond=0)


def parse_instance(payload, require_project: bool = False) -> Instance:
    """The instance a versioned or legacy payload is about.

    Versioned payloads wrap the data (``InstanceCreatePayload`` 1.13,
    ``InstanceActionPayload`` 1.9, ``InstanceUpdatePayload`` 2.1 in Nova
    34)::

        {"nova_object.name": "InstanceCreatePayload",
         "nova_object.data": {"uuid": "fcdf4d91-...", "tenant_id": "6f70...",
                              "user_id": "admin", "display_name": "test-vm",
                              "created_at": "2026-11-25T14:34:56Z", ...}}

    Legacy payloads are flat and name the id ``instance_id``::

        {"instance_id": "fcdf4d91-...", "tenant_id": "6f70...",
         "user_id": "admin", "display_name": "test-vm",
         "created_at": "2026-11-25 14:34:56+00:00", ...}

    Neither carries a domain; ``domain_id`` is read if a payload has one.
    Raises :class:`MalformedNotification`.
    """
    if not isinstance(payload, dict):
        raise MalformedNotification('payload is not an object')
    if 'nova_object.data' in payload:
        data = payload['nova_object.data']
        if not isinstance(data, dict):
            raise MalformedNotification('nova_object.data is not an object')
        id_key = 'uuid'
    else:
        data, id_key = payload, 'instance_id'
    return Instance(
        instance_id=_text(data, id_key, 36, required=True),
        project_id=_text(data, 'tenant_id', 64, required=require_project),
        user_id=_text(data, 'user_id', 64),
        name=_text(data, 'display_name', 10000),
        created_at=parse_time(data.get('created_at')),
        domain_id=(_text(data, 'domain_id', 64)
                   or _text(data, 'project_domain_id', 64)),
        renamed=data.get('old_display_name', '') is not None)


class NovaNotificationEndpoint:
    """oslo.messaging endpoint for Nova's instance notifications.

    Nova sends them at INFO priority, so ``info`` is the only method and
    the listener subscribes to ``<topic>.info`` only.
    """

    filter_rule = oslo_messaging.NotificationFilter(event_type=EVENT_TYPE_RE)

    def __init__(self, conf, retry_delay: float = 0.5,
                 max_retry_delay: float = 10.0, clock=None):
        """``retry_delay``: first pause before a requeue, doubled per
        consecutive failure up to ``max_retry_delay``, so a database
        outage does not turn into a hot redelivery loop."""
        self.settings = expiration.Settings.from_conf(conf)
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self._clock = clock or db_api.utcnow
        self._failures = 0
        self._lock = threading.Lock()
        # Else, on SQLite, concurrent batches would fail and be requeued
        # in storms.
        self._write_turn = db_api.write_turn(conf)

    def info(self, messages: list[dict]) -> str:
        """A batch from the batch listener: dicts with ``event_type``,
        ``payload``, ``metadata``... already matched by ``filter_rule``."""
        return self.handle_batch(messages)

    def handle_batch(self, messages: list[dict]) -> str:
        """Apply a batch; HANDLED, or REQUEUE for the whole batch."""
        creates, rest = self._split(messages)
        with self._write_turn:
            if creates:
                try:
                    self._create_all(context.get_admin_context(), creates)
                except (exception.Duplicate, *PERMANENT_DB_ERRORS) as exc:
                    # Another worker tracked one of them meanwhile, or one
                    # payload is refused: one by one, each gets its answer.
                    LOG.debug('Batch of %d creations handled one by one: '
                              '%s', len(creates), exc)
                    rest = list(messages)
                except TRANSIENT_ERRORS as exc:
                    LOG.warning('Requeueing %d notifications: %s',
                                len(messages), exc)
                    self._pause()
                    return REQUEUE
                except Exception:
                    LOG.exception('Requeueing %d notifications after an '
                                  'unexpected error', len(messages))
                    self._pause()
                    return REQUEUE
            for msg in rest:
                # The first failure requeues the whole batch: no point in
                # applying later messages that will come back anyway.
                if self.handle(msg.get('event_type'), msg.get('payload'),
                               msg.get('metadata')) == REQUEUE:
                    return REQUEUE
        with self._lock:
            self._failures = 0
        return HANDLED

    @staticmethod
    def _split(messages: list[dict]):
        """The creations to store together, and the messages to apply
        one by one.

        A creation goes with the batch when its payload is valid and no
        delete or rename of its instance is in the batch; so the two
        groups concern different instances and their order does not
        matter, while a create and a delete of one instance are applied
        one by one, in the order they came. A repeated creation (Nova's
        two formats, a redelivery) would be a no-op after the first one,
        so only the first is kept; so is an update that renames nothing.
        """
        parsed, conflicts = [], set()
        for msg in messages:
            event_type = msg.get('event_type')
            try:
                inst = parse_instance(
                    msg.get('payload'),
                    require_project=event_type in CREATE_EVENTS)
            except MalformedNotification:
                inst = None
            parsed.append((msg, event_type, inst))
            if inst is None:
                continue
            if event_type in DELETE_EVENTS or (
                    event_type in UPDATE_EVENTS and inst.renamed
                    and inst.name is not None):
                conflicts.add(inst.instance_id)
        creates, taken, rest = [], set(), []
        for msg, event_type, inst in parsed:
            if (event_type in CREATE_EVENTS and inst is not None
                    and inst.instance_id not in conflicts):
                if inst.instance_id not in taken:
                    taken.add(inst.instance_id)
                    creates.append((inst, event_type))
            else:
                rest.append(msg)
        return creates, rest

    def handle(self, event_type: str, payload, metadata=None) -> str:
        """Apply one notification; return HANDLED or REQUEUE."""
        message_id = (metadata or {}).get('message_id')
        if event_type in CREATE_EVENTS:
            action = self._create
        elif event_type in DELETE_EVENTS:
            action = self._delete
        elif event_type in UPDATE_EVENTS:
            action = self._rename
        else:
            return HANDLED
        try:
            instance = parse_instance(
                payload, require_project=event_type in CREATE_EVENTS)
            action(context.get_admin_context(), instance, event_type)
        except MalformedNotification as exc:
            LOG.error('Dropping malformed %s notification (message id %s): '
                      '%s', event_type, message_id, exc)
            return HANDLED
        except PERMANENT_DB_ERRORS as exc:
            LOG.error('Dropping %s notification (message id %s) the '
                      'database refuses: %s', event_type, message_id, exc)
            return HANDLED
        except TRANSIENT_ERRORS as exc:
            LOG.warning('Requeueing %s notification (message id %s): %s',
                        event_type, message_id, exc)
            self._pause()
            return REQUEUE
        except Exception:
            LOG.exception('Requeueing %s notification (message id %s) after '
                          'an unexpected error', event_type, message_id)
            self._pause()
            return REQUEUE
        with self._lock:
            self._failures = 0
        return HANDLED

    def _pause(self) -> None:
        """Back off before the message goes back to the queue."""
        with self._lock:
            self._failures += 1
            delay = min(self.max_retry_delay,
                        self.retry_delay * 2 ** (self._failures - 1))
        time.sleep(delay)

    def _create(self, ctx, instance: Instance, event_type: str) -> None:
        now = self._clock()
        created = instance.created_at or now
        expire_at = expiration.initial_expiry(created, self.settings,
                                              now=now)
        try:
            row = db_api.create_vmexpire(
                ctx, instance_id=instance.instance_id,
                project_id=instance.project_id,
                expire_at=expire_at, settings=self.settings,
                instance_name=instance.name or '',
                user_id=instance.user_id, domain_id=instance.domain_id,
                created_at=min(created, now),
                detail={'source': event_type}, respect_tombstone=True)
        except exception.Duplicate:
            LOG.debug('Instance %s is tracked already', instance.instance_id)
            return
        except exception.Tombstoned as exc:
            LOG.info('Not tracking instance %s: %s', instance.instance_id, exc)
            return
        LOG.info('Tracking instance %s of project %s, expires %sZ',
                 instance.instance_id, instance.project_id,
                 row.expire_at.isoformat())
        # A delete handled at the same moment by another worker may have
        # missed our uncommitted row, as we missed its tombstone: whichever
        # commits last sees the other. The tombstone was not there when we
        # checked, so any terminal event now is that concurrent delete.
        events = db_api.list_events(ctx, instance_id=instance.instance_id)
        if any(e.event in models.TERMINAL_EVENTS for e in events):
            db_api.close_instance(ctx, instance.instance_id,
                                  detail={'source': event_type,
                                          'reason': 'deleted meanwhile'})

    def _create_all(self, ctx, creates: list[tuple[Instance, str]]) -> None:
        """:meth:`_create` for many distinct instances, in one transaction
        and one post-commit check."""
        now = self._clock()
        items, expiries = [], {}
        for inst, event_type in creates:
            created = inst.created_at or now
            expire_at = expiration.initial_expiry(created, self.settings,
                                                  now=now)
            expiries[inst.instance_id] = (inst.project_id, expire_at)
            items.append({
                'instance_id': inst.instance_id,
                'project_id': inst.project_id, 'expire_at': expire_at,
                'instance_name': inst.name or '', 'user_id': inst.user_id,
                'domain_id': inst.domain_id,
                'created_at': min(created, now),
                'detail': {'source': event_type}})
        new_ids = db_api.create_vmexpires(ctx, items, self.settings)
        if new_ids:
            # One line per batch (a log record costs about as much as the
            # row's share of the INSERT); each instance id is on it.
            LOG.info('Tracking %d instance(s): %s', len(new_ids), ', '.join(
                'instance %s of project %s expires %sZ'
                % (iid, expiries[iid][0], expiries[iid][1].isoformat())
                for iid in new_ids))
        if len(new_ids) < len(items):
            LOG.debug('%d of %d instances tracked already or deleted',
                      len(items) - len(new_ids), len(items))
        if not new_ids:
            return
        # A delete handled meanwhile by another worker: see _create.
        sources = dict((inst.instance_id, event_type)
                       for inst, event_type in creates)
        for iid in sorted(db_api.terminal_instance_ids(ctx, new_ids)):
            db_api.close_instance(ctx, iid,
                                  detail={'source': sources[iid],
                                          'reason': 'deleted meanwhile'})
            LOG.info('Instance %s was deleted meanwhile: expiration '
                     'closed', iid)

    def _delete(self, ctx, instance: Instance, event_type: str) -> None:
        iid = instance.instance_id
        with db_api.context_manager().writer.using(ctx):
            last = db_api.last_lifecycle_event(ctx, iid)
            if last is not None and last.event in models.TERMINAL_EVENTS:
                LOG.debug('Instance %s already %s', iid, last.event)
                return
            closed = db_api.close_instance(
                ctx, iid, kind='closed', detail={'source': event_type},
                project_id=instance.project_id)
        if closed:
            LOG.info('Instance %s deleted: expiration closed', iid)
            return
        LOG.debug('Instance %s deleted before it was tracked', iid)
        # See _create: a concurrent create may have committed meanwhile.
        try:
            db_api.get_vmexpire_by_instance(ctx, iid)
        except exception.NotFound:
            return
        db_api.close_instance(ctx, iid, kind='closed',
                              detail={'source': event_type,
                                      'reason': 'created meanwhile'})

    def _rename(self, ctx, instance: Instance, event_type: str) -> None:
        if not instance.renamed or instance.name is None:
            return
        if db_api.rename_instance(
                ctx, instance.instance_id, instance.name):
            LOG.debug('Instance %s renamed to %r', instance.instance_id,
                      instance.name)
