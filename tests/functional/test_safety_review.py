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
"""Races between the API and the cleaner found in the safety review.

They run on MariaDB (REPEATABLE READ) and PostgreSQL (READ COMMITTED),
where two writers interleave (SQLite serializes them: a second writer
waits for the first to commit). The interleavings are forced with a
patched read; the two sides use separate transactions as in production.
"""

import datetime
import uuid

import pytest

from osvmexpire import context
from osvmexpire import exception
from osvmexpire import expiration as ex
from osvmexpire.db import api as db_api
from tests import fixtures

S = ex.Settings()
TTL = datetime.timedelta(minutes=10)


@pytest.fixture(params=('mysql', 'postgresql'))
def ctx(request):
    with fixtures.Database(request.param):
        yield context.get_admin_context()


def _overdue(ctx, now):
    row = db_api.create_vmexpire(
        ctx, instance_id=str(uuid.uuid4()), project_id='p1',
        expire_at=now - ex.DAY, settings=S, created_at=now - 61 * ex.DAY,
        user_id='u1')
    return row


def test_remove_racing_mark_deleting_is_refused(ctx, monkeypatch):
    """The admin's DELETE read the row before the cleaner committed to
    deleting the server: the removal must not go through (else the VM is
    deleted although its expiry was removed)."""
    now = db_api.utcnow()
    row = _overdue(ctx, now)
    real_get = db_api.get_vmexpire
    marked = []

    def get_then_cleaner_marks(c, vmexpire_id, project_id=None):
        got = real_get(c, vmexpire_id, project_id)
        if not marked:
            cleaner = context.get_admin_context()
            assert db_api.claim(cleaner, row.id, 'c', now, TTL)
            fresh = db_api.get_claimed(cleaner, row.id, 'c', now)
            marked.append(db_api.mark_deleting(cleaner, fresh, 'c', now))
        return got
    monkeypatch.setattr(db_api, 'get_vmexpire', get_then_cleaner_marks)
    with pytest.raises(exception.Conflict):
        db_api.remove_vmexpire(context.get_admin_context(), row.id,
                               actor='admin')
    monkeypatch.undo()
    assert marked == [True]
    kept = db_api.get_vmexpire(ctx, row.id)
    assert kept.deleting_at is not None
    kinds = [e.event for e in
             db_api.list_events(ctx, instance_id=row.instance_id)]
    assert 'removed' not in kinds
