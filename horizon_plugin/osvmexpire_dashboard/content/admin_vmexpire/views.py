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
"""Views of Admin > Compute > Expirations."""

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from horizon import forms
from horizon import tabs

from osvmexpire_dashboard.content.admin_vmexpire import forms as admin_forms
from osvmexpire_dashboard.content.admin_vmexpire import tabs as admin_tabs
from osvmexpire_dashboard.content.vmexpire import views as project_views

INDEX = reverse_lazy('horizon:admin:vmexpire:index')


class IndexView(tabs.TabbedTableView):
    tab_group_class = admin_tabs.AdminTabs
    template_name = 'admin/vmexpire/index.html'
    page_title = _('Expirations')


class ExtendView(project_views.ExtendView):
    submit_url_name = 'horizon:admin:vmexpire:extend'
    success_url = INDEX


class TrackView(forms.ModalFormView):
    form_class = admin_forms.TrackForm
    form_id = 'track_server_form'
    modal_id = 'track_server_modal'
    template_name = 'admin/vmexpire/track.html'
    submit_label = _('Track Server')
    submit_url = reverse_lazy('horizon:admin:vmexpire:track')
    success_url = INDEX
    page_title = _('Track Server')


class ExcludeView(forms.ModalFormView):
    form_class = admin_forms.ExcludeForm
    form_id = 'add_exclusion_form'
    modal_id = 'add_exclusion_modal'
    template_name = 'admin/vmexpire/exclude.html'
    submit_label = _('Add Exclusion')
    submit_url = reverse_lazy('horizon:admin:vmexpire:exclude')
    success_url = reverse_lazy('horizon:admin:vmexpire:index')
    page_title = _('Add Exclusion')

    def get_success_url(self):
        return '%s?tab=%s__%s' % (INDEX, admin_tabs.AdminTabs.slug,
                                  admin_tabs.ExclusionsTab.slug)
