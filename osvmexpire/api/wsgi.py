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

The configuration is read when the server first asks for ``application``
(not when this module is imported): from the file named by
OSVMEXPIRE_CONFIG, else /etc/os-vm-expire/os-vm-expire.conf and the other
oslo search paths. The server's own command line is never parsed.
"""

import threading

from osvmexpire import service
from osvmexpire.api import app

_application = None
_lock = threading.Lock()


def init_application():
    """Parse the configuration, set up logging and the DB; build the app."""
    conf = service.prepare_service([])
    return app.setup_app(conf)


def __getattr__(name: str):
    global _application
    if name != 'application':
        raise AttributeError(name)
    with _lock:
        if _application is None:
            _application = init_application()
    return _application
