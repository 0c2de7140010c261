"""Participants for the benchmark, loaded in exactly the shape the services write.

``make_participants`` onboards participants onto partnered school cohorts as
``services.induction.add_participant`` (with no partnership id) would have
left them, then ``write_participants`` stores the finished items with
``Model.batch_write()``:

* the school cohort's default FIP programme (``InductionProgramme`` with the
  cohort's active ``partnership_id``), created at the first onboarding, and the
  school cohort's ``default_induction_programme_id`` pointing at it;
* per participant a ``User`` and its ``Identity`` (lower-cased email), a
  ``ParticipantProfile`` (version 1, one active induction record in
  ``records``, ``current_programme_id`` set), its ``ProgrammeMember``, the initial
  ``active`` ``ProfileState`` (the provider of the programme's partnership);
* the ``ProviderParticipant`` read model built with ``projection.build_views``
  at the onboarding time, as ``projection.reproject`` writes it.

About 30% of participants go to the largest lead provider's partnerships,
the rest over the other providers' partnerships; ~2% were onboarded in the
last day (what a recent ``filter[updated_since]`` finds).

``python -m bench.participants`` checks the shape: on a small load it
onboards one participant through ``induction.add_participant`` on a loaded
school cohort and compares every item it writes with a loaded one, and checks
``projection.reproject`` rewrites no loaded view (same digest).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.clock import iso, truncate
from chalicelib.domain.participants import (
    ECT,
    MENTOR,
    Participant,
    ParticipantView,
    Profile,
    Record,
    Trainer,
    content_digest,
    is_challenged,
)
from chalicelib.domain.partnerships import FIP
from chalicelib.models import Partnership, School, SchoolCohort
from chalicelib.models.participants import (
    Identity,
    InductionProgramme,
    ParticipantProfile,
    ProfileState,
    ProgrammeMember,
    ProviderParticipant,
    User,
)
from chalicelib.repositories import participants as repo
from chalicelib.services import projection

LARGEST_SHARE = 0.30
MENTOR_SHARE = 0.25
SCHEDULE = "ecf-standard-september"
FIRST_NAMES = [
    "Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Ivy", "Muhammad", "Grace", "Leo",
    "Freya", "Harry", "Lily", "Oscar", "Florence", "Archie", "Willow", "Henry", "Aisha", "Jack", "Priya", "Tom",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Khan", "Clarke", "Okafor",
]  # fmt: skip


@dataclass
class Onboarding:
    """The items of one onboarded participant (what add_participant leaves behind)."""

    user: User
    identity: Identity
    profile: ParticipantProfile
    member: ProgrammeMember
    state: ProfileState
    view: ProviderParticipant | None


@dataclass
class ParticipantData:
    count: int = 0
    programmes: list[InductionProgramme] = field(default_factory=list)
    onboarded: list[Onboarding] = field(default_factory=list)
    by_lead_provider: dict[str, list[str]] = field(default_factory=dict)  # lp id -> visible user ids
    ects_by_lead_provider: dict[str, list[str]] = field(default_factory=dict)  # lp id -> users with an ECT profile
    recent: int = 0  # onboarded in the last day

    def summary(self, names: dict[str, str]) -> str:
        shares = sorted(self.by_lead_provider.items(), key=lambda kv: -len(kv[1]))
        lps = ", ".join(f"{names.get(lp, lp)} {len(ids):,}" for lp, ids in shares)
        return (
            f"; participants by LP: {lps} ({len(self.programmes):,} partnered school cohorts with participants, "
            f"{self.recent:,} onboarded in the last day)"
        )


def _uuid(rng: random.Random) -> str:
    import uuid

    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def onboard(
    rng: random.Random,
    *,
    school: School,
    programme: InductionProgramme,
    partnership: Partnership | None,
    at: datetime,
    serial: int,
) -> Onboarding:
    """One participant as add_participant(partnership_id=None) writes it onto ``programme`` at ``at``."""
    participant_type = MENTOR if rng.random() < MENTOR_SHARE else ECT
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first.lower()}.{last.lower()}{serial}@{school.urn}.example.org"
    trn = None if rng.random() < 0.4 else str(1_000_000 + rng.randrange(8_999_999))
    user = User(id=_uuid(rng), full_name=f"{first} {last}", email=email, trn=trn, created_at=at, updated_at=at)
    identity = Identity(email=email.lower(), user_id=user.id, created_at=at)
    cohort = int(programme.cohort)
    profile = Profile(
        id=_uuid(rng),
        user_id=user.id,
        participant_type=participant_type,
        status="active",
        training_status="active",
        school_id=school.id,
        cohort=cohort,
        schedule_identifier=SCHEDULE,
        schedule_cohort=cohort,
        mentor_profile_id=None,
        pupil_premium_uplift=False,
        sparsity_uplift=False,
        records=(),
        induction_start_date=at,
        created_at=at,
        updated_at=at,
    )
    user.profile_ids = {profile.id}
    record = Record(
        id=_uuid(rng),
        programme_id=programme.id,
        school_id=school.id,
        school_urn=school.urn,
        start_date=at,
        end_date=None,
        training_status="active",
        induction_status="active",
        email=email,
        mentor_profile_id=None,
        mentor_user_id=None,
        schedule_identifier=SCHEDULE,
        schedule_cohort=cohort,
        school_transfer=False,
        appropriate_body=None,
        created_at=at,
        updated_at=at,
    )
    profile = profile.with_records([record], programme.id, version=1)  # what the first conditional save leaves
    member = ProgrammeMember(programme_id=programme.id, profile_id=profile.id, user_id=user.id)
    state = ProfileState(
        profile_id=profile.id,
        sort_key=f"{iso(at)}#{_uuid(rng)}",
        state="active",
        reason=None,
        lead_provider_id=partnership.lead_provider_id if partnership else None,
        created_at=at,
    )
    view = None
    if partnership is not None:
        participant = _participant(user, profile, programme, partnership)
        content = projection.build_views(participant, {}, at)
        view = make_view(partnership.lead_provider_id, user, content[partnership.lead_provider_id], at)
    return Onboarding(user, identity, repo.profile_item(profile), member, state, view)


def _participant(user: User, profile: Profile, programme: InductionProgramme, partnership: Partnership) -> Participant:
    trainer = Trainer(
        programme_id=programme.id,
        partnership_id=partnership.id,
        lead_provider_id=partnership.lead_provider_id,
        delivery_partner_id=partnership.delivery_partner_id,
        challenged=is_challenged(partnership.challenge_reason, partnership.challenged_at),
        relationship=bool(partnership.relationship),
        training_programme=programme.training_programme,
        delivery_partner_name=partnership.delivery_partner_name,
        challenge_reason=partnership.challenge_reason,
    )
    return Participant(
        id=user.id,
        full_name=user.full_name,
        email=user.email,
        trn=user.trn,
        has_declarations=False,
        created_at=user.created_at,
        updated_at=user.updated_at,
        profiles=(profile,),
        trainers={programme.id: trainer},
    )


def make_view(lead_provider_id: str, user: User, content: dict[str, Any], at: datetime) -> ProviderParticipant:
    """The item ``projection.reproject`` saves for new content."""
    view = ParticipantView(
        lead_provider_id=lead_provider_id,
        user_id=user.id,
        visible=bool(content["enrolments"]),
        full_name=user.full_name,
        trn=user.trn,
        enrolments=content["enrolments"],
        user_created_at=user.created_at,
        updated_at=at,
        digest=content_digest(content),
    )
    return repo.view_item(view)


def new_programme(
    rng: random.Random, school: School, cohort: int, partnership_id: str | None, at: datetime
) -> InductionProgramme:
    return InductionProgramme(
        id=_uuid(rng),
        school_id=school.id,
        school_urn=school.urn,
        cohort=cohort,
        school_cohort=repo.school_cohort_key(school.id, cohort),
        training_programme=FIP,
        partnership_id=partnership_id,
        created_at=at,
        updated_at=at,
    )


def make_participants(
    count: int,
    now: datetime,
    rng: random.Random,
    largest_lead_provider: str,
    schools: Iterable[School],
    school_cohorts: list[SchoolCohort],
    partnerships: list[Partnership],
) -> ParticipantData:
    """Onboard ``count`` participants over the partnered school cohorts (sets their default programmes)."""
    data = ParticipantData(count=count)
    by_id = {s.id: s for s in schools}
    cohorts = {(sc.school_id, int(sc.cohort)): sc for sc in school_cohorts}
    mine = [p for p in partnerships if p.lead_provider_id == largest_lead_provider]
    others = [p for p in partnerships if p.lead_provider_id != largest_lead_provider]
    own = round(count * LARGEST_SHARE) if others else count
    targets = [rng.choice(mine) for _ in range(own)] + [rng.choice(others) for _ in range(count - own)]
    # Onboarding times per participant: after the partnership's report, ~2% in the last day.
    recent_every = 50
    times: dict[str, list[datetime]] = defaultdict(list)
    for i, partnership in enumerate(targets):
        created = partnership.created_at
        if i % recent_every == 0:
            at = max(created + timedelta(seconds=60), now - timedelta(seconds=rng.randrange(120, 20 * 3600)))
        else:
            latest = now - timedelta(days=2)
            earliest = min(created + timedelta(days=1), latest)
            at = earliest + timedelta(seconds=rng.uniform(0, (latest - earliest).total_seconds()))
        times[partnership.id].append(truncate(min(at, now)))
    serial = 0
    for partnership in partnerships:
        onboarded_at = sorted(times.get(partnership.id, []))
        if not onboarded_at:
            continue
        school = by_id[partnership.school_id]
        cohort = int(partnership.cohort)
        programme = new_programme(rng, school, cohort, partnership.id, onboarded_at[0])
        data.programmes.append(programme)
        school_cohort = cohorts[(school.id, cohort)]
        # _set_default_programme at the first onboarding.
        school_cohort.default_induction_programme_id = programme.id
        school_cohort.updated_at = max(school_cohort.updated_at, onboarded_at[0])
        for at in onboarded_at:
            serial += 1
            item = onboard(rng, school=school, programme=programme, partnership=partnership, at=at, serial=serial)
            data.onboarded.append(item)
            data.by_lead_provider.setdefault(partnership.lead_provider_id, []).append(item.user.id)
            if item.profile.participant_type == ECT:
                data.ects_by_lead_provider.setdefault(partnership.lead_provider_id, []).append(item.user.id)
            if at > now - timedelta(days=1):
                data.recent += 1
    return data


def write_onboarded(onboarded: list[Onboarding], programmes: Iterable[InductionProgramme] = ()) -> int:
    """Batch-write the items (25 a BatchWriteItem); returns the number of items."""
    written = 0
    for model, items in (
        (InductionProgramme, list(programmes)),
        (User, [o.user for o in onboarded]),
        (Identity, [o.identity for o in onboarded]),
        (ParticipantProfile, [o.profile for o in onboarded]),
        (ProgrammeMember, [o.member for o in onboarded]),
        (ProfileState, [o.state for o in onboarded]),
        (ProviderParticipant, [o.view for o in onboarded if o.view is not None]),
    ):
        with model.batch_write() as batch:  # type: ignore[attr-defined]
            for item in items:
                batch.save(item)
                written += 1
    return written


def onboard_school_cohort(
    rng: random.Random,
    school: School,
    school_cohort: SchoolCohort,
    n: int,
    at: datetime,
    partnership: Partnership | None,
) -> list[Onboarding]:
    """``n`` participants onboarded onto the school cohort's default programme (created if missing, with the
    partnership's id or none), as ``n`` add_participant calls would leave them; written with batch writes."""
    cohort = int(school_cohort.cohort)
    programme = repo.get_programme(school_cohort.default_induction_programme_id)
    programmes = []
    if programme is None:
        programme = new_programme(rng, school, cohort, partnership.id if partnership else None, at)
        programmes.append(programme)
        school_cohort.update(
            actions=[
                SchoolCohort.default_induction_programme_id.set(programme.id),
                SchoolCohort.updated_at.set(at),
            ]
        )
    people = [
        onboard(rng, school=school, programme=programme, partnership=partnership, at=at, serial=900_000 + i)
        for i in range(n)
    ]
    write_onboarded(people, programmes)
    return people


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


