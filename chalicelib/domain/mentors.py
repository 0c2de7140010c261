"""Unfunded mentors (docs/reference/ecf-declarations-statements.md 3.1): the mentors of a provider's ECTs whom the
provider does not train. Pure rules and records: no storage, no clock.

"The provider's ECTs" are the ECT enrolments of the provider's participant views (its latest unchallenged
record per profile, docs/reference/ecf-domain.md 3.10); "trains" is a mentor enrolment in the mentor's own view.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

Pair = tuple[str, str]  # (lead provider id, user id)
Enrolments = Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class MentorPerson:
    """What the API shows of a mentor: the user, with the email of the mentor's own latest record."""

    user_id: str
    full_name: str
    email: str
    trn: str | None
    created_at: datetime  # the user's
    updated_at: datetime  # the user's


@dataclass(frozen=True)
class Mentor:
    """A mentor user and the providers whose ECTs they mentor (the directory re-projection fans out by)."""

    person: MentorPerson
    providers: frozenset[str]
    version: int | None = None  # None: not stored yet


@dataclass(frozen=True)
class MentorLink:
    """One mentor of one provider's ECTs: which of its ECTs they mentor, and whether the provider trains them."""

    lead_provider_id: str
    mentor_user_id: str
    ect_ids: frozenset[str]
    trained: bool
    created_at: datetime  # the mentor user's, for the list orders
    updated_at: datetime
    version: int | None = None

    @property
    def unfunded(self) -> bool:
        return bool(self.ect_ids) and not self.trained


def mentors_of(enrolments: Enrolments) -> set[str]:
    """The mentor user ids of the ECT enrolments."""
    return {str(e["mentor_id"]) for e in enrolments if e.get("participant_type") == "ect" and e.get("mentor_id")}


def trains(enrolments: Enrolments) -> bool:
    """The provider trains the user as a mentor."""
    return any(e.get("participant_type") == "mentor" for e in enrolments)


@dataclass(frozen=True)
class Changes:
    """What a re-projection changed: per (provider, mentor), ECTs gained (True) or lost (False), and
    per (provider, mentor user) re-projected, the new 'trains' value where it changed."""

    ects: dict[Pair, dict[str, bool]]
    trained: dict[Pair, bool]

    @property
    def mentor_ids(self) -> set[str]:
        return {m for _, m in self.ects} | {m for _, m in self.trained}


def changes(before: Mapping[Pair, Enrolments], after: Mapping[Pair, Enrolments]) -> Changes:
    """Compare each re-projected (provider, user) view's enrolments before and after."""
    ects: dict[Pair, dict[str, bool]] = {}
    trained: dict[Pair, bool] = {}
    for (lp, uid), new in after.items():
        old = before.get((lp, uid), ())
        old_mentors, new_mentors = mentors_of(old), mentors_of(new)
        for mentor_id in old_mentors ^ new_mentors:
            ects.setdefault((lp, mentor_id), {})[uid] = mentor_id in new_mentors
        if trains(old) != trains(new):
            trained[(lp, uid)] = trains(new)
    return Changes(ects, trained)


def apply(
    link: MentorLink | None, pair: Pair, ects: Mapping[str, bool], trained: bool | None, person: MentorPerson
) -> MentorLink | None:
    """The link after the changes (None: no ECT left, so no link). ``trained`` None keeps the stored value;
    a new link must be given it."""
    if link is None:
        link = MentorLink(pair[0], pair[1], frozenset(), bool(trained), person.created_at, person.updated_at)
    ect_ids = set(link.ect_ids)
    for ect_id, present in ects.items():
        if present:
            ect_ids.add(ect_id)
        else:
            ect_ids.discard(ect_id)
    if not ect_ids:
        return None
    return replace(
        link,
        ect_ids=frozenset(ect_ids),
        trained=link.trained if trained is None else trained,
        created_at=person.created_at,
        updated_at=person.updated_at,
    )


def providers_after(mentor: Mentor | None, gained: Iterable[str], lost: Iterable[str]) -> frozenset[str]:
    return frozenset((set(mentor.providers) if mentor else set()) | set(gained)) - frozenset(lost)
