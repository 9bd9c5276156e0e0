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
"""``openstack vmexclude ...``: domains, projects and users whose servers
never expire (admin only)."""

import logging

from osc_lib import exceptions
from osc_lib.command import command

LOG = logging.getLogger(__name__)

TYPES = ('domain', 'project', 'user')
FIELDS = (('id', 'ID'), ('exclude_type', 'Type'),
          ('exclude_id', 'Exclude ID'), ('created', 'Created'))


def _client(cmd):
    return cmd.app.client_manager.vmexpire


def _show(record: dict):
    keys = [k for k, _ in FIELDS]
    keys += sorted(k for k in record if k not in keys and k != 'links')
    return tuple(keys), tuple(record.get(k) for k in keys)


class ListVmExclude(command.Lister):
    """List exclusions."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--type', choices=TYPES,
                            help='Only exclusions of this type.')
        return parser

    def take_action(self, args):
        rows = _client(self).list_vmexcludes(args.type)
        return ([title for _, title in FIELDS],
                [tuple(r.get(k) for k, _ in FIELDS) for r in rows])


class ShowVmExclude(command.ShowOne):
    """Show one exclusion."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('id', metavar='<exclusion-id>')
        return parser

    def take_action(self, args):
        return _show(_client(self).get_vmexclude(args.id))


class CreateVmExclude(command.ShowOne):
    """Exclude a domain, project or user from expiry."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--type', required=True, choices=TYPES,
                            help='What the id names.')
        parser.add_argument('target', metavar='<id>',
                            help='Keystone id of the domain, project or '
                                 'user.')
        return parser

    def take_action(self, args):
        return _show(_client(self).create_vmexclude(args.type, args.target))


class DeleteVmExclude(command.Command):
    """Delete exclusions."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('ids', metavar='<exclusion-id>', nargs='+')
        return parser

    def take_action(self, args):
        client = _client(self)
        failed = 0
        for ident in args.ids:
            try:
                client.delete_vmexclude(ident)
            except Exception as exc:
                failed += 1
                if len(args.ids) == 1:
                    raise
                LOG.error('Failed to delete exclusion %s: %s', ident, exc)
        if failed:
            raise exceptions.CommandError(
                '%d of %d exclusions failed to be deleted'
                % (failed, len(args.ids)))
