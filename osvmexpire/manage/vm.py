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
"""``osvmexpire-manage vm ...``: tracked servers and their expiry.

Every command takes a record id or an instance id (``db_api.find_vmexpire``
refuses an ambiguous one). Changes go through :mod:`osvmexpire.db.api`, so
each is one transaction with its audit event, exactly as from the API.
"""

import datetime
import json

from cliff import lister
from cliff import show

from osvmexpire import exception
from osvmexpire import expiration
from osvmexpire.db import api as db_api
from osvmexpire.manage import app

DEFAULT_LIMIT = 200


iso = expiration.iso


def excluded_by(row, excludes: dict[str, set[str]]) -> str | None:
    """'project P' when an exclusion covers the record, else None."""
    for kind, ident in (('domain', row.domain_id),
                        ('project', row.project_id),
                        ('user', row.user_id)):
        if ident and ident in excludes.get(kind, ()):
            return '%s %s' % (kind, ident)
    return None


def record_fields(row, settings: expiration.Settings,
                  now: datetime.datetime,
                  excludes: dict[str, set[str]]) -> dict:
    """Everything an admin may want to know about one record."""
    step = expiration.next_step(row, settings)
    return {
        'id': row.id,
        'instance_id': row.instance_id,
        'instance_name': row.instance_name,
        'project_id': row.project_id,
        'user_id': row.user_id,
        'domain_id': row.domain_id,
        'created_at': iso(row.created_at),
        'updated_at': iso(row.updated_at),
        'expire_at': iso(row.expire_at),
        'max_expire_at': iso(expiration.expiry_cap(row.created_at,
                                                   settings)),
        'delete_after': iso(expiration.deletion_time(row, now, settings)),
        'next_action': str(step.action),
        'next_action_at': iso(step.at),
        'notified_at': iso(row.notified_at),
        'notified_last_at': iso(row.notified_last_at),
        'extensions': row.extensions,
        'failures': row.failures,
        'last_error': row.last_error,
        'deleting_at': iso(row.deleting_at),
        'claimed_by': row.claimed_by,
        'claimed_until': iso(row.claimed_until),
        'excluded': excluded_by(row, excludes),
    }


class VmShowBase(app.Handled, show.ShowOne):
    """A ShowOne that prints one record."""

    def show_record(self, ctx, row):
        fields = record_fields(row, self.app.settings, db_api.utcnow(),
                               db_api.excluded_ids(ctx))
        return tuple(fields), tuple(fields.values())


class VmList(app.Handled, lister.Lister):
    """List tracked servers, soonest expiry first."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--project', metavar='PROJECT_ID',
                            help='Only servers of this project.')
        parser.add_argument('--user', metavar='USER_ID',
                            help='Only servers of this user.')
        parser.add_argument('--days', type=int, metavar='N',
                            help='Only servers expiring within N days.')
        parser.add_argument('--stuck', action='store_true',
                            help='Only servers whose owner could not be '
                                 'warned or whose deletion keeps failing '
                                 '(shows the last error).')
        group = parser.add_mutually_exclusive_group()
        group.add_argument('--limit', type=int, default=DEFAULT_LIMIT,
                           metavar='N',
                           help='Show at most N rows (default %d).'
                                % DEFAULT_LIMIT)
        group.add_argument('--all', action='store_true',
                           help='Show every matching row (no limit).')
        return parser

    def take_action(self, args):
        if args.days is not None and args.days < 0:
            raise app.UsageError('--days must be 0 or more')
        if not args.all and args.limit < 1:
            raise app.UsageError('--limit must be at least 1')
        settings = self.app.settings
        ctx = self.app.admin_context()
        before = None
        if args.days is not None:
            before = db_api.utcnow() + datetime.timedelta(days=args.days)
        rows, total = db_api.list_vmexpires(
            ctx, project_id=args.project, user_id=args.user,
            expire_before=before, stuck=args.stuck,
            limit=None if args.all else args.limit)
        if len(rows) < total:
            self.app.stderr.write(
                'showing %d of %d records; use --all to see every one\n'
                % (len(rows), total))
        columns = ('ID', 'Instance', 'Instance ID', 'Project', 'User',
                   'Expires (UTC)', 'Next action', 'Next action at (UTC)')
        if args.stuck:
            columns += ('Failures', 'Last error')
        data = []
        for row in rows:
            step = expiration.next_step(row, settings)
            line = (row.id, row.instance_name, row.instance_id,
                    row.project_id, row.user_id, iso(row.expire_at),
                    str(step.action), iso(step.at))
            if args.stuck:
                line += (row.failures, row.last_error)
            data.append(line)
        return columns, data


class VmShow(VmShowBase):
    """Show one tracked server (record id or instance id)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('id', metavar='ID',
                            help='Record id or instance id.')
        return parser

    def take_action(self, args):
        ctx = self.app.admin_context()
        return self.show_record(ctx, db_api.find_vmexpire(ctx, args.id))


