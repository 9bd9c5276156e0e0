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
"""[api] options of the REST API and its development server."""

from oslo_config import cfg

GROUP = 'api'

OPTS = [
    cfg.HostAddressOpt('bind_host', default='127.0.0.1',
                       help='Address the development server '
                            '(osvmexpire-wsgi-api) listens on. Production '
                            'deployments serve osvmexpire.api.wsgi with '
                            'uwsgi or gunicorn instead.'),
    cfg.PortOpt('bind_port', default=8000,
                help='TCP port of the development server. The '
                     'OSVMEXPIRE_PORT environment variable overrides it, '
                     'and --port overrides both.'),
    cfg.StrOpt('auth_strategy', default='keystone',
               choices=[('keystone', 'validate tokens with Keystone '
                                     '(keystonemiddleware auth_token)'),
                        ('noauth', 'trust X-User-Id, X-Project-Id and '
                                   'X-Roles headers; for tests only')],
               help='How API requests are authenticated.'),
    cfg.IntOpt('max_limit', default=1000, min=1,
               help='Largest page size, in records, a list request may '
                    'ask for with ?limit=. Larger values are clamped.'),
    cfg.IntOpt('default_limit', default=100, min=1,
               help='Page size, in records, of a list request without '
                    '?limit=.'),
    cfg.IntOpt('max_request_body_size', default=65536, min=1024,
               help='Largest request body accepted, in bytes; larger '
                    'requests are refused with 413.'),
    cfg.StrOpt('public_endpoint',
               help='Base URL, as clients see it, used in links of '
                    'responses (e.g. https://cloud.example.org:9411). '
                    'Default: the host URL of each request.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    return [(GROUP, OPTS)]
