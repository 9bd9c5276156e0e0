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
"""Set a tracked server's expiry to a few seconds from now (demo/tests).

    expire_soon.py INSTANCE_ID [SECONDS]

Run with the project's venv and ``OSVMEXPIRE_CONFIG`` set (cloud.env
does both). Days are the unit of every os-vm-expire setting, so a demo
that wants to see warnings and a deletion within a minute moves one
record's expiry near now, as an admin would with direct database access.
Like an extension, it clears the warning state and bumps the version (the
cleaner re-reads the row before every step), and it leaves an audit event
saying who did it. This is a test tool, not part of the service.
"""

import datetime
import sys

import sqlalchemy as sa

from osvmexpire import context
from osvmexpire import expiration
from osvmexpire import service
from osvmexpire.db import api as db_api
from osvmexpire.db import models


def main() -> int:
    instance_id = sys.argv[1]
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    conf = service.prepare_service([], setup_logging=False)
    settings = expiration.Settings.from_conf(conf)
    ctx = context.get_admin_context(actor='localcloud')
    new = db_api.utcnow() + datetime.timedelta(seconds=seconds)
    fresh = models.VmExpire(expire_at=new, notified_at=None,
                            notified_last_at=None)
    with db_api.context_manager().writer.using(ctx) as session:
        row = session.scalars(sa.select(models.VmExpire).where(
            models.VmExpire.instance_id == instance_id)).first()
        if row is None:
            print('no record for instance %s' % instance_id,
                  file=sys.stderr)
            return 1
        old = row.expire_at
        session.execute(
            sa.update(models.VmExpire)
            .where(models.VmExpire.id == row.id)
            .values(expire_at=new, notified_at=None, notified_last_at=None,
                    version=models.VmExpire.version + 1,
                    next_action_at=expiration.next_step(fresh, settings).at,
                    failures=0, last_error=None, updated_at=db_api.utcnow())
            .execution_options(synchronize_session=False))
        session.add(models.VmExpireEvent(
            vmexpire_id=row.id, instance_id=row.instance_id,
            project_id=row.project_id, event='extended', actor='localcloud',
            created_at=db_api.utcnow(),
            detail={'old_expire_at': old.isoformat() + 'Z',
                    'new_expire_at': new.isoformat() + 'Z',
                    'reason': 'localcloud: expiry set near now'}))
    print(new.isoformat() + 'Z')
    return 0


if __name__ == '__main__':
    sys.exit(main())
