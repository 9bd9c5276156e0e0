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
"""Rule 8: the API's own outbound call (auth_token to Keystone) has a
deadline by default, like the cleaner's keystoneauth session."""

from osvmexpire.api import app
from osvmexpire.conf import service_credentials


def _build_auth(conf):
    """The auth layer as the API builds it (auth_token reads its options)."""
    return app._auth(conf)(lambda environ, start: [])


def test_auth_token_has_a_timeout_by_default(sqlite_db):
    conf = sqlite_db.config(**{'api.auth_strategy': 'keystone'})
    _build_auth(conf)
    assert (conf.keystone_authtoken.http_connect_timeout
            == service_credentials.DEFAULT_TIMEOUT)


def test_auth_token_timeout_can_be_configured(sqlite_db):
    conf = sqlite_db.config(**{'api.auth_strategy': 'keystone'})
    app._auth(conf)      # registers the options
    conf.set_override('http_connect_timeout', 5, group='keystone_authtoken')
    _build_auth(conf)
    assert conf.keystone_authtoken.http_connect_timeout == 5
