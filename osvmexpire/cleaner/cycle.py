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
"""One cleaner cycle: the I/O shell around :mod:`osvmexpire.expiration`.

For each page of due records (``next_action_at <= now``)::

    claim the page (one atomic conditional UPDATE, lapses after
    claim_timeout) and read back the rows we got; skip excluded ones
    decide with expiration.due_step
    warnings  -> one digest mail per owner; record only after SMTP accepted
    deletions -> re-read, mark_deleting (conditional on version), re-check
                 Nova (exists, same project, not locked), delete, finish;
                 up to nova_concurrency servers at a time
    release the claim (a finished record has none left)

Every step that changes a record is a conditional UPDATE on the claim and
on the version the decision was made on, so an extension that lands at
any moment wins. Every failure is confined to its record: it is logged at
WARNING, written to the audit trail, counted in ``failures`` (what
``osvmexpire-manage vm list --stuck`` shows) and retried next cycle; a
failure never leads to a deletion.
"""

import collections
import concurrent.futures
import dataclasses
import datetime
import os
import socket
import threading
import uuid

from novaclient import exceptions as nova_exc
from oslo_log import log

from osvmexpire import clients
from osvmexpire import context as os_context
from osvmexpire import expiration
from osvmexpire.cleaner import owners as owners_mod
from osvmexpire.db import api as db_api
from osvmexpire.notifier import mail
from osvmexpire.notifier import render

LOG = log.getLogger(__name__)

# Nova microversion that reports the ``locked`` field of a server.
NOVA_MIN_VERSION = '2.9'
# An excluded record is looked at again after this long, so removing the
# exclusion takes effect without scanning excluded rows every cycle.
EXCLUDED_RECHECK = datetime.timedelta(hours=1)
# The operator hears of a stuck record on its first failure, then again
# every this many failed attempts (a reminder, not a flood).
OPERATOR_REMINDER_EVERY = 24


def _db_clock() -> datetime.datetime:
    return db_api.db_utcnow(os_context.get_admin_context())


def default_owner_id() -> str:
    """Claim owner: unique per cleaner process (host, pid, random)."""
    return '%s:%d:%s' % (socket.gethostname()[:200], os.getpid(),
                         uuid.uuid4().hex[:8])


@dataclasses.dataclass
class Report:
    """What one cycle did; logged and returned to callers and tests."""

    due: int = 0
    claimed: int = 0
    warned: int = 0
    mails: int = 0
    deleted: int = 0
    closed: int = 0
    skipped: int = 0
    failed: int = 0
    excluded: int = 0
    superseded: int = 0
    deferred: int = 0
    dry_run: int = 0
    confirmations: int = 0
    capped: int = 0
    problems: list = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data['problems'] = len(self.problems)
        return data

    def add(self, part: 'Report') -> None:
        """Add the counts of ``part`` (one deletion thread's) to these."""
        for field in dataclasses.fields(part):
            value = getattr(part, field.name)
            if isinstance(value, list):
                getattr(self, field.name).extend(value)
            else:
                setattr(self, field.name, getattr(self, field.name) + value)


class _Unreachable(Exception):
    """The owner cannot be mailed (no user, no address, mail refused)."""


