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
"""The Extend form: how many days, with the resulting date shown."""

from django.utils.translation import gettext_lazy as _
from horizon import forms
from horizon import messages

from osvmexpire_dashboard import utils
from osvmexpire_dashboard.api import client


def days_field(initial: int | None = None) -> forms.IntegerField:
    limit = utils.max_extend_days()
    return forms.IntegerField(
        label=_('Days'), min_value=1, max_value=limit, initial=initial,
        help_text=_('The new expiry is now plus this many days (at most '
                    '%d), never later than the cap.') % limit)


class ExtendForm(forms.SelfHandlingForm):
    vmexpire_id = forms.CharField(widget=forms.HiddenInput())

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        # Built per form: the limit is a setting read at request time.
        self.fields['days'] = days_field(self.initial.get('days'))

    def handle(self, request, data):
        try:
            record = client.vmexpire_extend(request, data['vmexpire_id'],
                                            data['days'])
        except client.VmExpireError as exc:
            # The API's reason (cap reached, not allowed...) as is.
            self.api_error(exc.description)
            return False
        messages.success(request, _('%(name)s now expires on %(date)s.') % {
            'name': record.name,
            'date': utils.format_date(record.expire_at_dt)})
        return record
