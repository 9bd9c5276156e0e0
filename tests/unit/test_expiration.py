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
"""Table tests of the pure expiry rules with a fixed clock."""

import datetime

import pytest

from osvmexpire import expiration as ex

D = ex.DAY
H = datetime.timedelta(hours=1)
T0 = datetime.datetime(2026, 1, 1, 12, 0, 0)
S = ex.Settings()   # 60 / 30 / 365 days, warnings 10 and 2 days before


class Rec:
    def __init__(self, expire_at, created_at=T0, first=None, last=None):
        self.created_at = created_at
        self.expire_at = expire_at
        self.notified_at = first
        self.notified_last_at = last


def test_settings_from_conf():
    from osvmexpire import service
    conf = service.new_config()
    conf([], default_config_files=[])
    conf.set_override('max_vm_duration', 7)
    conf.set_override('notify_before_days_last', 1, group='cleaner')
    settings = ex.Settings.from_conf(conf)
    assert settings.max_vm_duration == 7 * D
    assert settings.notify_before == 10 * D
    assert settings.notify_before_last == 1 * D


@pytest.mark.parametrize('created, kwargs, expected', [
    (T0, {}, T0 + 60 * D),
    # reconciliation of an old server: at least max_vm_duration from now
    (T0 - 300 * D, {'now': T0}, T0 + 60 * D),
    (T0 - 300 * D, {'now': T0, 'min_life': 20 * D}, T0 + 20 * D),
    # a young server keeps its normal expiry when it is later
    (T0 - 1 * D, {'now': T0, 'min_life': 20 * D}, T0 + 59 * D),
])
def test_initial_expiry(created, kwargs, expected):
    assert ex.initial_expiry(created, S, **kwargs) == expected


def test_initial_expiry_within_cap():
    settings = ex.Settings(max_vm_duration=400 * D)
    assert ex.initial_expiry(T0, settings) == T0 + 365 * D


def test_utc_conversion():
    aware = datetime.datetime(2026, 1, 1, 14, 0,
                              tzinfo=datetime.timezone(2 * H))
    assert ex.utc(aware) == datetime.datetime(2026, 1, 1, 12, 0)
    assert ex.utc(T0) is T0
    # aware and naive inputs give the same answer
    assert ex.initial_expiry(aware, S) == T0 + 60 * D


@pytest.mark.parametrize('expire_at, now, days, force, expected', [
    # default extension: now + max_vm_extend
    (T0 + 5 * D, T0 + 50 * D, None, False, T0 + 80 * D),
    (T0 + 5 * D, T0 + 50 * D, 10, False, T0 + 60 * D),
    # clamped to the cap (created + 365 days)
    (T0 + 350 * D, T0 + 349 * D, 30, False, T0 + 365 * D),
    # force passes the cap
    (T0 + 365 * D, T0 + 360 * D, 30, True, T0 + 390 * D),
    (T0 + 365 * D, T0 + 360 * D, 90, True, T0 + 450 * D),
])
def test_extended_expiry(expire_at, now, days, force, expected):
    got = ex.extended_expiry(T0, expire_at, now, S, days=days, force=force)
    assert got == expected


@pytest.mark.parametrize('expire_at, now, days, match', [
    # at the cap already: refused
    (T0 + 365 * D, T0 + 360 * D, 30, 'cap'),
    # would move the date earlier: refused
    (T0 + 60 * D, T0 + 1 * D, 30, 'already expires'),
    # same date: refused
    (T0 + 31 * D, T0 + 1 * D, 30, 'already expires'),
])
def test_extension_refused(expire_at, now, days, match):
    with pytest.raises(ex.ExtensionRefused, match=match):
        ex.extended_expiry(T0, expire_at, now, S, days=days)


@pytest.mark.parametrize('days', [0, -1, 31, 1.5, '3', True])
def test_extension_invalid_days(days):
    with pytest.raises(ex.InvalidExtension):
        ex.extended_expiry(T0, T0 + 5 * D, T0, S, days=days)


def test_extension_near_cap_is_clamped_not_refused():
    # 1 day before the cap, asking for 30: moves to the cap
    got = ex.extended_expiry(T0, T0 + 360 * D, T0 + 355 * D, S, days=30)
    assert got == T0 + 365 * D


E = T0 + 60 * D  # an expiry date used below


@pytest.mark.parametrize('first, last, action, at', [
    (None, None, ex.Action.FIRST_WARNING, E - 10 * D),
    # first warning on time: last at E - 2d, deletion at E
    (E - 10 * D, None, ex.Action.LAST_WARNING, E - 2 * D),
    (E - 10 * D, E - 2 * D, ex.Action.DELETE, E),
    # first warning 5 days late: everything moves 5 days later
    (E - 5 * D, None, ex.Action.LAST_WARNING, E + 3 * D),
    (E - 5 * D, E + 3 * D, ex.Action.DELETE, E + 5 * D),
    # last warning late (mail was down): deletion 2 days after it
    (E - 10 * D, E + 1 * D, ex.Action.DELETE, E + 3 * D),
    # warnings sent after the expiry (service was down for weeks)
    (E + 20 * D, None, ex.Action.LAST_WARNING, E + 28 * D),
    (E + 20 * D, E + 28 * D, ex.Action.DELETE, E + 30 * D),
])
def test_next_step(first, last, action, at):
    step = ex.next_step(Rec(E, first=first, last=last), S)
    assert step == ex.Step(action, at)


