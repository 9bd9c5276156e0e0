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
"""The per-request shortcuts give what the slow paths gave."""

import calendar
import datetime

import pecan.compat
import pecan.util

from osvmexpire.api import app
from osvmexpire.api import views
from osvmexpire.api.controllers import vmexpires


def test_cached_argspec_equals_pecans_for_functions_and_bound_methods():
    controller = vmexpires.VmExpiresController()
    for func in (controller.get_all, controller.get_one, controller.put,
                 vmexpires.VmExpiresController.post, vmexpires._get_row,
                 vmexpires.EventsController().get_all):
        assert app._cached_argspec(func) == pecan.compat.getargspec(func)
    # Bound methods of different instances share the function's entry.
    other = vmexpires.VmExpiresController()
    assert (app._cached_argspec(other.get_one)
            is app._cached_argspec(controller.get_one))


def test_make_pecan_app_installs_the_cache():
    from tests import fixtures
    with fixtures.Database('sqlite') as db:
        app.make_pecan_app(db.config())
    assert pecan.util._getargspec is app._cached_argspec


def test_dates_match_the_reference_formulas():
    utc2 = datetime.timezone(datetime.timedelta(hours=2))
    for value in (datetime.datetime(2030, 1, 2, 3, 4, 5, 678901),
                  datetime.datetime(1969, 12, 31, 23, 59, 59, 500000),
                  datetime.datetime(2030, 1, 1, 1, 0, tzinfo=utc2)):
        naive = value.astimezone(datetime.UTC).replace(tzinfo=None) \
            if value.tzinfo else value
        assert views.unix(value) == calendar.timegm(naive.timetuple())
        assert views.iso(value) == naive.isoformat(
            timespec='seconds') + 'Z'
    assert views.iso(None) is None
