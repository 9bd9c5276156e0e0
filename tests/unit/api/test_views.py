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
"""The vmexpire document: legacy fields and the effective deletion time."""

import datetime

from osvmexpire import expiration
from osvmexpire.api import views
from osvmexpire.db import models

T0 = datetime.datetime(2030, 1, 1, 12, 0, 0)
DAY = datetime.timedelta(days=1)
NOTHING = {'domain': set(), 'project': set(), 'user': set()}


def _row(**kw):
    values = dict(id='r1', instance_id='i1', instance_name='vm',
                  project_id='p1', user_id='u1', domain_id='d1',
                  created_at=T0, updated_at=None, expire_at=T0 + 60 * DAY,
                  notified_at=None, notified_last_at=None, extensions=0)
    values.update(kw)
    return models.VmExpire(**values)


def test_fresh_record():
    doc = views.vmexpire(_row(), 'https://api', T0, expiration.Settings(),
                         NOTHING)
    assert doc['expire'] == 1893499200 + 60 * 86400
    assert doc['expire_at'] == '2030-03-02T12:00:00Z'
    assert doc['created'] == doc['updated'] == '2030-01-01T12:00:00Z'
    assert doc['notified'] is False and doc['notified_last'] is False
    assert doc['next_action'] == {'action': 'first_warning',
                                  'at': '2030-02-20T12:00:00Z'}
    assert doc['delete_after'] == doc['expire_at']
    assert doc['max_expire_at'] == '2031-01-01T12:00:00Z'
    assert doc['links'] == [{'rel': 'self',
                             'href': 'https://api/v1/p1/vmexpires/r1'}]
    assert doc['excluded'] is False


def test_late_warning_moves_deletion_later():
    """The first warning went out 3 days before expiry: 10 days' notice."""
    first = T0 + 57 * DAY
    doc = views.vmexpire(_row(notified_at=first), 'u', first,
                         expiration.Settings(), NOTHING)
    assert doc['notified'] is True and doc['notified_last'] is False
    assert doc['notified_at'] == '2030-02-27T12:00:00Z'
    assert doc['delete_after'] == '2030-03-09T12:00:00Z'
    assert doc['next_action']['action'] == 'last_warning'


def test_excluded_by_domain_project_or_user():
    row = _row()
    for kind, ident in (('domain', 'd1'), ('project', 'p1'), ('user', 'u1')):
        excluded = dict(NOTHING, **{kind: {ident}})
        assert views.is_excluded(row, excluded)
    assert not views.is_excluded(_row(domain_id=None, user_id=None),
                                 dict(NOTHING, domain={'d1'}, user={'u1'}))


def test_event_and_exclude_documents():
    event = models.VmExpireEvent(id=7, event='extended', actor='u1',
                                 created_at=T0, instance_id='i1',
                                 detail={'days': 3})
    assert views.event(event) == {
        'id': 7, 'event': 'extended', 'actor': 'u1',
        'created': '2030-01-01T12:00:00Z', 'instance_id': 'i1',
        'detail': {'days': 3}}
    excl = models.VmExclude(id='x', exclude_id='p9', exclude_type='project',
                            created_at=T0)
    assert views.vmexclude(excl) == {
        'id': 'x', 'exclude_id': 'p9', 'exclude_type': 'project',
        'created': '2030-01-01T12:00:00Z'}
