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

import time

from oslo_config import cfg
from oslo_policy import opts as policy_opts
from oslo_policy import policy

from osvmexpire import exception
from osvmexpire import policies


class PolicyNotAuthorized(exception.OsVmExpireError):
    """Policy refused the action (HTTP 403)."""


class Enforcer(policy.Enforcer):
    """oslo.policy's enforcer, looking at the policy files at most once
    per :attr:`recheck_seconds`, and remembering its decisions until then.

    oslo.policy looks for the policy file and every policy.d directory
    (a dozen ``stat`` calls) and inspects each check's signature on every
    check, twice per API request. A decision depends only on the rules,
    the rule name, the target and the caller's credentials, which together
    are the key of the memo; the memo is dropped whenever the files are
    looked at again, so an edited policy file still takes effect within a
    second.
    """

    recheck_seconds = 1.0
    memo_size = 10000
    _checked_at: float | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._memo: dict = {}

    def load_rules(self, force_reload: bool = False) -> None:
        now = time.monotonic()
        if (force_reload or self._checked_at is None
                or now - self._checked_at >= self.recheck_seconds):
            super().load_rules(force_reload)
            self._checked_at = now
            self._memo = {}

    def set_rules(self, *args, **kwargs) -> None:
        super().set_rules(*args, **kwargs)
        self._memo = {}

    def clear(self) -> None:
        super().clear()
        self._checked_at = None

    def allows(self, rule: str, target: dict, context) -> bool:
        """Whether ``rule`` allows ``context`` on ``target`` (a scope
        mismatch is a refusal); remembered as described above."""
        self.load_rules()
        try:
            # The credentials are exactly what enforce() reads of a context.
            key = (rule, frozenset(target.items()), frozenset(
                (k, tuple(v) if isinstance(v, list) else v)
                for k, v in context.to_policy_values().items()))
            allowed = self._memo.get(key)
        except TypeError:  # an unhashable value: no memo
            key = allowed = None
        if allowed is None:
            try:
                allowed = bool(self.authorize(rule, target, context))
            except policy.InvalidScope:
                allowed = False
            if key is not None:
                if len(self._memo) >= self.memo_size:
                    self._memo = {}
                self._memo[key] = allowed
        return allowed


def init(conf: cfg.ConfigOpts, rules=None) -> Enforcer:
    """A new enforcer with the rules in code (``rules`` for tests)."""
    policy_opts.set_defaults(conf, policy_file='policy.yaml')
    enforcer = Enforcer(conf)
    enforcer.register_defaults(policies.list_rules())
    if rules:
        enforcer.set_rules(policy.Rules.from_dict(rules), overwrite=False,
                           use_conf=False)
    return enforcer


def get_enforcer() -> Enforcer:
    """For oslopolicy-* tools (entry point oslo.policy.enforcer)."""
    conf = cfg.ConfigOpts()
    conf([], project='os-vm-expire')
    return init(conf)


def authorize(enforcer: Enforcer, context, rule: str,
              target: dict, do_raise: bool = True) -> bool:
    """Check ``rule`` for ``context`` on ``target``.

    Raises :class:`PolicyNotAuthorized` (or returns False) on refusal;
    a scope mismatch is a refusal too.
    """
    allowed = enforcer.allows(rule, target, context)
    if not allowed and do_raise:
        # oslo.policy raises exc(*args): the rule name is the message.
        raise PolicyNotAuthorized(rule)
    return allowed
