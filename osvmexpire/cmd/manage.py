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
"""osvmexpire-manage: admin CLI on the service's database.

    osvmexpire-manage [--config-file F] vm list [--project P] [--user U]
                      [--days N] [--stuck] [--all] [-f table|json|yaml|csv]
    osvmexpire-manage vm show|events|extend|remove ID
    osvmexpire-manage vm add INSTANCE_ID | vm sync
    osvmexpire-manage exclude list|add|delete
    osvmexpire-manage db upgrade|current|history

See ``osvmexpire-manage --help`` and ``osvmexpire-manage help COMMAND``.
"""

import sys

from osvmexpire.manage import app


def main(argv: list[str] | None = None) -> int:
    return app.main(argv)


if __name__ == '__main__':
    sys.exit(main())
