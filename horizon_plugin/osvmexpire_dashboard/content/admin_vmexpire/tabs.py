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
"""Tabs of Admin > Compute > Expirations."""

import logging

from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import tabs
from openstack_dashboard import api
from openstack_dashboard import policy

from osvmexpire_dashboard.api import client
from osvmexpire_dashboard.content.admin_vmexpire import tables
from osvmexpire_dashboard.content.vmexpire import views as project_views

LOG = logging.getLogger(__name__)


def project_names(request) -> dict:
    """Project id -> name; names are a comfort, ids are shown otherwise."""
    try:
        projects, _more = api.keystone.tenant_list(request)
    except Exception as exc:
        LOG.info('Project names unavailable: %s', exc)
        return {}
    return {p.id: p.name for p in projects}


def user_names(request) -> dict:
    """User id -> name (admins may list users); ids are shown otherwise."""
    try:
        users = api.keystone.user_list(request)
    except Exception as exc:
        LOG.info('User names unavailable: %s', exc)
        return {}
    return {u.id: u.name for u in users}


class ExpirationsTab(tabs.TableTab):
    name = _('Expirations')
    slug = 'vmexpires_tab'
    table_classes = (tables.AdminExpirationsTable,)
    template_name = 'horizon/common/_detail_table.html'
    preload = False

    def get_vmexpires_data(self):
        table = self._tables['vmexpires']
        records = project_views.load_records(self, table, all_tenants=True)
        if records:
            projects = project_names(self.request)
            users = user_names(self.request)
            for record in records:
                record.project_name = projects.get(record.project_id)
                record.owner_name = users.get(record.get('user_id'))
        return records


class ExclusionsTab(tabs.TableTab):
    name = _('Exclusions')
    slug = 'vmexcludes_tab'
    table_classes = (tables.ExclusionsTable,)
    template_name = 'horizon/common/_detail_table.html'
    preload = False

    def allowed(self, request):
        return policy.check((('vmexpire', 'vmexclude:get'),), request)

    def get_vmexcludes_data(self):
        try:
            exclusions = client.vmexclude_list(self.request)
        except Exception as exc:
            self._tables['vmexcludes'].error_message = (
                _('Unable to retrieve exclusions: %s') % exc)
            exceptions.handle(self.request,
                              _('Unable to retrieve exclusions.'))
            return []
        lookups = {'project': project_names, 'user': user_names}
        names = {kind: lookups[kind](self.request) for kind in lookups
                 if any(e.exclude_type == kind for e in exclusions)}
        for exclusion in exclusions:
            exclusion.target_name = names.get(
                exclusion.exclude_type, {}).get(exclusion.exclude_id)
        return exclusions


class AdminTabs(tabs.TabGroup):
    slug = 'vmexpire_admin_tabs'
    tabs = (ExpirationsTab, ExclusionsTab)
    sticky = True
