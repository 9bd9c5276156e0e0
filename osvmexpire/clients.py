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
"""Clients for the OpenStack services the cleaner and reconciliation call.

One keystoneauth1 session, built from ``[service_credentials]``, serves
both Nova (python-novaclient) and Keystone (python-keystoneclient). Its
``timeout`` option has a default (30 s), so no call can hang a cycle.
"""

from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from keystoneclient.v3 import client as ks_client
from novaclient import api_versions
from novaclient import client as nova_client
from oslo_config import cfg

from osvmexpire.conf import service_credentials

GROUP = service_credentials.GROUP


# requests' default: connections kept per host.
DEFAULT_POOL_SIZE = 10


def get_session(conf: cfg.ConfigOpts,
                pool_size: int | None = None) -> ks_session.Session:
    """A keystoneauth1 session authenticated as the service user.

    ``pool_size``: connections kept open per host. A caller running more
    threads than requests' default (10) passes its thread count, else
    urllib3 discards ("Connection pool is full") and reopens connections
    on every call beyond ten.
    """
    auth = ks_loading.load_auth_from_conf_options(conf, GROUP)
    session = ks_loading.load_session_from_conf_options(conf, GROUP,
                                                        auth=auth)
    if pool_size and pool_size > DEFAULT_POOL_SIZE:
        size_pool(session, pool_size)
    return session


def size_pool(session: ks_session.Session, size: int) -> None:
    """Keep up to ``size`` connections per host open in ``session``.

    Mounts keystoneauth's own adapter (TCP keep-alive, same TLS options)
    again, only with a larger pool.
    """
    http = session.session
    for scheme in ('https://', 'http://'):
        old = http.adapters.get(scheme)
        tls = {}
        if isinstance(old, ks_session.TCPKeepAliveAdapter):
            tls = {'tls_ciphers': old.tls_ciphers,
                   'tls_min_version': old.tls_min_version}
        http.mount(scheme, ks_session.TCPKeepAliveAdapter(
            pool_connections=DEFAULT_POOL_SIZE, pool_maxsize=size, **tls))


def get_nova(conf: cfg.ConfigOpts, session: ks_session.Session | None = None,
             min_version: str | None = None):
    """A python-novaclient client on the catalog's compute endpoint.

    ``min_version`` raises the configured microversion when a caller
    needs a field of a later one (the cleaner needs ``locked``, 2.9).
    """
    creds = conf[GROUP]
    version = creds.nova_api_version
    if min_version and (api_versions.APIVersion(version)
                        < api_versions.APIVersion(min_version)):
        version = min_version
    return nova_client.Client(
        version, session=session or get_session(conf),
        region_name=creds.region_name, endpoint_type=creds.interface)


def get_keystone(conf: cfg.ConfigOpts,
                 session: ks_session.Session | None = None
                 ) -> ks_client.Client:
    """A python-keystoneclient v3 client (users, projects, domains)."""
    creds = conf[GROUP]
    return ks_client.Client(session=session or get_session(conf),
                            region_name=creds.region_name,
                            interface=creds.interface)
