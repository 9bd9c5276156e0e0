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
"""``openstack vmexpire ...``: the expiry of your servers.

Every command taking an id accepts the record id or the server's id.
"""

import json
import logging

from osc_lib import exceptions
from osc_lib.command import command

LOG = logging.getLogger(__name__)

LIST_COLUMNS = (
    ('id', 'ID'),
    ('instance_id', 'Instance ID'),
    ('instance_name', 'Instance Name'),
    ('expire_at', 'Expire At'),
    ('next_action', 'Next Action'),
    ('next_action_at', 'Next Action At'),
)
LONG_COLUMNS = (
    ('project_id', 'Project ID'),
    ('user_id', 'User ID'),
    ('delete_after', 'Delete After'),
    ('max_expire_at', 'Max Expire At'),
    ('extensions', 'Extensions'),
    ('excluded', 'Excluded'),
)
SHOW_FIELDS = (
    'id', 'instance_id', 'instance_name', 'project_id', 'user_id',
    'created', 'updated', 'expire_at', 'expire', 'delete_after',
    'max_expire_at', 'next_action', 'next_action_at', 'extensions',
    'notified', 'notified_at', 'notified_last', 'notified_last_at',
    'excluded',
)


def flatten(record: dict) -> dict:
    """The API's record with ``next_action`` split into action and time."""
    flat = dict(record)
    nxt = flat.pop('next_action', None) or {}
    flat['next_action'] = nxt.get('action')
    flat['next_action_at'] = nxt.get('at')
    return flat


def show_record(record: dict):
    flat = flatten(record)
    fields = [f for f in SHOW_FIELDS if f in flat]
    fields += sorted(k for k in flat if k not in fields and k != 'links')
    return tuple(fields), tuple(flat.get(f) for f in fields)


def _client(cmd):
    return cmd.app.client_manager.vmexpire


class ListVmExpire(command.Lister):
    """List server expirations (your project's, or every project's)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--all-projects', action='store_true',
                            help='Every project (admin only).')
        parser.add_argument('--instance', metavar='<server-id>',
                            help='Only the expiration of this server.')
        parser.add_argument('--user', metavar='<user-id>',
                            help='Only servers of this user.')
        parser.add_argument('--limit', type=int, metavar='<n>',
                            help='At most this many records.')
        parser.add_argument('--long', action='store_true',
                            help='More columns (project, user, deletion '
                                 'time, cap, extensions).')
        return parser

    def take_action(self, args):
        if args.limit is not None and args.limit < 1:
            raise exceptions.CommandError('--limit must be at least 1')
        records = _client(self).list_vmexpires(
            all_projects=args.all_projects, instance_id=args.instance,
            user_id=args.user, limit=args.limit)
        columns = LIST_COLUMNS
        if args.long or args.all_projects:
            columns += LONG_COLUMNS if args.long else LONG_COLUMNS[:1]
        rows = [flatten(r) for r in records]
        return ([title for _, title in columns],
                [tuple(r.get(key) for key, _ in columns) for r in rows])


class ShowVmExpire(command.ShowOne):
    """Show the expiration of a server."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('id', metavar='<id>',
                            help='Record id or server id.')
        return parser

    def take_action(self, args):
        return show_record(_client(self).find_vmexpire(args.id))


class ExtendVmExpire(command.ShowOne):
    """Extend the expiration of a server.

    The new expiry is now + N days (default: the longest the cloud
    allows), never past the cap.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('id', metavar='<id>',
                            help='Record id or server id.')
        parser.add_argument('--days', type=int, metavar='<n>',
                            help='Expire N days from now.')
        return parser

    def take_action(self, args):
        client = _client(self)
        record = client.find_vmexpire(args.id)
        return show_record(client.extend_vmexpire(record['id'], args.days))


class DeleteVmExpire(command.Command):
    """Remove the expiration of servers (admin): they never expire."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('ids', metavar='<id>', nargs='+',
                            help='Record id or server id.')
        return parser

    def take_action(self, args):
        client = _client(self)
        failed = 0
        for ident in args.ids:
            try:
                client.delete_vmexpire(client.find_vmexpire(ident)['id'])
            except Exception as exc:
                failed += 1
                if len(args.ids) == 1:
                    raise
                LOG.error('Failed to remove the expiration %s: %s',
                          ident, exc)
        if failed:
            raise exceptions.CommandError(
                '%d of %d expirations failed to be removed'
                % (failed, len(args.ids)))


class AddVmExpire(command.ShowOne):
    """Start tracking an existing server (admin)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('instance', metavar='<server-id>',
                            help='Nova server id.')
        return parser

    def take_action(self, args):
        return show_record(_client(self).add_vmexpire(args.instance))


class ListVmExpireEvents(command.Lister):
    """Show the audit trail of a server's expiration."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('id', metavar='<id>',
                            help='Record id or server id.')
        return parser

    def take_action(self, args):
        client = _client(self)
        record = client.find_vmexpire(args.id)
        events = client.list_events(record['id'])
        columns = ('ID', 'Created', 'Event', 'Actor', 'Detail')
        return columns, [
            (e.get('id'), e.get('created'), e.get('event'), e.get('actor'),
             json.dumps(e.get('detail') or {}, sort_keys=True))
            for e in events]
