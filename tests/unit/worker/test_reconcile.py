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
"""Reconciliation and track_server with a paging fake of novaclient."""

import datetime

import pytest
from keystoneauth1 import exceptions as ks_exc
from novaclient import exceptions as nova_exc

from osvmexpire import exception
from osvmexpire import expiration
from osvmexpire.cleaner import reconcile
from osvmexpire.db import api as db_api
from tests.unit.worker import fakes

NOW = datetime.datetime(2030, 6, 1, 12, 0, 0)
DAY = expiration.DAY


@pytest.fixture
def conf(sqlite_db):
    return sqlite_db.config()


@pytest.fixture
def nova():
    return fakes.Nova()


def track(ctx, settings, iid, project='p1', expire_at=NOW + 30 * DAY):
    return db_api.create_vmexpire(ctx, instance_id=iid, project_id=project,
                                  expire_at=expire_at, settings=settings)


def ids(ctx):
    return db_api.tracked_instance_ids(ctx)


def kinds(ctx, iid):
    return [e.event for e in db_api.list_events(ctx, instance_id=iid)]


def test_creates_missing_and_closes_gone(conf, admin_ctx, settings, nova):
    nova.servers.add('s-new', tenant_id='p2', user_id='u2', name='web')
    nova.servers.add('s-kept')
    track(admin_ctx, settings, 's-kept')
    track(admin_ctx, settings, 's-gone')
    counts = reconcile.reconcile(conf, admin_ctx, nova=nova, now=NOW)
    assert counts == {'created': 1, 'closed': 1, 'unchanged': 1,
                      'skipped': 0}
    assert ids(admin_ctx) == {'s-new', 's-kept'}
    row = db_api.get_vmexpire_by_instance(admin_ctx, 's-new')
    assert (row.project_id, row.user_id, row.instance_name) == (
        'p2', 'u2', 'web')
    assert row.expire_at == NOW + 60 * DAY
    assert row.created_at == datetime.datetime(2030, 1, 1)
    assert kinds(admin_ctx, 's-gone') == ['created', 'closed']
    event = db_api.list_events(admin_ctx, instance_id='s-new')[0]
    assert (event.actor, event.detail['source']) == ('reconcile',
                                                     'reconcile')
    # all projects were asked for; a second pass changes nothing
    assert nova.servers.list_calls[0]['search_opts'] == {'all_tenants': 1}
    again = reconcile.reconcile(conf, admin_ctx, nova=nova, now=NOW)
    assert again == {'created': 0, 'closed': 0, 'unchanged': 2,
                     'skipped': 0}


def test_pages_through_all_servers(conf, admin_ctx, nova):
    for i in range(23):
        nova.servers.add('s-%02d' % i)
    nova.servers.max_limit = 5     # Nova's [api] max_limit caps our limit
    counts = reconcile.reconcile(conf, admin_ctx, nova=nova, now=NOW,
                                 page_size=10)
    assert counts['created'] == 23
    assert len(ids(admin_ctx)) == 23
    markers = [c['marker'] for c in nova.servers.list_calls]
    assert markers == [None, 's-04', 's-09', 's-14', 's-19', 's-22']


@pytest.mark.parametrize('days, expected', [(0, 60), (3, 10), (20, 20)])
def test_never_due_before_min_life(sqlite_db, admin_ctx, nova, days,
                                   expected):
    """An old server found late still gets the configured life from now,
    and never less than the first warning period (10 days)."""
    conf = sqlite_db.config(**{'cleaner.sync_min_duration': days})
    nova.servers.add('s-old', created='2020-01-01T00:00:00Z')
    reconcile.reconcile(conf, admin_ctx, nova=nova, now=NOW)
    row = db_api.get_vmexpire_by_instance(admin_ctx, 's-old')
    assert row.expire_at == NOW + expected * DAY
    assert row.created_at == datetime.datetime(2020, 1, 1)
    assert row.notified_at is None
    assert expiration.deletion_time(row, NOW, expiration.Settings()) >= (
        NOW + expected * DAY)


def test_min_life_covers_warning_periods(sqlite_db):
    conf = sqlite_db.config(**{'cleaner.sync_min_duration': 1,
                               'cleaner.notify_before_days': 14})
    assert reconcile.min_life(conf) == 14 * DAY


def test_listing_failure_changes_nothing(conf, admin_ctx, settings, nova):
    for i in range(12):
        nova.servers.add('s-%02d' % i)
    track(admin_ctx, settings, 'gone-1')
    nova.servers.fail_list_after = 1      # second page fails
    with pytest.raises(reconcile.NovaError, match='cannot list servers'):
        reconcile.reconcile(conf, admin_ctx, nova=nova, now=NOW,
                            page_size=5)
    assert ids(admin_ctx) == {'gone-1'}


@pytest.mark.parametrize('error', [
    ks_exc.ConnectFailure('Unable to establish connection'),
    ks_exc.ConnectTimeout('timed out'),
    nova_exc.Forbidden(403, 'Policy does not allow'),
])
def test_nova_unreachable_closes_nothing(conf, admin_ctx, settings, nova,
                                         error):
    track(admin_ctx, settings, 's1')

    def fail(**kw):
        raise error
    nova.servers.list = fail
    with pytest.raises(reconcile.NovaError):
        reconcile.reconcile(conf, admin_ctx, nova=nova, now=NOW)
    assert ids(admin_ctx) == {'s1'}
    assert kinds(admin_ctx, 's1') == ['created']


