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
"""``osvmexpire-manage exclude ...``: domains, projects, users that never
expire."""

from cliff import lister
from cliff import show

from osvmexpire import exception
from osvmexpire.db import api as db_api
from osvmexpire.db import models
from osvmexpire.manage import app
from osvmexpire.manage.vm import iso

COLUMNS = ('ID', 'Type', 'Excluded ID', 'Created (UTC)')


def _fields(row) -> tuple:
    return (row.id, row.exclude_type, row.exclude_id, iso(row.created_at))


def find_exclude(ctx, ident: str):
    """An exclusion by its own id, or by the id it excludes if unique."""
    try:
        return db_api.get_exclude(ctx, ident)
    except exception.NotFound:
        rows = [r for r in db_api.list_excludes(ctx) if r.exclude_id == ident]
        if len(rows) == 1:
            return rows[0]
        if len(rows) > 1:
            raise exception.Conflict(
                '%s is excluded as %s: give the exclusion id'
                % (ident, ' and as '.join(r.exclude_type for r in rows)))
        raise


class ExcludeList(app.Handled, lister.Lister):
    """List exclusions."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--type', choices=models.EXCLUDE_TYPES,
                            help='Only exclusions of this type.')
        return parser

    def take_action(self, args):
        ctx = self.app.admin_context()
        rows = db_api.list_excludes(ctx, exclude_type=args.type)
        return COLUMNS, [_fields(r) for r in rows]


class ExcludeAdd(app.Handled, show.ShowOne):
    """Exclude a domain, project or user: its servers never expire.

    The cleaner checks exclusions before every action, so servers already
    tracked are kept from the next cycle on.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--type', required=True,
                            choices=models.EXCLUDE_TYPES,
                            help='What to exclude.')
        parser.add_argument('--id', required=True, dest='exclude_id',
                            metavar='ID',
                            help='Keystone id of the domain, project or '
                                 'user.')
        return parser

    def take_action(self, args):
        exclude_id = args.exclude_id.strip()
        if not exclude_id or len(exclude_id) > 64:
            raise app.UsageError('--id must be 1 to 64 characters')
        ctx = self.app.admin_context()
        row = db_api.create_exclude(ctx, args.type, exclude_id)
        return COLUMNS, _fields(row)


class ExcludeDelete(app.Command):
    """Delete an exclusion (by its id, or by the excluded id if unique)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('id', metavar='ID',
                            help='Exclusion id, or the excluded id.')
        return parser

    def take_action(self, args):
        ctx = self.app.admin_context()
        row = find_exclude(ctx, args.id)
        db_api.delete_exclude(ctx, row.id)
        self.app.stdout.write('deleted exclusion %s (%s %s)\n'
                              % (row.id, row.exclude_type, row.exclude_id))
        return 0


COMMANDS = {
    'exclude list': ExcludeList,
    'exclude add': ExcludeAdd,
    'exclude delete': ExcludeDelete,
}
