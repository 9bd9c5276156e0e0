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
"""prepare_service(): where configuration comes from, and bad input."""

import pytest
from oslo_config import cfg

from osvmexpire import service
from osvmexpire.cmd import describe_error


@pytest.fixture
def conf_file(tmp_path):
    def write(text):
        path = tmp_path / 'osvmexpire.conf'
        path.write_text(text)
        return str(path)
    return write


def test_env_variable_names_the_file(conf_file, monkeypatch):
    path = conf_file('[DEFAULT]\nmax_vm_duration = 7\n'
                     '[database]\nconnection = sqlite://\n')
    monkeypatch.setenv('OSVMEXPIRE_CONFIG', path)
    conf = service.prepare_service([], setup_logging=False,
                                   configure_db=False)
    assert conf.max_vm_duration == 7
    assert conf.config_file == [path]


def test_config_file_option(conf_file, monkeypatch):
    monkeypatch.delenv('OSVMEXPIRE_CONFIG', raising=False)
    path = conf_file('[cleaner]\nnotify_before_days = 4\n')
    conf = service.prepare_service(['--config-file', path],
                                   setup_logging=False, configure_db=False)
    assert conf.cleaner.notify_before_days == 4
    assert conf.smtp.email_smtp_port == 25
    assert conf.nova_notifications.pool_name == 'os_vm_expire'
    assert conf.service_credentials.timeout == 30


def test_missing_env_file_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv('OSVMEXPIRE_CONFIG', str(tmp_path / 'nope.conf'))
    with pytest.raises(cfg.ConfigFilesNotFoundError) as err:
        service.prepare_service([], setup_logging=False, configure_db=False)
    assert 'nope.conf' in describe_error(err.value)


@pytest.mark.parametrize('text, message', [
    ('[DEFAULT]\nmax_vm_duration = abc\n', 'max_vm_duration'),
    ('[DEFAULT]\nmax_vm_duration = 0\n', 'max_vm_duration'),
    ('[api]\nauth_strategy = magic\n', 'auth_strategy'),
    ('[database\n', 'cannot parse'),
])
def test_bad_values_fail_at_start(conf_file, monkeypatch, text, message):
    monkeypatch.setenv('OSVMEXPIRE_CONFIG', conf_file(text))
    with pytest.raises(cfg.Error) as err:
        service.prepare_service([], setup_logging=False, configure_db=False)
    assert message in describe_error(err.value)


def test_database_connection_required(conf_file, monkeypatch):
    monkeypatch.setenv('OSVMEXPIRE_CONFIG', conf_file('[DEFAULT]\n'))
    with pytest.raises(cfg.RequiredOptError) as err:
        service.prepare_service([], setup_logging=False)
    assert '[database]' in describe_error(err.value)


def test_list_opts_covers_original_names():
    from osvmexpire.conf import opts
    names = {(group, opt.dest) for group, options in opts.list_opts()
             for opt in options}
    for expected in [
            (None, 'max_vm_duration'), (None, 'max_vm_extend'),
            (None, 'max_vm_total_duration'),
            ('cleaner', 'notify_before_days'),
            ('cleaner', 'notify_before_days_last'),
            ('smtp', 'email_smtp_host'), ('smtp', 'email_smtp_port'),
            ('smtp', 'email_smtp_tls'), ('smtp', 'email_smtp_user'),
            ('smtp', 'email_smtp_password'), ('smtp', 'email_smtp_from'),
            ('smtp', 'email_smtp_copy_expire_notif_to'),
            ('smtp', 'email_smtp_copy_delete_notif_to'),
            ('nova_notifications', 'control_exchange'),
            ('nova_notifications', 'topic'),
            ('nova_notifications', 'pool_name'),
            ('service_credentials', 'auth_url'),
            ('service_credentials', 'timeout')]:
        assert expected in names
    for _group, options in opts.list_opts():
        for opt in options:
            assert opt.help, opt.name


def test_password_is_secret():
    from osvmexpire.conf import smtp
    assert [o for o in smtp.OPTS if o.name == 'email_smtp_password'][0].secret