class VmEvents(app.Handled, lister.Lister):
    """Audit trail of a server, oldest first (also after it is gone)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('id', metavar='ID',
                            help='Record id or instance id.')
        return parser

    def take_action(self, args):
        ctx = self.app.admin_context()
        try:
            row = db_api.find_vmexpire(ctx, args.id)
            events = db_api.list_events(ctx, vmexpire_id=row.id,
                                        instance_id=row.instance_id)
        except exception.NotFound:
            # The record may be gone (deleted, removed): its trail stays.
            events = (db_api.list_events(ctx, vmexpire_id=args.id)
                      or db_api.list_events(ctx, instance_id=args.id))
            if not events:
                raise exception.NotFound(
                    'no expiration and no events for id or instance id %s'
                    % args.id)
        columns = ('ID', 'When (UTC)', 'Event', 'Actor', 'Instance ID',
                   'Detail')
        data = [(e.id, iso(e.created_at), e.event, e.actor, e.instance_id,
                 json.dumps(e.detail or {}, sort_keys=True))
                for e in events]
        return columns, data


class VmExtend(VmShowBase):
    """Extend the expiry of a server.

    ``--force`` lets an admin pass the cap and the max_vm_extend limit;
    the audit trail records that it was forced.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('id', metavar='ID',
                            help='Record id or instance id.')
        parser.add_argument('--days', type=int, metavar='N',
                            help='New expiry is now + N days (default: '
                                 'max_vm_extend).')
        parser.add_argument('--force', action='store_true',
                            help='Go past the cap and max_vm_extend.')
        return parser

    def take_action(self, args):
        settings = self.app.settings
        ctx = self.app.admin_context()
        row = db_api.find_vmexpire(ctx, args.id)
        row = db_api.extend_vmexpire(ctx, row.id, db_api.utcnow(), settings,
                                     days=args.days, force=args.force)
        return self.show_record(ctx, row)


class VmRemove(app.Command):
    """Stop tracking a server: it is kept and never expires."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('id', metavar='ID',
                            help='Record id or instance id.')
        return parser

    def take_action(self, args):
        ctx = self.app.admin_context()
        row = db_api.find_vmexpire(ctx, args.id)
        db_api.remove_vmexpire(ctx, row.id)
        self.app.stdout.write(
            'removed the expiration of instance %s (record %s): the server '
            'will not expire\n' % (row.instance_id, row.id))
        return 0


def _reconcile_module():
    """Imported late: the reconciliation pulls in the Nova client."""
    from osvmexpire.cleaner import reconcile
    return reconcile


class VmAdd(VmShowBase):
    """Start tracking an existing server (read from Nova)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('instance_id', metavar='INSTANCE_ID',
                            help='Nova server id.')
        return parser

    def take_action(self, args):
        conf = self.app.conf
        ctx = self.app.admin_context()
        reconcile = _reconcile_module()
        row = reconcile.track_server(conf, ctx, args.instance_id,
                                     actor=ctx.actor)
        return self.show_record(ctx, row)


class VmSync(app.Handled, show.ShowOne):
    """One reconciliation pass with Nova; prints what it changed."""

    def take_action(self, args):
        conf = self.app.conf
        ctx = self.app.admin_context()
        counts = _reconcile_module().reconcile(conf, ctx)
        keys = [k for k in ('created', 'closed', 'unchanged', 'skipped')
                if k in counts]
        keys += sorted(k for k in counts if k not in keys)
        return tuple(keys), tuple(counts[k] for k in keys)


COMMANDS = {
    'vm list': VmList,
    'vm show': VmShow,
    'vm events': VmEvents,
    'vm extend': VmExtend,
    'vm remove': VmRemove,
    'vm add': VmAdd,
    'vm sync': VmSync,
}