class Cycle:
    """Runs cycles for one configuration; one instance per cleaner.

    ``nova``, ``keystone``, ``mailer`` and ``clock`` default to the real
    ones from the configuration; tests pass fakes and a fixed clock.
    """

    def __init__(self, conf, ctx=None, *, nova=None, keystone=None,
                 owners=None, mailer=None, clock=None, owner_id=None,
                 publisher=None):
        self.conf = conf
        self.ctx = ctx or os_context.get_admin_context()
        self.settings = expiration.Settings.from_conf(conf)
        # The database server's clock by default: one clock for every
        # cleaner, whatever the hosts' clocks say (see db_api.db_utcnow).
        self.clock = clock or _db_clock
        self.owner_id = owner_id or default_owner_id()
        self._nova = nova
        self._keystone = keystone
        self._owners = owners
        self._session = None
        # Clients are built on first use, possibly by a deletion thread.
        self._clients_lock = threading.Lock()
        # The deletion threads' database steps (their Nova calls overlap
        # anyway).
        self._db_turn = db_api.write_turn(conf)
        self.mailer = mailer or mail.Mailer(conf)
        self.renderer = render.Renderer(conf.smtp.template_dir)
        self.publisher = publisher
        self.ttl = datetime.timedelta(seconds=conf.cleaner.claim_timeout)
        self.dry_run = conf.cleaner.dry_run
        # A step starts only if the claim outlives its slowest outcome
        # (every call timing out), so no other cleaner can take the row
        # while we are still at it: that is what makes it exactly once.
        nova_timeout = conf.service_credentials.timeout or 30
        self.nova_margin = datetime.timedelta(seconds=2 * nova_timeout + 10)
        self.mail_margin = datetime.timedelta(
            seconds=4 * conf.smtp.email_smtp_timeout + 10)
        self._smtp_down = None
        if self.ttl <= max(self.nova_margin, self.mail_margin):
            LOG.warning('[cleaner] claim_timeout (%d s) is shorter than one '
                        'step may take (%d s with the Nova and SMTP '
                        'timeouts): such steps are always deferred',
                        conf.cleaner.claim_timeout,
                        max(self.nova_margin,
                            self.mail_margin).total_seconds())

    # -- clients (built on first use; no network until then) ---------------

    def _get_session(self):
        if self._session is None:
            # One connection kept open per deletion thread.
            self._session = clients.get_session(
                self.conf, pool_size=self.conf.cleaner.nova_concurrency)
        return self._session

    @property
    def nova(self):
        if self._nova is None:
            with self._clients_lock:
                if self._nova is None:
                    self._nova = clients.get_nova(
                        self.conf, self._get_session(),
                        min_version=NOVA_MIN_VERSION)
        return self._nova

    @property
    def owners(self) -> owners_mod.Owners:
        if self._owners is None:
            with self._clients_lock:
                if self._owners is None:
                    if self._keystone is None:
                        self._keystone = clients.get_keystone(
                            self.conf, self._get_session())
                    self._owners = owners_mod.Owners(self._keystone)
        return self._owners

    # -- the cycle ----------------------------------------------------------

    def run(self) -> Report:
        """One pass over every due record; never raises for one record."""
        report = Report()
        start = self.clock()
        self._smtp_down = None
        budget = _Budget(self.conf.cleaner.max_deletions_per_cycle)
        batch = self.conf.cleaner.batch_size
        after = None
        while True:
            page = db_api.due_ids(self.ctx, start, batch, after)
            if not page:
                break
            after = page[-1]
            report.due += len(page)
            self._batch([row_id for _, row_id in page], report, budget)
            if len(page) < batch:
                break
        if budget.refused:
            report.capped = budget.refused
            LOG.warning('max_deletions_per_cycle (%d) reached: %d more '
                        'servers are due and wait for the next cycle',
                        budget.limit, budget.refused)
        self._confirmations(report)
        self._tell_operator(report)
        counts = report.as_dict()
        # A quiet cycle is not news: keep the log readable at short
        # intervals.
        LOG.log(log.INFO if any(counts.values()) else log.DEBUG,
                'cleaner cycle done: %s', counts)
        return report

    def _batch(self, ids, report: Report, budget: '_Budget') -> None:
        now = self.clock()
        excluded = db_api.excluded_ids(self.ctx)
        rows = db_api.claim_page(self.ctx, ids, self.owner_id, now,
                                 self.ttl)
        report.claimed += len(rows)
        warnings = collections.defaultdict(list)
        deletions = []
        for row in rows:
            try:
                keep = self._decide(row, now, excluded, report, warnings,
                                    deletions)
            except Exception as exc:
                LOG.exception('cleaner: cannot decide on %s', row.id)
                self._fail(row, 'decide', 'unexpected error: %s' % exc,
                           report)
                keep = False
            if not keep:
                self._release(row)
        for user_id, entries in warnings.items():
            try:
                self._warn_owner(user_id, entries, report)
            except Exception as exc:
                LOG.exception('cleaner: warning of owner %s failed', user_id)
                for row, action in entries:
                    self._fail(row, str(action), 'unexpected error: %s'
                               % exc, report)
            finally:
                for row, _action in entries:
                    self._release(row)
        self._delete_all(deletions, report, budget)

    def _decide(self, row, now, excluded, report, warnings,
                deletions) -> bool:
        """Sort a claimed row; True if it stays claimed for a later step."""
        try:
            if self._is_excluded(row, excluded):
                report.excluded += 1
                LOG.debug('cleaner: %s (instance %s) is excluded',
                          row.id, row.instance_id)
                if not self.dry_run:
                    db_api.postpone(self.ctx, row, self.owner_id,
                                    now + EXCLUDED_RECHECK)
                return False
        except owners_mod.IdentityUnavailable as exc:
            self._fail(row, 'exclusion check',
                       'cannot check domain exclusions: %s' % exc, report)
            return False
        step = expiration.due_step(row, now, self.settings)
        delete = (step is not None
                  and step.action == expiration.Action.DELETE
                  and expiration.may_delete(row, now, self.settings))
        if row.deleting_at is not None and not delete and not self.dry_run:
            # Left by a cleaner that died mid-deletion, and the rules do
            # not allow the deletion now: make the record extendable and
            # removable again.
            db_api.unmark_deleting(self.ctx, row, self.owner_id)
        if step is None:
            return False
        if step.action == expiration.Action.DELETE:
            if not delete:
                return False
            deletions.append(row)
        else:
            warnings[row.user_id].append((row, step.action))
        return True

    def _is_excluded(self, row, excluded: dict) -> bool:
        """Exclusions at action time; domains are asked of Keystone."""
        if row.project_id in excluded.get('project', ()):
            return True
        if row.user_id and row.user_id in excluded.get('user', ()):
            return True
        domains = excluded.get('domain')
        if not domains:
            return False
        if row.domain_id and row.domain_id in domains:
            return True
        return bool(self.owners.domains(row.project_id, row.user_id)
                    & domains)

    # -- warnings -------------------------------------------------------

    def _warn_owner(self, user_id, entries, report: Report) -> None:
        """One digest mail for all of an owner's due warnings."""
        if self.dry_run:
            for row, action in entries:
                self._dry_run(row, action, report)
            return
        # Keystone first (it may be slow, and the answers are cached): the
        # claim margin checked below must only have to cover the mail.
        unreachable = None
        try:
            user = self._mail_user(user_id)
            for row, _action in entries:
                self.owners.project_name(row.project_id)
        except (owners_mod.IdentityUnavailable, _Unreachable) as exc:
            unreachable = str(exc)
        # Re-read just before mailing: drop rows an extension changed.
        now = self.clock()
        current = []
        for row, action in entries:
            fresh = db_api.get_claimed(self.ctx, row.id, self.owner_id, now)
            if fresh is None or fresh.version != row.version:
                report.superseded += 1
                continue
            if fresh.claimed_until < now + self.mail_margin:
                # Too little claim left to be sure nobody else mails it.
                report.deferred += 1
                continue
            current.append((fresh, action))
        if not current:
            return
        if self._smtp_down:
            for row, action in current:
                self._fail(row, str(action), self._smtp_down, report)
            return
        if unreachable is not None:
            for row, action in current:
                self._fail(row, str(action), unreachable, report)
            return
        items = [self._item(row, now, action) for row, action in current]
        rendered = self.renderer.render(
            'warning', owner_name=user.name, items=items,
            first_items=[i for i in items if i['stage'] == 'first'],
            last_items=[i for i in items if i['stage'] == 'last'],
            horizon_url=self.conf.smtp.horizon_url,
            extend_days=self.settings.max_vm_extend.days)
        msg = mail.build_message(self.conf, user.email, rendered)
        try:
            self.mailer.send(
                msg, bcc=self.conf.smtp.email_smtp_copy_expire_notif_to)
        except mail.MailError as exc:
            error = 'mail to %s not accepted: %s' % (user.email, exc)
            if exc.server_down:
                # Spare the other owners a timeout each: same outcome.
                self._smtp_down = error
            for row, action in current:
                self._fail(row, str(action), error, report)
            return
        report.mails += 1
        delivered = self.clock()
        for row, action in current:
            detail = {'to': user.email, 'message_id': msg['Message-ID']}
            if db_api.record_warning(self.ctx, row, self.owner_id, action,
                                     delivered, self.settings,
                                     detail=detail):
                report.warned += 1
                LOG.info('cleaner: %s warning for instance %s sent to %s',
                         action, row.instance_id, user.email)
                self._publish('vmexpire.warning.sent', row,
                              which=str(action), to=user.email)
            else:
                report.superseded += 1
                LOG.info('cleaner: instance %s changed while its warning '
                         'was sent; the new expiry gets its own warnings',
                         row.instance_id)

    def _mail_user(self, user_id) -> owners_mod.User:
        if not user_id:
            raise _Unreachable('the record has no owner (user id)')
        user = self.owners.user(user_id)
        if not user.exists:
            raise _Unreachable('owner %s no longer exists in Keystone'
                               % user_id)
        if not user.email:
            raise _Unreachable('owner %s has no e-mail address in Keystone'
                               % user_id)
        return user

    def _item(self, row, now, action=None) -> dict:
        stage = {expiration.Action.FIRST_WARNING: 'first',
                 expiration.Action.LAST_WARNING: 'last'}.get(action)
        # As seen if this warning goes out now: the deletion time it sets.
        if stage == 'first':
            probe = _Probe(row.created_at, row.expire_at, now, None)
        elif stage == 'last':
            probe = _Probe(row.created_at, row.expire_at, row.notified_at,
                           now)
        else:
            probe = row
        return {
            'record_id': row.id, 'instance_id': row.instance_id,
            'name': row.instance_name, 'project_id': row.project_id,
            'project_name': self.owners.project_name(row.project_id),
            'expire_at': row.expire_at,
            'expire_in': render.relative(row.expire_at, now),
            'delete_after': expiration.deletion_time(probe, now,
                                                     self.settings),
            'cap': expiration.expiry_cap(row.created_at, self.settings),
            'stage': stage}

    # -- deletions ------------------------------------------------------

    def _delete_all(self, rows, report: Report, budget: '_Budget') -> None:
        """Delete due servers, up to ``nova_concurrency`` at a time.

        Each server's whole sequence (``_delete_server``: re-read, re-check,
        mark_deleting, Nova re-check and delete, finish, release) runs on
        one thread of the pool, so the database and Nova latencies of
        different servers overlap. The steps for one server keep their
        order and every rule; the threads share only the claim owner, the
        budget (under a lock) and the clients.

        ``max_deletions_per_cycle`` counts servers handed to Nova's delete
        call: a row that was extended, excluded, locked or found gone uses
        none of it, and the rows the cap held back get the budget such
        rows gave back (else servers that are always skipped, due first,
        would take the whole budget every cycle and nothing else would
        ever expire). A thread reserves its share before it starts, so
        the cap holds however many threads run.
        """
        if not rows:
            return
        client_error = None
        if not self.dry_run:
            try:
                self.nova  # noqa: B018 - build the client before the threads
            except Exception as exc:
                LOG.exception('cleaner: cannot build the Nova client')
                client_error = ('error', 'client', exc)
        deleted = collections.defaultdict(list)
        lock = threading.Lock()
        pending = list(rows)
        while pending:
            workers = max(1, min(self.conf.cleaner.nova_concurrency,
                                 len(pending)))
            with concurrent.futures.ThreadPoolExecutor(
                    workers, thread_name_prefix='cleaner-delete') as pool:
                outcomes = list(pool.map(
                    lambda row: self._delete_guarded(row, budget, lock,
                                                     client_error),
                    pending))
            waiting = []
            for row, part, deleted_at in outcomes:
                if part is None:
                    waiting.append(row)
                    continue
                report.add(part)
                if deleted_at is not None:
                    deleted[row.user_id].append((row, deleted_at))
            if waiting and budget.full():
                budget.refused += len(waiting)
                for row in waiting:
                    self._release(row)
                break
            # Rows that found the budget full while others ran get what
            # those gave back; every round settles at least one row.
            pending = waiting
        self._deletion_notices(deleted, report)

    def _deletion_notices(self, deleted: dict, report: Report) -> None:
        """One notice per owner, sent ``nova_concurrency`` at a time: the
        servers are gone whatever happens, and a slow mail server (TLS,
        login) would otherwise hold the cycle for each owner in turn."""
        if not deleted:
            return

        def notice(item) -> Report:
            user_id, entries = item
            part = Report()
            try:
                self._deletion_notice(user_id, entries, part)
            except Exception:
                LOG.exception('cleaner: deletion notice to %s failed',
                              user_id)
            return part
        workers = max(1, min(self.conf.cleaner.nova_concurrency,
                             len(deleted)))
        with concurrent.futures.ThreadPoolExecutor(
                workers, thread_name_prefix='cleaner-notice') as pool:
            for part in pool.map(notice, deleted.items()):
                report.add(part)

    def _delete_guarded(self, row, budget: '_Budget',
                        lock: threading.Lock, client_error=None):
        """_delete_server; an unforeseen error fails this row only."""
        try:
            return self._delete_server(row, budget, lock, client_error)
        except Exception:
            LOG.exception('cleaner: deletion of %s failed', row.instance_id)
            return row, Report(failed=1), None

    def _delete_server(self, row, budget: '_Budget', lock: threading.Lock,
                       client_error=None):
        """One server's deletion, on a pool thread: (row, report, time).

        The report is None when the budget was full (the row waits, still
        claimed); the time is when Nova accepted the delete, else None.
        Never raises: every failure is confined to this row. The threads
        share ``self.ctx``: oslo.db keeps a context's transaction state
        per thread (the cycle's thread has used it first).
        """
        with lock:
            if budget.full():
                return row, None, None
            budget.take()           # reserved; given back unless handed
        part = Report()             # to Nova's delete call
        with self._db_turn:
            try:
                fresh = self._prepare_delete(row, part)
            except Exception as exc:
                LOG.exception('cleaner: cannot prepare deletion of %s',
                              row.instance_id)
                self._fail_quietly(row, 'unexpected error: %s' % exc, part)
                fresh = None
            if fresh is None or self.dry_run:
                if fresh is None:
                    with lock:
                        budget.give_back()
                else:
                    # A would-be deletion counts against the cap.
                    self._dry_run(fresh, expiration.Action.DELETE, part)
                self._release(row)
                return row, part, None
        result = client_error or self._nova_delete(fresh)
        if not (result[0] == 'deleted'
                or tuple(result[:2]) == ('error', 'delete')):
            # Nothing was deleted, nor may have been: give it back.
            with lock:
                budget.give_back()
        deleted_at = None
        with self._db_turn:
            try:
                deleted_at = self._finish_delete(fresh, result, part)
            except Exception as exc:
                # The row keeps deleting_at; the next cycle re-checks Nova
                # (404 then closes it) before anything else happens.
                LOG.exception('cleaner: cannot record the deletion step of '
                              '%s (%s)', fresh.instance_id, result[0])
                part.failed += 1
                self._fail_quietly(fresh, 'cannot record: %s' % exc, None)
                self._release(fresh)
            else:
                if result[0] not in ('deleted', 'gone'):
                    # finish removed the row (and its claim) otherwise.
                    self._release(fresh)
        return fresh, part, deleted_at

    def _fail_quietly(self, row, error: str, report) -> None:
        """_fail for a deletion thread: a database error is only logged."""
        try:
            self._fail(row, 'delete', error, report)
        except Exception:
            LOG.exception('cleaner: database unavailable')
            if report is not None:
                report.failed += 1

    def _prepare_delete(self, row, report: Report):
        """Re-read, re-check and mark_deleting; the row to delete or None.

        In a dry run nothing is marked: the row that would be deleted is
        returned for the caller to record.

        Runs right before the Nova calls, in fresh transactions: whatever
        changed since the decision (an extension, an exclusion) wins.
        """
        now = self.clock()
        fresh = db_api.get_claimed(self.ctx, row.id, self.owner_id, now)
        if (fresh is None or fresh.version != row.version
                or not expiration.may_delete(fresh, now, self.settings)):
            LOG.info('cleaner: instance %s changed before its deletion; '
                     'not deleted', row.instance_id)
            report.superseded += 1
            return None
        if fresh.claimed_until < now + self.nova_margin:
            report.deferred += 1
            return None
        try:
            if self._is_excluded(fresh, db_api.excluded_ids(self.ctx)):
                report.excluded += 1
                if not self.dry_run:
                    db_api.postpone(self.ctx, fresh, self.owner_id,
                                    now + EXCLUDED_RECHECK)
                return None
        except owners_mod.IdentityUnavailable as exc:
            self._fail(fresh, 'delete', 'cannot check domain exclusions: %s'
                       % exc, report)
            return None
        if self.dry_run:
            return fresh        # the caller records what it would do
        if not db_api.mark_deleting(self.ctx, fresh, self.owner_id, now):
            LOG.info('cleaner: instance %s was extended; not deleted',
                     fresh.instance_id)
            report.superseded += 1
            return None
        # From here extensions are refused until we finish or unmark.
        return fresh

    def _nova_delete(self, row):
        """Re-check the server in Nova, then delete it (worker thread).

        Returns ('deleted', time) | ('gone',) | ('problem', why) |
        ('excluded',) | ('error', step, exception) | ('late',). Only
        reads the database (the exclusions, right before deleting).
        """
        try:
            late = self.clock() > row.claimed_until - self.nova_margin
        except Exception:
            late = True                # no clock, no proof: do not start
        if late:
            # Waited too long for a free thread: the claim could lapse
            # mid-call. Leave it to the next cycle.
            return ('late',)
        try:
            server = self.nova.servers.get(row.instance_id)
        except nova_exc.NotFound:
            return ('gone',)
        except Exception as exc:
            return ('error', 'check', exc)
        problem = _server_problem(server, row)
        if problem:
            return ('problem', problem)
        try:
            # Exclusions once more, right before the irreversible call:
            # one added while this row waited for a thread (or for Nova)
            # must win. A fresh context: this runs on a worker thread.
            excluded = self._is_excluded(row, db_api.excluded_ids(
                os_context.get_admin_context()))
        except Exception as exc:
            return ('error', 'exclusion check', exc)
        if excluded:
            return ('excluded',)
        try:
            self.nova.servers.delete(row.instance_id)
        except nova_exc.NotFound:
            return ('gone',)
        except Exception as exc:
            return ('error', 'delete', exc)
        try:
            return ('deleted', self.clock())
        except Exception:
            return ('deleted', db_api.utcnow())

    def _finish_delete(self, row, result, report: Report):
        """Record what Nova said; the deletion time if we deleted it."""
        kind = result[0]
        if kind == 'deleted':
            deleted_at = result[1]
            db_api.finish(self.ctx, row, 'deleted', detail={
                'deleted_at': expiration.iso(deleted_at),
                'cleaner': self.owner_id})
            report.deleted += 1
            LOG.info('cleaner: deleted expired instance %s (%s) of project '
                     '%s', row.instance_id, row.instance_name,
                     row.project_id)
            self._publish('vmexpire.deleted', row)
            return deleted_at
        if kind == 'gone':
            db_api.finish(self.ctx, row, 'closed', detail={
                'reason': 'server not found in Nova',
                'cleaner': self.owner_id})
            report.closed += 1
            LOG.info('cleaner: instance %s is already gone; record closed',
                     row.instance_id)
            return None
        db_api.unmark_deleting(self.ctx, row, self.owner_id)
        if kind == 'late':
            report.deferred += 1
            return None
        if kind == 'excluded':
            report.excluded += 1
            db_api.postpone(self.ctx, row, self.owner_id,
                            self.clock() + EXCLUDED_RECHECK)
            return None
        if kind == 'problem':
            self._fail(row, 'delete', result[1], report, kind='skipped')
        else:
            self._fail(row, 'delete', 'Nova %s failed: %s'
                       % (result[1], _describe(result[2])), report)
        return None


    def _deletion_notice(self, user_id, entries, report: Report) -> None:
        """Tell the owner what was deleted (best effort: it is done)."""
        try:
            user = self._mail_user(user_id)
        except (owners_mod.IdentityUnavailable, _Unreachable) as exc:
            LOG.warning('cleaner: no deletion notice for %s: %s',
                        ', '.join(r.instance_id for r, _ in entries), exc)
            return
        now = self.clock()
        items = []
        for row, deleted_at in entries:
            item = self._item(row, now)
            item['deleted_at'] = deleted_at
            items.append(item)
        rendered = self.renderer.render('deleted', owner_name=user.name,
                                        items=items)
        msg = mail.build_message(self.conf, user.email, rendered)
        try:
            self.mailer.send(
                msg, bcc=self.conf.smtp.email_smtp_copy_delete_notif_to)
            report.mails += 1
        except mail.MailError as exc:
            LOG.warning('cleaner: deletion notice to %s failed: %s',
                        user.email, exc)
            with self._db_turn:
                for row, _ in entries:
                    db_api.add_event(self.ctx, 'failed', row.instance_id,
                                     row.project_id, None,
                                     detail={'step': 'deletion notice',
                                             'error': str(exc)[:1024]})

    # -- extension confirmations --------------------------------------------

    def _confirmations(self, report: Report) -> None:
        if not self.conf.smtp.send_extend_confirmation or self.dry_run:
            return
        now = self.clock()
        groups = collections.defaultdict(list)
        for row in db_api.pending_extend_notices(
                self.ctx, self.conf.cleaner.batch_size):
            if not db_api.claim(self.ctx, row.id, self.owner_id, now,
                                self.ttl):
                continue
            fresh = db_api.get_claimed(self.ctx, row.id, self.owner_id, now)
            if fresh is None or not fresh.extend_notice_pending:
                self._release(row)
                continue
            groups[fresh.user_id].append(fresh)
        for user_id, rows in groups.items():
            try:
                self._confirm(user_id, rows, now, report)
            except Exception:
                LOG.exception('cleaner: extension confirmation to %s failed',
                              user_id)
            finally:
                for row in rows:
                    self._release(row)

    def _confirm(self, user_id, rows, now, report: Report) -> None:
        try:
            user = self._mail_user(user_id)
        except _Unreachable as exc:
            # Nothing depends on a confirmation: drop it, say so.
            LOG.warning('cleaner: no extension confirmation for %s: %s',
                        ', '.join(r.instance_id for r in rows), exc)
            for row in rows:
                db_api.clear_extend_notice(self.ctx, row)
            return
        except owners_mod.IdentityUnavailable as exc:
            LOG.warning('cleaner: extension confirmation postponed: %s', exc)
            return
        items = [self._item(row, now) for row in rows]
        rendered = self.renderer.render('extended', owner_name=user.name,
                                        items=items)
        msg = mail.build_message(self.conf, user.email, rendered)
        try:
            self.mailer.send(msg)
        except mail.MailError as exc:
            LOG.warning('cleaner: extension confirmation to %s failed, '
                        'retried next cycle: %s', user.email, exc)
            return
        report.mails += 1
        report.confirmations += len(rows)
        for row in rows:
            db_api.clear_extend_notice(self.ctx, row)

    # -- failures, operator, helpers ----------------------------------------

    def _fail(self, row, step, error, report, kind='failed', ctx=None):
        """Record a failed/skipped step: WARNING log, audit, stuck list."""
        LOG.warning('cleaner: %s of instance %s (record %s, project %s) %s:'
                    ' %s; not deleted, retried next cycle', step,
                    row.instance_id, row.id, row.project_id,
                    'skipped' if kind == 'skipped' else 'failed', error)
        if self.dry_run:
            # Audit only: a dry run changes no record, not even counters.
            db_api.add_event(ctx or self.ctx, 'skipped', row.instance_id,
                             row.project_id, row.id,
                             detail={'dry_run': True, 'step': step,
                                     'error': error[:1024]})
            return None
        db_api.record_failure(ctx or self.ctx, row, self.owner_id, kind,
                              error, detail={'step': step})
        problem = None
        if row.failures % OPERATOR_REMINDER_EVERY == 0:
            problem = {'instance_id': row.instance_id,
                       'name': row.instance_name,
                       'project_id': row.project_id,
                       'user_id': row.user_id, 'step': step, 'error': error,
                       'failures': row.failures + 1}
        if report is not None:
            if kind == 'skipped':
                report.skipped += 1
            else:
                report.failed += 1
            if problem:
                report.problems.append(problem)
        return problem

    def _dry_run(self, row, action, report, ctx=None) -> None:
        LOG.info('cleaner (dry run): would %s instance %s (%s) of project '
                 '%s, expiry %s', str(action).replace('_', ' '),
                 row.instance_id, row.instance_name, row.project_id,
                 row.expire_at)
        db_api.add_event(ctx or self.ctx, 'skipped', row.instance_id,
                         row.project_id, row.id,
                         detail={'dry_run': True, 'would': str(action)})
        if report is not None:
            report.dry_run += 1

    def _tell_operator(self, report: Report) -> None:
        recipients = [a for a in self.conf.smtp.email_operator_to if a]
        if not report.problems or not recipients or self.dry_run:
            return
        rendered = self.renderer.render('operator', problems=report.problems,
                                        cleaner=self.owner_id)
        msg = mail.build_message(self.conf, recipients[0], rendered)
        try:
            self.mailer.send(msg, bcc=recipients[1:])
            report.mails += 1
        except mail.MailError as exc:
            LOG.error('cleaner: cannot mail the operator about %d stuck '
                      'servers: %s', len(report.problems), exc)

    def _release(self, row) -> None:
        try:
            db_api.release(self.ctx, row.id, self.owner_id)
        except Exception:
            # The claim lapses by itself after claim_timeout.
            LOG.exception('cleaner: cannot release %s', row.id)

    def _publish(self, event_type: str, row, **extra) -> None:
        if self.publisher is None:
            return
        payload = {'instance_id': row.instance_id, 'id': row.id,
                   'project_id': row.project_id, 'user_id': row.user_id,
                   'expire_at': row.expire_at.isoformat() + 'Z'}
        payload.update(extra)
        try:
            self.publisher(event_type, payload)
        except Exception:
            LOG.exception('cleaner: cannot emit %s', event_type)


class _Budget:
    """max_deletions_per_cycle, shared by the batches of one cycle."""

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0
        self.refused = 0

    def full(self) -> bool:
        return bool(self.limit) and self.used >= self.limit

    def take(self) -> None:
        self.used += 1

    def give_back(self) -> None:
        self.used -= 1


@dataclasses.dataclass(frozen=True)
class _Probe:
    created_at: datetime.datetime
    expire_at: datetime.datetime
    notified_at: datetime.datetime | None
    notified_last_at: datetime.datetime | None


def _server_problem(server, row) -> str | None:
    """Why Nova's server must not be deleted for this record, or None."""
    project = getattr(server, 'tenant_id', None)
    if project != row.project_id:
        return ('server belongs to project %s, the record to project %s'
                % (project, row.project_id))
    locked = getattr(server, 'locked', None)
    if locked is None:
        return 'Nova did not report whether the server is locked'
    if locked:
        return 'server is locked'
    return None


def _describe(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return '%s: %s' % (exc.__class__.__name__, text.splitlines()[0])


def run_cycle(conf, ctx=None, **kwargs) -> dict:
    """One cycle with the real clients; the counts as a dict."""
    return Cycle(conf, ctx, **kwargs).run().as_dict()
