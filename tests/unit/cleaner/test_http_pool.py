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
"""The cleaner's HTTP connection pool holds one connection per thread."""

from keystoneauth1 import session as ks_session

from osvmexpire import clients
from osvmexpire.cleaner import cycle as cycle_mod


def _adapters(session):
    return [session.session.adapters[s] for s in ('https://', 'http://')]


def test_default_session_keeps_requests_pool(sqlite_db):
    session = clients.get_session(sqlite_db.config())
    for adapter in _adapters(session):
        assert adapter._pool_maxsize == clients.DEFAULT_POOL_SIZE


def test_cleaner_session_pool_matches_nova_concurrency(sqlite_db):
    conf = sqlite_db.config(**{'cleaner.nova_concurrency': 24,
                               'service_credentials.timeout': 7})
    session = cycle_mod.Cycle(conf)._get_session()
    assert session.timeout == 7
    for adapter in _adapters(session):
        # keystoneauth's own adapter (TCP keep-alive), a larger pool.
        assert isinstance(adapter, ks_session.TCPKeepAliveAdapter)
        assert adapter._pool_maxsize == 24
        assert adapter.poolmanager.connection_pool_kw['maxsize'] == 24


def test_size_pool_keeps_tls_options():
    session = ks_session.Session()
    session.session.mount('https://', ks_session.TCPKeepAliveAdapter(
        tls_ciphers='HIGH'))
    clients.size_pool(session, 32)
    adapter = session.session.adapters['https://']
    assert adapter.tls_ciphers == 'HIGH'
    assert adapter._pool_maxsize == 32
