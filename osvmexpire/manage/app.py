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
"""The cliff application behind ``osvmexpire-manage``.

Commands are registered in code (no entry points), so the admin CLI works
from a source tree and from an installed package alike. The service
configuration is read lazily, on the first command that needs it, so
``--help`` and usage errors never touch the config file or the database.

Exit codes: 0 success, 1 a handled error (one line on stderr), 2 a usage
error (argparse, unknown command).
"""

import getpass
import logging
import re
import sys

import sqlalchemy.exc
from alembic.util import exc as alembic_exc
from cliff import app
from cliff import command
from cliff import commandmanager
from oslo_config import cfg

from osvmexpire import cmd
from osvmexpire import context
from osvmexpire import exception
from osvmexpire import expiration
from osvmexpire import service
from osvmexpire.cmd import describe_error

PROG = 'osvmexpire-manage'
# How SQLite, MariaDB and PostgreSQL say that a table is missing.
_NO_SCHEMA = re.compile(r"no such table|Table '.*' doesn't exist|"
                        r'relation ".*" does not exist')


class UsageError(Exception):
    """A command line that parses but makes no sense (exit code 2)."""


def _version() -> str:
    try:
        import pbr.version
        return pbr.version.VersionInfo('os-vm-expire').version_string()
    except Exception:  # noqa: BLE001 - an uninstalled tree has no metadata
        return 'unknown'


def error_message(exc: BaseException) -> str | None:
    """One line for an error the admin can act on, else None."""
    if isinstance(exc, cfg.RequiredOptError) and (
            getattr(exc, 'group', None) is not None
            and exc.group.name == 'database'):
        return ('no database connection configured: pass --config-file '
                'or set %s' % service.CONFIG_ENV)
    if isinstance(exc, (expiration.ExtensionRefused,
                        expiration.InvalidExtension)):
        return str(exc)
    if isinstance(exc, alembic_exc.CommandError):
        return 'migration error: %s' % exc
    message = describe_error(exc)
    if message is None and isinstance(exc, sqlalchemy.exc.DBAPIError):
        message = 'database error: %s' % cmd._first_line(exc)
    if message is not None:
        if _NO_SCHEMA.search(message):
            message += ' (no schema yet? run "%s db upgrade")' % PROG
        return message
    try:
        import keystoneauth1.exceptions as ks_exc
        from novaclient import exceptions as nova_exc
    except ImportError:  # pragma: no cover - both are service requirements
        return None
    if isinstance(exc, nova_exc.NotFound):
        return 'not found in Nova: %s' % exc
    if isinstance(exc, nova_exc.ClientException):
        return 'Nova refused the request: %s' % exc
    if isinstance(exc, ks_exc.ClientException):
        return 'cannot reach Nova or Keystone: %s' % exc
    return None


class ManageApp(app.App):
    """osvmexpire-manage: look after expirations directly in the DB."""

    CONSOLE_MESSAGE_FORMAT = '%(levelname)s %(name)s: %(message)s'

    def __init__(self, stdout=None, stderr=None):
        manager = commandmanager.CommandManager('osvmexpire.manage',
                                                convert_underscores=True)
        from osvmexpire.manage import db as db_cmds
        from osvmexpire.manage import exclude as exclude_cmds
        from osvmexpire.manage import vm as vm_cmds
        for module in (vm_cmds, exclude_cmds, db_cmds):
            for name, cls in module.COMMANDS.items():
                manager.add_command(name, cls)
        super().__init__(
            description=(__doc__ or '').splitlines()[0],
            version=_version(), command_manager=manager,
            stdout=stdout, stderr=stderr, deferred_help=False)
        self.NAME = PROG
        self._conf = None
        self._console = None

    def build_option_parser(self, description, version, argparse_kwargs=None):
        parser = super().build_option_parser(description, version,
                                             argparse_kwargs)
        parser.prog = PROG
        parser.add_argument(
            '--config-file', action='append', default=[],
            metavar='PATH',
            help='Configuration file of the service (repeatable; default: '
                 'the file named by %s, else the oslo search path '
                 '/etc/os-vm-expire/os-vm-expire.conf ...).'
                 % service.CONFIG_ENV)
        parser.add_argument(
            '--config-dir', action='append', default=[], metavar='DIR',
            help='Directory of *.conf files read after --config-file.')
        return parser

    def configure_logging(self) -> None:
        """Warnings and errors of libraries on stderr, nothing else.

        The handler is removed again in :meth:`close`, so running main()
        several times in one process does not stack handlers.
        """
        root = logging.getLogger('')
        root.setLevel(logging.DEBUG if self.options.debug else logging.INFO)
        self._console = logging.StreamHandler(self.stderr)
        level = {0: logging.CRITICAL, 1: logging.ERROR, 2: logging.WARNING,
                 3: logging.INFO}.get(self.options.verbose_level,
                                      logging.DEBUG)
        self._console.setLevel(level)
        self._console.setFormatter(
            logging.Formatter(self.CONSOLE_MESSAGE_FORMAT))
        root.addHandler(self._console)

    def close(self) -> None:
        if self._console is not None:
            logging.getLogger('').removeHandler(self._console)
            self._console = None

    def interact(self) -> None:
        """No interactive shell: a command is required."""
        self.stderr.write('%s: error: a command is required (see '
                          '"%s --help")\n' % (PROG, PROG))
        raise SystemExit(2)

    @property
    def conf(self) -> cfg.ConfigOpts:
        """The service configuration, parsed and with the DB configured."""
        if self._conf is None:
            conf = service.new_config()
            # An admin command should fail at once on an unreachable
            # database, not retry for minutes; a config file may still
            # set max_retries explicitly.
            conf.set_default('max_retries', 0, group='database')
            argv = []
            for path in self.options.config_file:
                argv += ['--config-file', path]
            for path in self.options.config_dir:
                argv += ['--config-dir', path]
            self._conf = service.prepare_service(argv, conf,
                                                 setup_logging=False)
        return self._conf

    @property
    def settings(self) -> expiration.Settings:
        return expiration.Settings.from_conf(self.conf)

    def admin_context(self) -> context.RequestContext:
        """The admin's context; loads the configuration and the DB first."""
        self.conf  # noqa: B018
        return context.get_admin_context(actor=actor_name())


def actor_name() -> str:
    """Who is written into the audit trail for a change made here."""
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry, no env: still act
        user = 'unknown'
    return '%s:%s' % (PROG, user)


class Handled:
    """Mixin for commands: known errors become one line and exit code 1."""

    def run(self, parsed_args):
        try:
            return super().run(parsed_args)
        except UsageError as exc:
            self.app.stderr.write('%s: error: %s\n' % (PROG, exc))
            return 2
        except exception.OsVmExpireError as exc:
            self.app.stderr.write('%s: error: %s\n' % (PROG, exc))
            return 1
        except Exception as exc:
            message = error_message(exc)
            if message is None or self.app.options.debug:
                raise
            self.app.stderr.write('%s: error: %s\n' % (PROG, message))
            return 1


class Command(Handled, command.Command):
    pass


def main(argv: list[str] | None = None, stdout=None, stderr=None) -> int:
    """Run one command; returns the exit code (also for usage errors)."""
    if argv is None:
        argv = sys.argv[1:]
    manage = ManageApp(stdout=stdout, stderr=stderr)
    try:
        return manage.run(list(argv))
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        return code if isinstance(code, int) else 2
    finally:
        manage.close()
