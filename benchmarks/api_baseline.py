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
"""The API benchmark's baseline WSGI app (``application``, for gunicorn).

``osvmexpire.api.app.setup_app`` builds the real middleware stack (request
id, CORS, proxy headers, healthcheck, faults, auth_token, body limit)
around a bare Pecan app that answers every path with a fixed JSON document
(a list page or a single record, as captured from the real API:
``OSVMEXPIRE_BENCH_BODIES`` names the file). Only what os-vm-expire adds
below the middleware (hooks, policy, database, views) is missing.
"""

import json
import os
import threading

import pecan

_application = None
_lock = threading.Lock()


class _Root:
    def __init__(self, bodies: dict):
        self.bodies = bodies

    @pecan.expose('json')
    def _default(self, *remainder):
        parts = [p for p in remainder if p]
        key = 'list' if parts and parts[-1] == 'vmexpires' else 'get'
        return self.bodies[key]


def init_application():
    from osvmexpire import service
    from osvmexpire.api import app as api_app
    conf = service.prepare_service([])
    with open(os.environ['OSVMEXPIRE_BENCH_BODIES']) as f:
        bodies = json.load(f)
    bare = pecan.make_app(_Root(bodies), debug=False, force_canonical=False,
                          guess_content_type_from_ext=False)
    real = api_app.make_pecan_app
    api_app.make_pecan_app = lambda conf, enforcer=None: bare
    try:
        return api_app.setup_app(conf)
    finally:
        api_app.make_pecan_app = real


def __getattr__(name: str):
    global _application
    if name != 'application':
        raise AttributeError(name)
    with _lock:
        if _application is None:
            _application = init_application()
    return _application
