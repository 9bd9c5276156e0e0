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
"""Admin forms: start tracking a server, exclude a domain/project/user."""

import uuid

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from horizon import forms
from horizon import messages

from osvmexpire_dashboard.api import client


def _uuid_or_hex(value: str) -> str:
    value = value.strip()
    try:
        uuid.UUID(value)
    except ValueError:
        raise ValidationError(_('Enter an ID (a UUID).')) from None
    return value


class TrackForm(forms.SelfHandlingForm):
    instance_id = forms.CharField(
        label=_('Server ID'), max_length=36,
        help_text=_('The server gets an expiry as if it had just been '
                    'created.'))

    def clean_instance_id(self):
        return _uuid_or_hex(self.cleaned_data['instance_id'])

    def handle(self, request, data):
        try:
            client.vmexpire_add(request, data['instance_id'])
        except client.VmExpireError as exc:
            self.api_error(exc.description)
            return False
        messages.success(request, _('Server %s is now tracked.')
                         % data['instance_id'])
        return True


class ExcludeForm(forms.SelfHandlingForm):
    exclude_type = forms.ThemableChoiceField(
        label=_('Type'),
        choices=[('project', _('Project')), ('user', _('User')),
                 ('domain', _('Domain'))])
    exclude_id = forms.CharField(
        label=_('ID'), max_length=64,
        help_text=_('Servers of this domain, project or user never '
                    'expire while the exclusion exists.'))

    def clean_exclude_id(self):
        value = self.cleaned_data['exclude_id'].strip()
        if not value or any(c.isspace() or c == '/' for c in value):
            raise ValidationError(_('Enter an ID without spaces.'))
        return value

    def handle(self, request, data):
        try:
            exclusion = client.vmexclude_create(
                request, data['exclude_type'], data['exclude_id'])
        except client.VmExpireError as exc:
            self.api_error(exc.description)
            return False
        messages.success(request, _('Excluded %(type)s %(id)s.') % {
            'type': exclusion.exclude_type, 'id': exclusion.exclude_id})
        return exclusion
