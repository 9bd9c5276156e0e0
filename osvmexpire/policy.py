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
"""oslo.policy enforcer: built per configuration, checked explicitly.

Controllers call :func:`authorize` with a target built from the database
row (its ``project_id``), never from the URL.
"""

from oslo_config import cfg
from oslo_policy import opts as policy_opts
from oslo_policy import policy

from osvmexpire import exception
from osvmexpire import policies


class PolicyNotAuthorized(exception.OsVmExpireError):
    """Policy refused the action (HTTP 403)."""


def init(conf: cfg.ConfigOpts, rules=None) -> policy.Enforcer:
    """A new enforcer with the rules in code (``rules`` for tests)."""
    policy_opts.set_defaults(conf, policy_file='policy.yaml')
    enforcer = policy.Enforcer(conf)
    enforcer.register_defaults(policies.list_rules())
    if rules:
        enforcer.set_rules(policy.Rules.from_dict(rules), overwrite=False,
                           use_conf=False)
    return enforcer


def get_enforcer() -> policy.Enforcer:
    """For oslopolicy-* tools (entry point oslo.policy.enforcer)."""
    conf = cfg.ConfigOpts()
    conf([], project='os-vm-expire')
    return init(conf)


def authorize(enforcer: policy.Enforcer, context, rule: str,
              target: dict, do_raise: bool = True) -> bool:
    """Check ``rule`` for ``context`` on ``target``.

    Raises :class:`PolicyNotAuthorized` (or returns False) on refusal;
    a scope mismatch is a refusal too.
    """
    try:
        # oslo.policy raises exc(*args): the rule name is the message.
        return enforcer.authorize(rule, target, context, do_raise,
                                  PolicyNotAuthorized, rule) or False
    except policy.InvalidScope:
        if do_raise:
            raise PolicyNotAuthorized(rule)
        return False
