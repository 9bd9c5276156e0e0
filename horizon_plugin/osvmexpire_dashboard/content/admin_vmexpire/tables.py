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
"""Admin tables: every project's records, and the exclusions."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from horizon import tables

from osvmexpire_dashboard.api import client
from osvmexpire_dashboard.content.vmexpire import tables as project_tables


class AdminExtendLink(project_tables.ExtendLink):
    url = 'horizon:admin:vmexpire:extend'


class TrackServer(tables.LinkAction):
    name = 'track'
    verbose_name = _('Track Server')
    url = 'horizon:admin:vmexpire:track'
    classes = ('ajax-modal',)
    icon = 'plus'
    policy_rules = (('vmexpire', 'vmexpire:add'),)


class RemoveExpiry(tables.DeleteAction):
    """Delete the record: the server is kept and never expires."""

    name = 'remove'
    policy_rules = (('vmexpire', 'vmexpire:delete'),)
    help_text = _('The servers are kept and will never expire, until '
                  'tracked again.')

    @staticmethod
    def action_present(count):
        return ngettext_lazy('Remove Expiry', 'Remove Expiries', count)

    @staticmethod
    def action_past(count):
        return ngettext_lazy('Removed Expiry', 'Removed Expiries', count)

    def get_policy_target(self, request, datum=None):
        return project_tables._record_target(datum)

    def delete(self, request, obj_id):
        try:
            client.vmexpire_delete(request, obj_id)
        except client.VmExpireError as exc:
            record = self.table.get_object_by_id(obj_id)
            project_tables.api_refusal(
                request, exc, _('Unable to remove the expiry of %s')
                % record.name)


def admin_instance_link(datum):
    return reverse('horizon:admin:instances:detail',
                   args=[datum.instance_id])


def project_name(datum):
    return getattr(datum, 'project_name', None) or datum.project_id


class AdminExpirationsTable(project_tables.ExpirationsTable):
    project = tables.Column(project_name, verbose_name=_('Project'))
    name = tables.WrappingColumn('name', verbose_name=_('Server'),
                                 link=admin_instance_link)

    class Meta:
        name = 'vmexpires'
        verbose_name = _('Expirations')
        no_data_message = _('No server has an expiry.')
        columns = ('project', 'name', 'owner', 'expires', 'next_step',
                   'cap', 'extensions')
        table_actions = (project_tables.ExpirationFilter, TrackServer,
                         project_tables.BatchExtend, RemoveExpiry)
        row_actions = (AdminExtendLink, RemoveExpiry)


class AddExclusion(tables.LinkAction):
    name = 'exclude'
    verbose_name = _('Add Exclusion')
    url = 'horizon:admin:vmexpire:exclude'
    classes = ('ajax-modal',)
    icon = 'plus'
    policy_rules = (('vmexpire', 'vmexclude:create'),)


class DeleteExclusion(tables.DeleteAction):
    policy_rules = (('vmexpire', 'vmexclude:delete'),)
    help_text = _('The servers of this domain, project or user expire '
                  'again.')

    @staticmethod
    def action_present(count):
        return ngettext_lazy('Delete Exclusion', 'Delete Exclusions', count)

    @staticmethod
    def action_past(count):
        return ngettext_lazy('Deleted Exclusion', 'Deleted Exclusions',
                             count)

    def delete(self, request, obj_id):
        try:
            client.vmexclude_delete(request, obj_id)
        except client.VmExpireError as exc:
            project_tables.api_refusal(
                request, exc, _('Unable to delete exclusion %s') % obj_id)


TYPE_NAMES = {'domain': _('Domain'), 'project': _('Project'),
              'user': _('User')}


def exclude_type(datum):
    return TYPE_NAMES.get(datum.exclude_type, datum.exclude_type)


def exclude_target(datum):
    name = getattr(datum, 'target_name', None)
    if name and name != datum.exclude_id:
        return '%s (%s)' % (name, datum.exclude_id)
    return datum.exclude_id


class ExclusionsTable(tables.DataTable):
    exclude_type = tables.Column(exclude_type, verbose_name=_('Type'))
    target = tables.Column(exclude_target, verbose_name=_('Excluded'))
    created = tables.Column('created', verbose_name=_('Created'),
                            empty_value='-')

    error_message = None

    def get_empty_message(self):
        return self.error_message or super().get_empty_message()

    def get_object_display(self, datum):
        return '%s %s' % (datum.exclude_type, datum.exclude_id)

    class Meta:
        name = 'vmexcludes'
        verbose_name = _('Exclusions')
        no_data_message = _('No domain, project or user is excluded.')
        table_actions = (AddExclusion, DeleteExclusion)
        row_actions = (DeleteExclusion,)