def test_short_lived_server_gets_full_notice():
    # created with 3 days of life, less than the 10-day warning window
    settings = ex.Settings(max_vm_duration=3 * D)
    rec = Rec(ex.initial_expiry(T0, settings))
    now = T0 + H
    step = ex.due_step(rec, now, settings)
    assert step.action == ex.Action.FIRST_WARNING
    rec.notified_at = now
    assert ex.due_step(rec, T0 + 3 * D, settings) is None     # not at expiry
    last = ex.next_step(rec, settings)
    assert last == ex.Step(ex.Action.LAST_WARNING, now + 8 * D)
    rec.notified_last_at = last.at
    delete = ex.next_step(rec, settings)
    assert delete.at == now + 10 * D
    assert not ex.may_delete(rec, delete.at - datetime.timedelta(seconds=1),
                             settings)
    assert ex.may_delete(rec, delete.at, settings)


def test_extension_resets_warnings():
    rec = Rec(E, first=E - 10 * D, last=E - 2 * D)
    assert ex.may_delete(rec, E, S)
    new = ex.extended_expiry(T0, E, E - 1 * D, S, days=30)
    rec.expire_at, rec.notified_at, rec.notified_last_at = new, None, None
    assert not ex.may_delete(rec, new + 100 * D, S)
    assert ex.next_step(rec, S) == ex.Step(ex.Action.FIRST_WARNING,
                                           new - 10 * D)


@pytest.mark.parametrize('first, last, now, allowed', [
    (None, None, E + 100 * D, False),                 # never warned
    (E - 10 * D, None, E + 100 * D, False),           # no last warning
    (E - 10 * D, E - 2 * D, E - 1 * D, False),        # before expiry
    (E - 10 * D, E - 2 * D, E, True),
    (E - 3 * D, E - 2 * D, E, False),                 # first notice short
    (E - 3 * D, E - 2 * D, E + 7 * D, True),
    (E - 10 * D, E - 1 * D, E + 1 * D - H, False),    # last notice short
    (E - 10 * D, E - 12 * D, E + 10 * D, False),      # last before first
])
def test_may_delete(first, last, now, allowed):
    assert ex.may_delete(Rec(E, first=first, last=last), now, S) is allowed


def test_due_step_consistent_with_may_delete():
    """Whenever the rules say 'delete', the safety predicate agrees."""
    for first_off in range(-15, 30, 3):
        for last_off in range(-5, 30, 3):
            first = E + first_off * D
            last = first + last_off * D
            if last < first:
                continue
            rec = Rec(E, first=first, last=last)
            for now_off in range(-20, 60, 2):
                now = E + now_off * D
                step = ex.due_step(rec, now, S)
                if step and step.action == ex.Action.DELETE:
                    assert ex.may_delete(rec, now, S), (first, last, now)


@pytest.mark.parametrize('first, last, now, expected', [
    # nothing sent, seen long before: deletion at the expiry
    (None, None, T0, E),
    # nothing sent, seen 3 days before expiry: full notice from now
    (None, None, E - 3 * D, E + 7 * D),
    # first sent on time, last pending
    (E - 10 * D, None, E - 5 * D, E),
    # first sent on time, last overdue by a day (mail down)
    (E - 10 * D, None, E - 1 * D, E + 1 * D),
    # both sent
    (E - 10 * D, E - 2 * D, E + 5 * D, E),
])
def test_deletion_time(first, last, now, expected):
    assert ex.deletion_time(Rec(E, first=first, last=last), now,
                            S) == expected


def test_deletion_time_never_earlier_than_actual_deletion():
    """Simulate hourly cycles: deletion happens at the shown time or later."""
    for outage in (0, 30, 200, 400):   # hours the cleaner was down
        rec = Rec(E)
        shown = ex.deletion_time(rec, T0, S)
        now = E - 10 * D + outage * H
        while True:
            step = ex.due_step(rec, now, S)
            if step is not None:
                assert now >= step.at
                if step.action == ex.Action.FIRST_WARNING:
                    rec.notified_at = now
                elif step.action == ex.Action.LAST_WARNING:
                    rec.notified_last_at = now
                else:
                    break
            assert ex.deletion_time(rec, now, S) >= shown
            now += H
        assert now >= shown
        assert ex.may_delete(rec, now, S)


def test_clock_jump_backwards_never_deletes_early():
    rec = Rec(E, first=E - 10 * D, last=E - 2 * D)
    assert not ex.may_delete(rec, E - 30 * D, S)
    assert ex.due_step(rec, E - 30 * D, S) is None


def test_clock_jump_forward_still_gives_notice():
    rec = Rec(E)
    far = E + 365 * D
    assert ex.due_step(rec, far, S).action == ex.Action.FIRST_WARNING
    rec.notified_at = far
    assert not ex.may_delete(rec, far + H, S)
    assert ex.next_step(rec, S).at == far + 8 * D


def test_zero_warning_windows():
    settings = ex.Settings(notify_before=datetime.timedelta(0),
                           notify_before_last=datetime.timedelta(0))
    rec = Rec(E)
    assert ex.next_step(rec, settings).at == E
    rec.notified_at = E
    assert ex.next_step(rec, settings) == ex.Step(ex.Action.LAST_WARNING, E)
    rec.notified_last_at = E
    assert ex.may_delete(rec, E, settings)


def test_expiry_cap():
    assert ex.expiry_cap(T0, S) == T0 + 365 * D
