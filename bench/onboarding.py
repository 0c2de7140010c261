"""Participants for the benchmark, as domain records in exactly the state the services leave them.

``make_participants`` onboards participants onto partnered school cohorts as
``services.induction.add_participant`` (with no partnership id) would have
left them, and ``write_onboarded`` stores them with
``repositories.seed.seed_participants`` (batch writes of the items the
repositories' own mappings make):

* the school cohort's default FIP programme (a ``Programme`` with the
  cohort's active partnership), created at the first onboarding, and the
  school cohort's ``default_induction_programme_id`` pointing at it;
* per participant a ``User`` (the identity of its email comes with it), a
  ``Profile`` with one active induction ``Record`` (current programme set),
  its programme membership, the initial ``active`` ``ProfileState`` (the
  provider of the programme's partnership);
* the provider's ``ParticipantView`` built with ``projection.build_views``
  at the onboarding time, as ``projection.reproject`` writes it.

About 30% of participants go to the largest lead provider's partnerships,
the rest over the other providers' partnerships; ~2% were onboarded in the
last day (what a recent ``filter[updated_since]`` finds).

``python -m bench.participants`` checks the shape against the service.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.clock import truncate
from chalicelib.domain.participants import (
    ECT,
    MENTOR,
    Participant,
    ParticipantView,
    Profile,
    ProfileState,
    Programme,
    SchoolCohortSetup,
    SchoolRef,
    Trainer,
    User,
    is_challenged,
)
from chalicelib.domain.partnerships import FIP, Partnership
from chalicelib.domain.schools import SchoolCohort
from chalicelib.repositories import participants as participant_repo
from chalicelib.repositories import seed
from chalicelib.services import induction, projection

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


@dataclass(frozen=True)
class Onboarding:
    """One onboarded participant (what add_participant leaves behind), as domain records."""

    user: User
    profile: Profile
    state: ProfileState
    state_unique: str  # the random part of the state's sort key (drawn from the seed)
    view: ParticipantView | None


@dataclass
class ParticipantData:
    count: int = 0
    programmes: list[Programme] = field(default_factory=list)
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


def seeded_uuid(rng: random.Random) -> str:
    """A version-4 UUID drawn from ``rng``: the same ids for the same seed."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def onboard(
    rng: random.Random,
    *,
    school: SchoolRef,
    programme: Programme,
    partnership: Partnership | None,
    at: datetime,
    serial: int,
) -> Onboarding:
    """One participant as add_participant(partnership_id=None) leaves it on ``programme`` at ``at``."""
    participant_type = MENTOR if rng.random() < MENTOR_SHARE else ECT
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first.lower()}.{last.lower()}{serial}@{school.urn}.example.org"
    trn = None if rng.random() < 0.4 else str(1_000_000 + rng.randrange(8_999_999))
    user_id = seeded_uuid(rng)
    cohort = programme.cohort
    profile = Profile(
        id=seeded_uuid(rng),
        user_id=user_id,
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
    user = User(
        id=user_id,
        full_name=f"{first} {last}",
        email=email,
        trn=trn,
        created_at=at,
        updated_at=at,
        profile_ids=frozenset({profile.id}),
    )
    setup = SchoolCohortSetup(
        school_id=school.id,
        cohort=cohort,
        induction_programme_choice=FIP,
        default_programme_id=programme.id,
        active_partnership_id=partnership.id if partnership else None,
        appropriate_body=None,
    )
    record = induction.first_record(school, programme, setup, None, email, None, at, record_id=seeded_uuid(rng))
    profile = profile.with_records([record], programme.id)
    state = ProfileState(
        profile_id=profile.id,
        state="active",
        reason=None,
        lead_provider_id=partnership.lead_provider_id if partnership else None,
        created_at=at,
    )
    state_unique = seeded_uuid(rng)
    view = None
    if partnership is not None:
        participant = _participant(user, profile, programme, partnership)
        content = projection.build_views(participant, {}, at)
        view = make_view(partnership.lead_provider_id, user, content[partnership.lead_provider_id], at)
    return Onboarding(user, profile, state, state_unique, view)


def _participant(user: User, profile: Profile, programme: Programme, partnership: Partnership) -> Participant:
    trainer = Trainer(
        programme_id=programme.id,
        partnership_id=partnership.id,
        lead_provider_id=partnership.lead_provider_id,
        delivery_partner_id=partnership.delivery_partner_id,
        challenged=is_challenged(partnership.challenge_reason, partnership.challenged_at),
        relationship=partnership.relationship,
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


def make_view(lead_provider_id: str, user: User, content: dict[str, Any], at: datetime) -> ParticipantView:
    """The view ``projection.reproject`` saves for new content."""
    return projection.new_view(lead_provider_id, user, content, at)


def new_programme(
    rng: random.Random, school: SchoolRef, cohort: int, partnership_id: str | None, at: datetime
) -> Programme:
    return Programme(
        id=seeded_uuid(rng),
        school_id=school.id,
        school_urn=school.urn,
        cohort=cohort,
        training_programme=FIP,
        partnership_id=partnership_id,
        created_at=at,
        updated_at=at,
    )


def _onboarding_times(
    count: int, now: datetime, rng: random.Random, largest_lead_provider: str, partnerships: Sequence[Partnership]
) -> dict[str, list[datetime]]:
    """Onboarding times per partnership id: after the partnership's report, ~2% in the last day."""
    mine = [p for p in partnerships if p.lead_provider_id == largest_lead_provider]
    others = [p for p in partnerships if p.lead_provider_id != largest_lead_provider]
    own = round(count * LARGEST_SHARE) if others else count
    targets = [rng.choice(mine) for _ in range(own)] + [rng.choice(others) for _ in range(count - own)]
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
    return times


def make_participants(
    count: int,
    now: datetime,
    rng: random.Random,
    largest_lead_provider: str,
    schools: Mapping[str, SchoolRef],
    school_cohorts: MutableMapping[tuple[str, int], SchoolCohort],
    partnerships: Sequence[Partnership],
) -> ParticipantData:
    """Onboard ``count`` participants over the partnered school cohorts; ``school_cohorts`` (by school id and
    cohort) get their default programmes."""
    data = ParticipantData(count=count)
    times = _onboarding_times(count, now, rng, largest_lead_provider, partnerships)
    serial = 0
    for partnership in partnerships:
        onboarded_at = sorted(times.get(partnership.id, []))
        if not onboarded_at:
            continue
        school = schools[partnership.school_id]
        cohort = partnership.cohort
        programme = new_programme(rng, school, cohort, partnership.id, onboarded_at[0])
        data.programmes.append(programme)
        school_cohort = school_cohorts[(school.id, cohort)]
        # _set_default_programme at the first onboarding.
        school_cohorts[(school.id, cohort)] = replace(
            school_cohort,
            default_induction_programme_id=programme.id,
            updated_at=max(school_cohort.updated_at, onboarded_at[0]),
        )
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


def write_onboarded(onboarded: Sequence[Onboarding], programmes: Sequence[Programme] = ()) -> int:
    """Batch-write (``seed.seed_participants``, 25 items a BatchWriteItem); returns the number of items."""
    return seed.seed_participants(
        programmes=programmes,
        users=[o.user for o in onboarded],
        profiles=[o.profile for o in onboarded],
        states=[(o.state, o.state_unique) for o in onboarded],
        views=[o.view for o in onboarded if o.view is not None],
    )


def onboard_school_cohort(
    rng: random.Random,
    school: SchoolRef,
    school_cohort: SchoolCohort,
    n: int,
    at: datetime,
    partnership: Partnership | None,
) -> list[Onboarding]:
    """``n`` participants onboarded onto the school cohort's default programme (created if missing, with the
    partnership's id or none), as ``n`` add_participant calls would leave them; written with batch writes."""
    cohort = school_cohort.cohort
    programme = participant_repo.get_programme(school_cohort.default_induction_programme_id)
    programmes = []
    if programme is None:
        programme = new_programme(rng, school, cohort, partnership.id if partnership else None, at)
        programmes.append(programme)
        participant_repo.set_default_programme(school.id, cohort, programme.id, at)
    people = [
        onboard(rng, school=school, programme=programme, partnership=partnership, at=at, serial=900_000 + i)
        for i in range(n)
    ]
    write_onboarded(people, programmes)
    return people
