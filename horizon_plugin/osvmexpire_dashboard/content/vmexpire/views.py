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
"""Views of Project > Compute > Expirations."""

import datetime

from django.urls import reverse
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import forms
from horizon import tables
from horizon.utils import memoized

from osvmexpire_dashboard import utils
from osvmexpire_dashboard.api import client
from osvmexpire_dashboard.content.vmexpire import forms as vm_forms
from osvmexpire_dashboard.content.vmexpire import tables as vm_tables

FAR_FUTURE = datetime.datetime.max.replace(tzinfo=datetime.UTC)


def by_soonest_expiry(records):
    return sorted(records, key=lambda r: r.expire_at_dt or FAR_FUTURE)


def load_records(view, table, all_tenants: bool = False):
    """List records for a table; on failure say so, in a message and in
    the table itself, instead of showing an empty list as if all was well.
    """
    try:
        return by_soonest_expiry(
            client.vmexpire_list(view.request, all_tenants=all_tenants))
    except Exception as exc:
        table.error_message = _('Unable to retrieve expirations: %s') % exc
        exceptions.handle(view.request,
                          _('Unable to retrieve expirations.'))
        return []


class IndexView(tables.DataTableView):
    table_class = vm_tables.ExpirationsTable
    page_title = _('Expirations')
    template_name = 'project/vmexpire/index.html'

    def get_data(self):
        records = load_records(self, self.table)
        # Members may not list users; name at least the user's own servers.
        user = self.request.user
        for record in records:
            if record.get('user_id') == user.id:
                record.owner_name = user.username
        return records


class ExtendView(forms.ModalFormView):
    form_class = vm_forms.ExtendForm
    form_id = 'extend_vmexpire_form'
    modal_id = 'extend_vmexpire_modal'
    template_name = 'project/vmexpire/extend.html'
    submit_label = _('Extend')
    submit_url_name = 'horizon:project:vmexpire:extend'
    success_url = reverse_lazy('horizon:project:vmexpire:index')
    page_title = _('Extend Expiration')

    @memoized.memoized_method
    def get_object(self):
        try:
            return client.vmexpire_get(self.request,
                                       self.kwargs['vmexpire_id'])
        except Exception:
            exceptions.handle(self.request,
                              _('Unable to retrieve the expiration.'),
                              redirect=self.success_url)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        record = self.get_object()
        now = utils.utcnow()
        days = utils.default_extend_days(record, now)
        cap = record.max_expire_at_dt
        context.update({
            'record': record,
            'expires': utils.expires_text(record, now),
            'cap': utils.format_date(cap),
            'new_expiry': utils.format_date(
                utils.extended_expiry(record, days, now)),
            # Epoch milliseconds for the live preview in the modal.
            'now_ms': int(now.timestamp() * 1000),
            'cap_ms': int(cap.timestamp() * 1000) if cap else '',
            'submit_url': reverse(self.submit_url_name,
                                  args=[record.id]),
        })
        return context

    def get_initial(self):
        record = self.get_object()
        return {'vmexpire_id': record.id,
                'days': utils.default_extend_days(record)}