def check_shape() -> int:
    """Onboard one participant through the service and compare its items with a loaded participant's."""
    from moto import mock_aws

    import bench  # noqa: F401
    from bench.load import Scale, fresh_tables, load
    from chalicelib.services import induction

    problems: list[str] = []
    with mock_aws():
        fresh_tables()
        data = load(Scale.factor(0.01))
        assert data.participants is not None
        loaded = data.participants.onboarded[0]
        programme = InductionProgramme.get(loaded.member.programme_id)
        school = School.get(programme.school_id)
        at = data.now
        made = induction.add_participant(
            urn=school.urn, cohort=int(programme.cohort), full_name="Check Person", email="check@example.org",
            participant_type=loaded.profile.participant_type, trn=loaded.user.trn, mentor_email=None,
            appropriate_body=None, partnership_id=None, now=at,
        )  # fmt: skip
        if made.programme_id != programme.id:
            problems.append(f"service used programme {made.programme_id}, loaded {programme.id}")
        partnership = Partnership.get(programme.partnership_id)
        lp = partnership.lead_provider_id
        pairs = [
            (User.get(made.user_id), User.get(loaded.user.id)),
            (Identity.get("check@example.org"), Identity.get(loaded.identity.email)),
            (ParticipantProfile.get(made.profile_id), ParticipantProfile.get(loaded.profile.id)),
            (ProgrammeMember.get(programme.id, made.profile_id), ProgrammeMember.get(programme.id, loaded.profile.id)),
            (next(ProfileState.query(made.profile_id)), next(ProfileState.query(loaded.profile.id))),
            (ProviderParticipant.get(lp, made.user_id), ProviderParticipant.get(lp, loaded.user.id)),
        ]
        for service_item, loaded_item in pairs:
            a, b = _shape(service_item.serialize()), _shape(loaded_item.serialize())
            name = type(service_item).__name__
            if a != b:
                problems.append(f"{name}: service {a} != loaded {b}")
            else:
                print(f"  {name}: same attributes and types ({len(a)} attributes)")
        s_view, l_view = pairs[-1]
        for key in ("enrolments",):
            s_keys = [sorted(e) for e in s_view.enrolments]
            l_keys = [sorted(e) for e in l_view.enrolments]
            if s_keys != l_keys:
                problems.append(f"view {key} keys differ: {s_keys} != {l_keys}")
        s_profile, l_profile = pairs[2]
        for attr in ("version", "status", "training_status", "schedule_identifier", "current_programme_id"):
            s_value, l_value = getattr(s_profile, attr), getattr(l_profile, attr)
            if attr == "current_programme_id":
                s_value, l_value = s_value == programme.id, l_value == programme.id
            if s_value != l_value:
                problems.append(f"profile {attr}: service {s_value!r}, loaded {l_value!r}")
        state_s, state_l = pairs[4]
        if (state_s.state, state_s.lead_provider_id) != (state_l.state, state_l.lead_provider_id):
            problems.append("profile state differs")
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