def test_empty_listing_closes_only_confirmed(conf, admin_ctx, settings,
                                            nova):
    """A listing that misses servers (a down cell, a bug) does not close
    records of servers Nova still shows when asked one by one."""
    track(admin_ctx, settings, 's-hidden')
    track(admin_ctx, settings, 's-gone')
    real_list = nova.servers.list
    nova.servers.add('s-hidden')
    nova.servers.list = lambda **kw: []
    counts = reconcile.reconcile(conf, admin_ctx, nova=nova, now=NOW)
    assert counts == {'created': 0, 'closed': 1, 'unchanged': 1,
                      'skipped': 0}
    assert ids(admin_ctx) == {'s-hidden'}
    nova.servers.list = real_list


def test_get_error_keeps_record(conf, admin_ctx, settings, nova):
    track(admin_ctx, settings, 's-unknown')
    nova.servers.fail_get = nova_exc.ClientException(500, 'boom')
    counts = reconcile.reconcile(conf, admin_ctx, nova=nova, now=NOW)
    assert counts['closed'] == 0 and counts['unchanged'] == 1
    assert ids(admin_ctx) == {'s-unknown'}


def test_marker_ignored_is_an_error(conf, admin_ctx, settings, nova):
    for i in range(4):
        nova.servers.add('s-%d' % i)
    track(admin_ctx, settings, 'gone')
    nova.servers.ignore_marker = True
    with pytest.raises(reconcile.NovaError, match='same page'):
        reconcile.reconcile(conf, admin_ctx, nova=nova, now=NOW,
                            page_size=2)
    assert 'gone' in ids(admin_ctx)


def test_skips_removed_and_deleted(conf, admin_ctx, settings, nova):
    nova.servers.add('s-removed')
    nova.servers.add('s-deleted')
    row = track(admin_ctx, settings, 's-removed')
    db_api.remove_vmexpire(admin_ctx, row.id, actor='admin')
    track(admin_ctx, settings, 's-deleted')
    db_api.close_instance(admin_ctx, 's-deleted', kind='deleted')
    counts = reconcile.reconcile(conf, admin_ctx, nova=nova, now=NOW)
    assert counts == {'created': 0, 'closed': 0, 'unchanged': 0,
                      'skipped': 2}
    assert ids(admin_ctx) == set()


def test_record_created_during_listing_is_kept(conf, admin_ctx, settings,
                                               nova):
    """The worker tracks a new server after Nova was listed."""
    real_list = nova.servers.list

    def list_then_boot(**kw):
        page = real_list(**kw)
        if kw.get('marker') is None:
            nova.servers.add('s-late')
            track(admin_ctx, settings, 's-late')
        return page
    nova.servers.list = list_then_boot
    counts = reconcile.reconcile(conf, admin_ctx, nova=nova, now=NOW)
    assert counts['closed'] == 0
    assert 's-late' in ids(admin_ctx)


# -- track_server -----------------------------------------------------------

def test_track_server(conf, admin_ctx, nova):
    nova.servers.add('s1', tenant_id='p9', user_id='u9', name='db',
                     created='2030-05-30T10:00:00Z')
    row = reconcile.track_server(conf, admin_ctx, 's1', nova=nova,
                                 actor='admin-user', now=NOW)
    assert (row.instance_id, row.project_id, row.user_id,
            row.instance_name) == ('s1', 'p9', 'u9', 'db')
    assert row.created_at == datetime.datetime(2030, 5, 30, 10)
    assert row.expire_at == NOW + 60 * DAY
    event = db_api.list_events(admin_ctx, instance_id='s1')[0]
    assert (event.event, event.actor) == ('created', 'admin-user')


def test_track_server_errors(conf, admin_ctx, nova):
    with pytest.raises(exception.NotFound, match='not found in Nova'):
        reconcile.track_server(conf, admin_ctx, 'nope', nova=nova)
    nova.servers.add('s1', tenant_id='p1')
    with pytest.raises(exception.NotFound, match='project p2'):
        reconcile.track_server(conf, admin_ctx, 's1', nova=nova,
                               project_id='p2')
    reconcile.track_server(conf, admin_ctx, 's1', nova=nova, project_id='p1')
    with pytest.raises(exception.Duplicate):
        reconcile.track_server(conf, admin_ctx, 's1', nova=nova)
    nova.servers.fail_get = ks_exc.ConnectFailure('refused')
    with pytest.raises(reconcile.NovaError, match='cannot read server'):
        reconcile.track_server(conf, admin_ctx, 's2', nova=nova)


def test_track_server_after_removal(conf, admin_ctx, settings, nova):
    """An admin's explicit request overrides an earlier removal."""
    nova.servers.add('s1')
    row = track(admin_ctx, settings, 's1')
    db_api.remove_vmexpire(admin_ctx, row.id)
    row = reconcile.track_server(conf, admin_ctx, 's1', nova=nova, now=NOW)
    assert row.expire_at == NOW + 60 * DAY
    assert reconcile.reconcile(conf, admin_ctx, nova=nova, now=NOW)[
        'unchanged'] == 1
