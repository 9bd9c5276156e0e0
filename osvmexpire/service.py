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
"""One start-up path for every os-vm-expire process.

API, worker, cleaner and the admin CLIs all call :func:`prepare_service`:
it builds a fresh ``ConfigOpts``, reads the configuration file (the one
named by ``OSVMEXPIRE_CONFIG`` when that variable is set), sets up logging
and hands the database settings to :mod:`osvmexpire.db.api`. Nothing is
parsed at import time, so tests and tools can build as many independent
configurations as they need.
"""

import os
import sys

from oslo_config import cfg
from oslo_db import options as db_options
from oslo_log import log

from osvmexpire import conf as osvmexpire_conf
from osvmexpire.conf import opts

PROJECT = 'os-vm-expire'
PROG = 'osvmexpire'
CONFIG_ENV = 'OSVMEXPIRE_CONFIG'


def _default_config_files() -> list[str]:
    """The file named by OSVMEXPIRE_CONFIG, else the oslo search path.

    A missing file named by the variable is an error, not a silent fall
    back to the defaults: an operator who names a file means it.
    """
    env_file = os.environ.get(CONFIG_ENV)
    if env_file:
        if not os.path.isfile(env_file):
            raise cfg.ConfigFilesNotFoundError([env_file])
        return [env_file]
    return cfg.find_config_files(project=PROJECT, prog=PROG)


def new_config() -> cfg.ConfigOpts:
    """A ConfigOpts with every option of the service registered."""
    conf = cfg.ConfigOpts()
    osvmexpire_conf.register_opts(conf)
    log.register_options(conf)
    db_options.set_defaults(conf)
    opts.set_defaults(conf)
    return conf


def check_values(conf: cfg.ConfigOpts) -> None:
    """Read every option once so a bad value fails at start, not later.

    oslo.config converts values lazily; without this an operator's typo
    would surface as a traceback in the middle of a cleaner cycle.
    """
    for name in list(conf):
        value = getattr(conf, name)
        if isinstance(value, cfg.ConfigOpts.GroupAttr):
            for opt_name in list(value):
                getattr(value, opt_name)


def prepare_service(argv: list[str] | None = None,
                    conf: cfg.ConfigOpts | None = None,
                    setup_logging: bool = True,
                    configure_db: bool = True) -> cfg.ConfigOpts:
    """Parse configuration, set up logging and the database; return conf.

    ``argv`` excludes the program name (default: ``sys.argv[1:]``).
    Pass ``conf`` from :func:`new_config` to register command line options
    before parsing.
    """
    if argv is None:
        argv = sys.argv[1:]
    if conf is None:
        conf = new_config()
    conf(argv, project=PROJECT, prog=PROG,
         default_config_files=_default_config_files(),
         validate_default_values=True)
    check_values(conf)
    if setup_logging:
        log.setup(conf, PROJECT)
    if configure_db:
        if not conf.database.connection:
            raise cfg.RequiredOptError('connection',
                                       cfg.OptGroup('database'))
        from osvmexpire.db import api as db_api
        db_api.configure(conf)
    return conf
