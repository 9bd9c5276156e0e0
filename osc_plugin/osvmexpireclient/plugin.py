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
"""The hooks python-openstackclient looks for in a plugin module.

``make_client`` hands the user's keystoneauth session to
:class:`osvmexpireclient.client.Client`; the endpoint is the catalog's
``vmexpire`` entry unless ``--os-vmexpire-endpoint-override`` (or
``OS_VMEXPIRE_ENDPOINT_OVERRIDE``) names one.
"""

import os

from osc_lib import exceptions

API_NAME = 'vmexpire'
API_VERSION_OPTION = 'os_vmexpire_api_version'
DEFAULT_API_VERSION = '1'
API_VERSIONS = {'1': 'osvmexpireclient.client.Client'}


def make_client(instance):
    """The API client for osc-lib's ClientManager (``.vmexpire``)."""
    from osvmexpireclient import client

    version = instance._api_version.get(API_NAME, DEFAULT_API_VERSION)
    if version not in API_VERSIONS:
        raise exceptions.UnsupportedVersion(
            'os-vm-expire API version %s is not supported (only %s)'
            % (version, ', '.join(sorted(API_VERSIONS))))
    endpoint = instance.get_endpoint_for_service_type(
        API_NAME, region_name=instance.region_name,
        interface=instance.interface)
    if not endpoint:
        raise exceptions.CommandError(
            'no "vmexpire" endpoint in the service catalog (region %s, '
            'interface %s): is os-vm-expire registered in Keystone? '
            '--os-vmexpire-endpoint-override URL uses a given one.'
            % (instance.region_name, instance.interface))
    return client.Client(instance.session, endpoint=endpoint,
                         interface=instance.interface,
                         region_name=instance.region_name)


def build_option_parser(parser):
    """Global options of the plugin."""
    parser.add_argument(
        '--os-vmexpire-api-version', metavar='<vmexpire-api-version>',
        default=os.environ.get('OS_VMEXPIRE_API_VERSION'),
        help='os-vm-expire API version, default=%s '
             '(Env: OS_VMEXPIRE_API_VERSION)' % DEFAULT_API_VERSION)
    parser.add_argument(
        '--os-vmexpire-endpoint-override', metavar='<url>',
        default=os.environ.get('OS_VMEXPIRE_ENDPOINT_OVERRIDE'),
        help='Use this os-vm-expire endpoint instead of the catalog\'s, '
             'e.g. http://HOST:PORT/v1/%%(project_id)s '
             '(Env: OS_VMEXPIRE_ENDPOINT_OVERRIDE)')
    return parser


def check_api_version(check_version: str) -> bool:
    """Refuse an unknown version at start-up, before any request."""
    if str(check_version) not in API_VERSIONS:
        raise exceptions.UnsupportedVersion(
            'os-vm-expire API version %s is not supported (only %s)'
            % (check_version, ', '.join(sorted(API_VERSIONS))))
    return True
