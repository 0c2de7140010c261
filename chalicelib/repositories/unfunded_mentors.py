"""Unfunded-mentors storage: the provider-mentor links (with their sparse list indexes) and the mentors
directory (models/mentors.py). Takes and returns domain records; owns every key and condition."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import parse_timestamp
from chalicelib.domain.mentors import Enrolments, Mentor, MentorLink, MentorPerson, Pair
from chalicelib.domain.paging import KeyPage, Page
from chalicelib.domain.participants import MENTOR, Participant, latest
from chalicelib.models.mentors import Mentor as MentorItem
from chalicelib.models.mentors import ProviderMentor
from chalicelib.repositories import participant_graph as graph
from chalicelib.repositories import participants as participant_repo
from chalicelib.repositories.common import OrderedList, batch_get, conflicts_as, ordered_page, transaction
from chalicelib.repositories.schools import sort_key

TX_ITEMS = 100  # DynamoDB's limit of actions per transaction

# --------------------------------------------------------------------------- reads for the API


_LISTING = OrderedList(
    ProviderMentor,
    by_created=ProviderMentor.unfunded_by_created.Meta.index_name,
    by_updated=ProviderMentor.unfunded_by_updated.Meta.index_name,
    updated_key=ProviderMentor.updated_key,
    key_name="mentor_user_id",
)


def page(
    lead_provider_id: str,
    *,
    updated_since: datetime | None,
    order: str,
    descending: bool,
    page: Page,
) -> KeyPage:
    """Mentor user ids of one page of the provider's unfunded mentors (a keys-only index page)."""
    return ordered_page(
        _LISTING,
        lead_provider_id,
        order=order,
        descending=descending,
        page=page,
        updated_since=updated_since,
    )


def get_link(lead_provider_id: str, mentor_user_id: str) -> MentorLink | None:
    try:
        return _link(ProviderMentor.get(lead_provider_id, mentor_user_id))
    except ProviderMentor.DoesNotExist:
        return None


def get_mentor(user_id: str) -> Mentor | None:
    try:
        return _mentor(MentorItem.get(user_id))
    except MentorItem.DoesNotExist:
        return None


def mentors(user_ids: Sequence[str]) -> dict[str, Mentor]:
    return {uid: _mentor(item) for uid, item in batch_get(MentorItem, user_ids).items()}


def links(pairs: Sequence[Pair]) -> dict[Pair, MentorLink]:
    return {pair: _link(item) for pair, item in batch_get(ProviderMentor, pairs).items()}


# --------------------------------------------------------------------------- what re-projection reads


def person_of(participant: Participant) -> MentorPerson | None:
    """The mentor as the API shows them; None for a user without a mentor profile (they mentor no one).
    The email is the one on the mentor profile's latest record (any provider), else the user's."""
    mentor_profiles = [p for p in participant.profiles if p.participant_type == MENTOR]
    if not mentor_profiles:
        return None
    record = latest([r for p in mentor_profiles for r in p.records])
    return MentorPerson(
        user_id=participant.id,
        full_name=participant.full_name,
        email=(record.email if record else None) or participant.email,
        trn=participant.trn,
        created_at=participant.created_at,
        updated_at=participant.updated_at,
    )


def people_of(participants: Mapping[str, Participant]) -> dict[str, MentorPerson]:
    """``person_of`` for participants already read (re-projection's), mentors only."""
    out: dict[str, MentorPerson] = {}
    for uid, participant in participants.items():
        person = person_of(participant)
        if person is not None:
            out[uid] = person
    return out


def load_people(user_ids: Sequence[str]) -> dict[str, MentorPerson]:
    """Read mentors not re-projected now: BatchGets of users, then of their profiles."""
    return people_of(graph.load(user_ids, with_trainers=False))


def view_enrolments(pairs: Sequence[Pair]) -> dict[Pair, Enrolments]:
    """The stored participant views' enrolments (an absent view: no enrolments)."""
    views = participant_repo.views_for(pairs)
    return {pair: list(views[pair].enrolments) if pair in views else [] for pair in pairs}


# --------------------------------------------------------------------------- writes


def save(links_to_save: Sequence[MentorLink], links_to_delete: Sequence[MentorLink], to_save: Sequence[Mentor]) -> None:
    """Write links and mentors, each conditional on the version it was read at (new ones on not existing),
    in transactions of up to 100 actions. Conflict if any moved meanwhile (that transaction applies nothing)."""
    actions: list[tuple[str, Any]] = [("save", _link_item(link)) for link in links_to_save]
    actions += [("delete", _link_item(link)) for link in links_to_delete]
    actions += [("save", _mentor_item(mentor)) for mentor in to_save]
    for start in range(0, len(actions), TX_ITEMS):
        with conflicts_as("unfunded mentors changed concurrently"), transaction() as tx:
            for kind, item in actions[start : start + TX_ITEMS]:
                if kind == "save":
                    tx.save(item)
                else:
                    tx.delete(item)


# --------------------------------------------------------------------------- items ↔ records


def _link(item: ProviderMentor) -> MentorLink:
    return MentorLink(
        lead_provider_id=item.lead_provider_id,
        mentor_user_id=item.mentor_user_id,
        ect_ids=frozenset(item.ect_ids or ()),
        trained=bool(item.trained),
        created_at=_at(item.created_key),
        updated_at=_at(item.updated_key),
        version=item.version,
    )


def _link_item(link: MentorLink) -> ProviderMentor:
    item = ProviderMentor(
        lead_provider_id=link.lead_provider_id,
        mentor_user_id=link.mentor_user_id,
        ect_ids=set(link.ect_ids) or None,
        trained=link.trained,
        unfunded_for=link.lead_provider_id if link.unfunded else None,
        created_key=sort_key(link.created_at, link.mentor_user_id),
        updated_key=sort_key(link.updated_at, link.mentor_user_id),
    )
    if link.version is not None:
        item.version = link.version
    return item


def _at(key: str) -> datetime:
    parsed = parse_timestamp(key.split("#", 1)[0])
    assert parsed is not None
    return parsed


def _mentor(item: MentorItem) -> Mentor:
    person = MentorPerson(
        user_id=item.user_id,
        full_name=item.full_name,
        email=item.email,
        trn=item.trn,
        created_at=item.user_created_at,
        updated_at=item.user_updated_at,
    )
    return Mentor(person=person, providers=frozenset(item.providers or ()), version=item.version)


def _mentor_item(mentor: Mentor) -> MentorItem:
    person = mentor.person
    item = MentorItem(
        user_id=person.user_id,
        full_name=person.full_name,
        email=person.email,
        trn=person.trn,
        user_created_at=person.created_at,
        user_updated_at=person.updated_at,
        providers=set(mentor.providers) or None,
    )
    if mentor.version is not None:
        item.version = mentor.version
    return item
