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
"""osvmexpire-wsgi-api's address, and the lazy WSGI module."""

import importlib
from unittest import mock

import pytest

from osvmexpire import exception
from osvmexpire import service
from osvmexpire.cmd import api as cmd_api


def _conf(argv=(), **overrides):
    conf = service.new_config()
    conf.register_cli_opts(cmd_api.CLI_OPTS)
    conf(list(argv), project='os-vm-expire', default_config_files=[])
    for name, value in overrides.items():
        conf.set_override(name, value, group='api')
    return conf


def test_default_address():
    assert cmd_api.listen_address(_conf(), {}) == ('127.0.0.1', 8000)


def test_env_overrides_config_and_cli_overrides_both():
    conf = _conf(bind_port=9000)
    assert cmd_api.listen_address(conf, {}) == ('127.0.0.1', 9000)
    env = {'OSVMEXPIRE_PORT': '18042'}
    assert cmd_api.listen_address(conf, env) == ('127.0.0.1', 18042)
    conf = _conf(['--port', '18043', '--host', '127.0.0.2'])
    assert cmd_api.listen_address(conf, env) == ('127.0.0.2', 18043)


@pytest.mark.parametrize('value', ['abc', '0', '70000', '-1', ' 80'])
def test_bad_env_port(value):
    with pytest.raises(exception.OsVmExpireError, match='OSVMEXPIRE_PORT'):
        cmd_api.listen_address(_conf(), {'OSVMEXPIRE_PORT': value})


def test_wsgi_module_reads_config_on_first_use_only():
    with mock.patch('osvmexpire.service.prepare_service') as prepare, \
            mock.patch('osvmexpire.api.app.setup_app') as setup:
        wsgi = importlib.reload(importlib.import_module(
            'osvmexpire.api.wsgi'))
        prepare.assert_not_called()
        # uwsgi reads the attribute from the module's namespace
        assert 'application' in vars(wsgi)
        prepare.assert_not_called()
        start = mock.Mock()
        for _ in range(2):
            wsgi.application({'PATH_INFO': '/'}, start)
        prepare.assert_called_once_with([])
        setup.assert_called_once_with(prepare.return_value)
        assert setup.return_value.call_count == 2
