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
"""Tables of expiration records, shared by the project and admin panels."""

import sys

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from horizon import exceptions
from horizon import messages
from horizon import tables

from osvmexpire_dashboard import utils
from osvmexpire_dashboard.api import client


def _record_target(datum):
    return {'project_id': datum.project_id} if datum else {}


def api_refusal(request, exc: client.VmExpireError, what: str):
    """Show the API's reason as is, then mark the error as handled."""
    messages.error(request, _('%(what)s: %(reason)s')
                   % {'what': what, 'reason': exc.description})
    raise exceptions.HandledException([type(exc), exc, sys.exc_info()[2]])


class ExpirationFilter(tables.FilterAction):
    """Filter rows on server name, server id or owner (in the page)."""

    def filter(self, table, records, filter_string):
        needle = filter_string.strip().lower()
        if not needle:
            return records
        return [r for r in records
                if needle in (r.name or '').lower()
                or needle in r.instance_id.lower()
                or needle in (r.user_id or '').lower()
                or needle in (r.project_id or '').lower()]


class ExtendLink(tables.LinkAction):
    name = 'extend'
    verbose_name = _('Extend')
    url = 'horizon:project:vmexpire:extend'
    classes = ('ajax-modal',)
    icon = 'clock-o'
    policy_rules = (('vmexpire', 'vmexpire:extend'),)

    def get_policy_target(self, request, datum=None):
        return _record_target(datum)

    def allowed(self, request, datum=None):
        return datum is None or not datum.get('excluded')


class BatchExtend(tables.BatchAction):
    """Extend several servers at once, each by the maximum."""

    name = 'batch_extend'
    icon = 'clock-o'
    policy_rules = (('vmexpire', 'vmexpire:extend'),)
    help_text = _('Each selected server gets the longest extension the '
                  'service allows.')

    @staticmethod
    def action_present(count):
        return ngettext_lazy('Extend Expiration', 'Extend Expirations',
                             count)

    @staticmethod
    def action_past(count):
        return ngettext_lazy('Extended Expiration', 'Extended Expirations',
                             count)

    def get_policy_target(self, request, datum=None):
        return _record_target(datum)

    def allowed(self, request, datum=None):
        return datum is None or not datum.get('excluded')

    def action(self, request, obj_id):
        record = self.table.get_object_by_id(obj_id)
        try:
            client.vmexpire_extend(request, obj_id,
                                   utils.default_extend_days(record))
        except client.VmExpireError as exc:
            api_refusal(request, exc, _('Unable to extend %s') % record.name)


def instance_link(datum):
    return reverse('horizon:project:instances:detail',
                   args=[datum.instance_id])


def owner(datum):
    return datum.get('owner_name') or datum.get('user_id') or '-'


class ExpirationsTable(tables.DataTable):
    name = tables.WrappingColumn('name', verbose_name=_('Server'),
                                 link=instance_link)
    owner = tables.Column(owner, verbose_name=_('Owner'))
    expires = tables.Column(utils.expires_text, verbose_name=_('Expires'))
    next_step = tables.Column(utils.next_step_text,
                              verbose_name=_('Next step'))
    cap = tables.Column(utils.cap_text,
                        verbose_name=_('Time left before the cap'))
    extensions = tables.Column('extensions', verbose_name=_('Extensions'),
                               empty_value='0')

    error_message = None

    def get_empty_message(self):
        # NOTE: a failed API call must not look like "no servers".
        return self.error_message or super().get_empty_message()

    def get_object_display(self, datum):
        return datum.name

    class Meta:
        name = 'vmexpires'
        verbose_name = _('Expirations')
        no_data_message = _('No server of this project has an expiry.')
        table_actions = (ExpirationFilter, BatchExtend)
        row_actions = (ExtendLink,)
