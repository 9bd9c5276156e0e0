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
"""WSGI entry point for uwsgi and gunicorn (``application``).

``application`` is a real module attribute (uwsgi looks it up in the
module's namespace) that builds the app on its first request, so importing
this module parses no configuration. The configuration comes from the file
named by OSVMEXPIRE_CONFIG, else /etc/os-vm-expire/osvmexpire.conf and the
other oslo search paths; the server's own command line is never parsed.
``init_application()`` builds it at once: a uwsgi vassal may call it
(``module = osvmexpire.api.wsgi:init_application()``) so that a bad
configuration stops the worker at start instead of failing requests.
"""

import threading

from osvmexpire import service
from osvmexpire.api import app


def init_application():
    """Parse the configuration, set up logging and the DB; build the app."""
    conf = service.prepare_service([])
    return app.setup_app(conf)


class _LazyApplication:
    """A WSGI callable that builds the real app once, on first use."""

    def __init__(self):
        self._app = None
        self._lock = threading.Lock()

    def _get(self):
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = init_application()
        return self._app

    def __call__(self, environ, start_response):
        return self._get()(environ, start_response)


application = _LazyApplication()
