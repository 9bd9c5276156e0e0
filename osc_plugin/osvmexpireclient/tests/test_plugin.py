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
"""The plugin module's hooks, with a stand-in ClientManager."""

import argparse
import types

import pytest
from keystoneauth1 import session as ks_session
from osc_lib import exceptions

from osvmexpireclient import client
from osvmexpireclient import plugin


def _instance(endpoint, version='1'):
    calls = []

    def get_endpoint(service_type, region_name=None, interface=None):
        calls.append((service_type, region_name, interface))
        return endpoint
    return types.SimpleNamespace(
        _api_version={'vmexpire': version}, session=ks_session.Session(),
        region_name='RegionOne', interface='public',
        get_endpoint_for_service_type=get_endpoint), calls


def test_make_client_uses_the_catalog_entry():
    instance, calls = _instance('http://h:9411/v1/p1')
    made = plugin.make_client(instance)
    assert isinstance(made, client.Client)
    assert calls == [('vmexpire', 'RegionOne', 'public')]
    assert made.adapter.endpoint_override == 'http://h:9411/v1/p1'
    assert made.adapter.service_type == 'vmexpire'


def test_make_client_without_endpoint_says_why():
    instance, _ = _instance(None)
    with pytest.raises(exceptions.CommandError) as exc:
        plugin.make_client(instance)
    assert 'no "vmexpire" endpoint in the service catalog' in str(exc.value)


def test_versions():
    assert plugin.check_api_version('1') is True
    with pytest.raises(exceptions.UnsupportedVersion):
        plugin.check_api_version('2')
    instance, _ = _instance('http://h/v1/p', version='3')
    with pytest.raises(exceptions.UnsupportedVersion):
        plugin.make_client(instance)


def test_global_options(monkeypatch):
    monkeypatch.setenv('OS_VMEXPIRE_ENDPOINT_OVERRIDE', 'http://x/v1/y')
    parser = plugin.build_option_parser(argparse.ArgumentParser())
    args = parser.parse_args([])
    assert args.os_vmexpire_endpoint_override == 'http://x/v1/y'
    args = parser.parse_args(['--os-vmexpire-api-version', '1'])
    assert args.os_vmexpire_api_version == '1'
