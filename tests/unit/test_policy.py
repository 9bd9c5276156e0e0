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
"""The enforcer's memo never answers for other credentials or targets,
and an edited policy file takes effect at the next look at the files."""

import pytest
from oslo_config import cfg

from osvmexpire import context
from osvmexpire import policy
from osvmexpire.policies import vmexpire as rules


def _ctx(project='p1', roles=('member', 'reader'), user='u1'):
    return context.RequestContext(user_id=user, project_id=project,
                                  roles=list(roles))


@pytest.fixture
def enforcer(tmp_path):
    conf = cfg.ConfigOpts()
    conf([], project='os-vm-expire', default_config_files=[])
    policy_file = tmp_path / 'policy.yaml'
    policy_file.write_text('{}\n')
    enf = policy.init(conf)
    conf.set_override('policy_file', str(policy_file), group='oslo_policy')
    enf.policy_file = str(policy_file)
    enf.file = policy_file
    return enf


def test_decisions_follow_credentials_and_target(enforcer):
    member = _ctx()
    for _ in range(2):  # the second round answers from the memo
        assert policy.authorize(enforcer, member, rules.GET,
                                {'project_id': 'p1'})
        assert not policy.authorize(enforcer, member, rules.GET,
                                    {'project_id': 'p2'}, do_raise=False)
        assert not policy.authorize(enforcer, _ctx(project='p2'), rules.GET,
                                    {'project_id': 'p1'}, do_raise=False)
        assert not policy.authorize(enforcer, _ctx(roles=()), rules.GET,
                                    {'project_id': 'p1'}, do_raise=False)
        with pytest.raises(policy.PolicyNotAuthorized, match=rules.LIST_ALL):
            policy.authorize(enforcer, member, rules.LIST_ALL,
                             {'project_id': 'p1'})
    assert enforcer._memo


def test_an_edited_policy_file_takes_effect_at_the_next_look(
        enforcer, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(policy.time, 'monotonic', lambda: clock[0])
    member = _ctx()
    target = {'project_id': 'p1'}
    assert policy.authorize(enforcer, member, rules.GET, target)
    enforcer.file.write_text('"%s": "role:nobody"\n' % rules.GET)
    # Within the recheck period the files are not looked at ...
    clock[0] += enforcer.recheck_seconds / 2
    assert policy.authorize(enforcer, member, rules.GET, target)
    # ... after it, the new rule decides and the memo is gone.
    clock[0] += enforcer.recheck_seconds
    assert not policy.authorize(enforcer, member, rules.GET, target,
                                do_raise=False)
    enforcer.file.write_text('{}\n')
    clock[0] += enforcer.recheck_seconds
    assert policy.authorize(enforcer, member, rules.GET, target)
