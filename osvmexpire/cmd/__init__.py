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
"""Console entry points. Each main is a few lines around a service.

:func:`run` gives every command the same behaviour on bad input: one
clear line on stderr and a non-zero exit, never a traceback.
"""

import functools
import sys

import sqlalchemy.exc
from oslo_config import cfg
from oslo_db import exception as db_exc

from osvmexpire import exception


def describe_error(exc: BaseException) -> str | None:
    """A one-line message for errors a user can fix, else None."""
    if isinstance(exc, cfg.ConfigFilesNotFoundError):
        return 'configuration file not found or unreadable: %s' % (
            ', '.join(exc.config_files))
    if isinstance(exc, cfg.ConfigFileParseError):
        return 'cannot parse configuration file %s: %s' % (
            exc.config_file, exc.msg)
    if isinstance(exc, (cfg.ConfigFileValueError, cfg.RequiredOptError,
                        cfg.NoSuchOptError, cfg.ConfigDirNotFoundError)):
        return 'invalid configuration: %s' % exc
    if isinstance(exc, cfg.Error):
        return 'invalid configuration: %s' % exc
    if isinstance(exc, db_exc.DBConnectionError):
        return 'cannot connect to the database: %s' % _first_line(exc)
    if isinstance(exc, (sqlalchemy.exc.OperationalError,
                        sqlalchemy.exc.ArgumentError,
                        sqlalchemy.exc.NoSuchModuleError,
                        db_exc.DBError)):
        return 'database error: %s' % _first_line(exc)
    if isinstance(exc, exception.OsVmExpireError):
        return str(exc)
    return None


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, 'inner_exception', None) or exc)
    return text.strip().splitlines()[0] if text.strip() else repr(exc)


def run(func):
    """Decorate a main(): turn known errors into 'prog: error: msg', rc 1."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        prog = sys.argv[0].rsplit('/', 1)[-1] if sys.argv else 'osvmexpire'
        try:
            return func(*args, **kwargs)
        except KeyboardInterrupt:
            return 130
        except Exception as exc:
            message = describe_error(exc)
            if message is None:
                raise
            sys.stderr.write('%s: error: %s\n' % (prog, message))
            return 1
    return wrapper
