"""``python -m bench.participants``: check that the benchmark's participants have the services' shape.

On a small load without declarations (``bench.load``, whose participants ``bench.onboarding`` builds) it
onboards one participant through ``induction.add_participant`` on a loaded school cohort and compares every
item it writes with a loaded one (attribute names and DynamoDB types), and checks ``projection.reproject``
rewrites no loaded view (same digest). The items are read with ``repositories.seed.participant_items``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bench.load import Scale, fresh_tables, load
from bench.onboarding import Onboarding
from chalicelib.repositories import participants as participant_repo
from chalicelib.repositories import seed
from chalicelib.services import projection

# --------------------------------------------------------------------------- shape check


def _shape(value: Any) -> Any:
    """Attribute names and DynamoDB types, recursively (values left out)."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in ("M", "L"):
            kind, inner = next(iter(value.items()))
            if kind == "M":
                return {"M": {k: _shape(v) for k, v in inner.items()}}
            return {"L": [_shape(v) for v in inner[:1]]}
        if len(value) == 1:
            return next(iter(value))
        return {k: _shape(v) for k, v in value.items()}
    return type(value).__name__


def _compare_records(user_id: str, profile_id: str, loaded: Onboarding, programme_id: str, lp: str) -> list[str]:
    """The service's profile, state and view against the loaded ones, read back as domain records."""
    problems: list[str] = []
    s_view, l_view = participant_repo.get_view(lp, user_id), participant_repo.get_view(lp, loaded.user.id)
    assert s_view is not None
    assert l_view is not None
    s_keys = [sorted(e) for e in s_view.enrolments]
    l_keys = [sorted(e) for e in l_view.enrolments]
    if s_keys != l_keys:
        problems.append(f"view enrolments keys differ: {s_keys} != {l_keys}")
    s_profile, l_profile = participant_repo.get_profile(profile_id), participant_repo.get_profile(loaded.profile.id)
    assert s_profile is not None
    assert l_profile is not None
    for attr in ("version", "status", "training_status", "schedule_identifier", "current_programme_id"):
        s_value, l_value = getattr(s_profile, attr), getattr(l_profile, attr)
        if attr == "current_programme_id":
            s_value, l_value = s_value == programme_id, l_value == programme_id
        if s_value != l_value:
            problems.append(f"profile {attr}: service {s_value!r}, loaded {l_value!r}")
    state_s = participant_repo.states_of(profile_id)[0]
    state_l = participant_repo.states_of(loaded.profile.id)[0]
    if (state_s.state, state_s.lead_provider_id) != (state_l.state, state_l.lead_provider_id):
        problems.append("profile state differs")
    return problems


def check_shape() -> int:
    """Onboard one participant through the service and compare its items with a loaded participant's."""
    from moto import mock_aws

    from chalicelib.services import induction

    problems: list[str] = []
    with mock_aws():
        fresh_tables()
        # Without declarations: loading them marks users (``has_declarations``) and their eligibility changes the
        # views, which is not what onboarding leaves.
        data = load(replace(Scale.factor(0.01), declarations=0))
        assert data.participants is not None
        loaded = data.participants.onboarded[0]
        programme = participant_repo.get_programme(loaded.profile.current_programme_id)
        assert programme is not None
        at = data.now
        made = induction.add_participant(
            urn=programme.school_urn, cohort=programme.cohort, full_name="Check Person", email="check@example.org",
            participant_type=loaded.profile.participant_type, trn=loaded.user.trn, mentor_email=None,
            appropriate_body=None, partnership_id=None, now=at,
        )  # fmt: skip
        if made.programme_id != programme.id:
            problems.append(f"service used programme {made.programme_id}, loaded {programme.id}")
        partnership = participant_repo.get_partnership(programme.partnership_id or "")
        assert partnership is not None
        lp = partnership.lead_provider_id
        service_items = seed.participant_items(
            user_id=made.user_id, email="check@example.org", profile_id=made.profile_id,
            programme_id=programme.id, lead_provider_id=lp,
        )  # fmt: skip
        loaded_items = seed.participant_items(
            user_id=loaded.user.id, email=loaded.user.email, profile_id=loaded.profile.id,
            programme_id=programme.id, lead_provider_id=lp,
        )  # fmt: skip
        for name, service_item in service_items.items():
            a, b = _shape(service_item), _shape(loaded_items[name])
            if a != b:
                problems.append(f"{name}: service {a} != loaded {b}")
            else:
                print(f"  {name}: same attributes and types ({len(a)} attributes)")
        problems += _compare_records(made.user_id, made.profile_id, loaded, programme.id, lp)
        # The loaded read model is what the projection builds: re-projecting at the onboarding time writes nothing.
        sample = [o.user.id for o in data.participants.onboarded[:50]]
        written = sum(projection.reproject([o.user.id], o.user.created_at) for o in data.participants.onboarded[:50])
        if written:
            problems.append(f"reproject rewrote {written} of {len(sample)} loaded views (digest differs)")
        else:
            print(f"  reproject of {len(sample)} loaded users: 0 views rewritten (same digests)")
    for problem in problems:
        print("  MISMATCH", problem)
    print("shape check:", "OK" if not problems else "FAILED")
    return 1 if problems else 0


if __name__ == "__main__":
    import sys

    sys.exit(check_shape())
