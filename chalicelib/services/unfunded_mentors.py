"""Unfunded mentors (docs/reference/ecf-declarations-statements.md 3.1): list and show, and keeping the read model in
step
whenever participants are re-projected (``follow``, called from ``projection.reproject``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from chalicelib.domain import mentors as rules
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.mentors import Changes, Enrolments, Mentor, MentorLink, MentorPerson, Pair
from chalicelib.domain.paging import Listing, Order, Page
from chalicelib.domain.participants import Participant
from chalicelib.repositories import unfunded_mentors as repo
from chalicelib.services.ids import is_uuid

ATTEMPTS = 3


def list_unfunded_mentors(
    lead_provider_id: str, *, updated_since: datetime | None, order: Order, page: Page
) -> Listing[MentorPerson]:
    """One keys-only index Query (more only for deep pages) and one BatchGet of the mentors."""
    keys = repo.page(
        lead_provider_id,
        updated_since=updated_since,
        order=order.field,
        descending=order.descending,
        page=page,
    )
    found = repo.mentors(keys.keys)
    return Listing([found[uid].person for uid in keys.keys if uid in found], keys.next)


def get_unfunded_mentor(lead_provider_id: str, mentor_id: str) -> MentorPerson:
    """NotFound unless the id is one of the provider's unfunded mentors (another provider's looks random)."""
    link = repo.get_link(lead_provider_id, mentor_id) if is_uuid(mentor_id) else None
    mentor = repo.get_mentor(mentor_id) if link is not None and link.unfunded else None
    if mentor is None:
        raise NotFound(mentor_id)
    return mentor.person


# --------------------------------------------------------------------------- following re-projection


def follow(
    participants: Mapping[str, Participant], before: Mapping[Pair, Enrolments], after: Mapping[Pair, Enrolments]
) -> None:
    """Re-projection rebuilt these (provider, user) views: ``before`` the stored enrolments, ``after`` the new.

    Updates the links of the mentors whose ECTs came or went, whether each provider trains the re-projected
    mentors, and the re-projected mentors' details. No request at all when no mentor is involved; otherwise
    a few BatchGets and one transaction per 100 changed items. Every write is conditional on what was read,
    and a lost race re-reads and re-applies (the changes are absolute, so applying twice is applying once).
    """
    changes = rules.changes(before, after)
    people = repo.people_of(participants)
    if not changes.ects and not changes.trained and not people:
        return
    for attempt in range(ATTEMPTS):
        try:
            _apply(changes, people, after)
            return
        except Conflict:
            if attempt == ATTEMPTS - 1:
                raise


def _apply(changes: Changes, people: Mapping[str, MentorPerson], after: Mapping[Pair, Enrolments]) -> None:
    stored = repo.mentors(sorted(changes.mentor_ids | set(people)))
    gaining = {pair for pair, ects in changes.ects.items() if any(ects.values())}
    unknown = sorted({m for _, m in gaining if m not in stored and m not in people})
    persons = {m: s.person for m, s in stored.items()} | (repo.load_people(unknown) if unknown else {}) | dict(people)
    # A mentor whose user timestamps changed moves in every provider's list order.
    moved = {
        (lp, m)
        for m, person in people.items()
        if m in stored and _times(stored[m].person) != _times(person)
        for lp in stored[m].providers
    }
    pairs = sorted(set(changes.ects) | set(changes.trained) | moved)
    current = repo.links(pairs)
    trained_now = _trained([p for p in sorted(gaining) if p not in current], people, after)

    to_save: list[MentorLink] = []
    to_delete: list[MentorLink] = []
    gained: dict[str, set[str]] = {}
    lost: dict[str, set[str]] = {}
    for pair in pairs:
        lp, m = pair
        if m not in persons:
            continue  # no such user: nothing to show
        link = current.get(pair)
        trained = trained_now.get(pair) if link is None else changes.trained.get(pair)
        new = rules.apply(link, pair, changes.ects.get(pair, {}), trained, persons[m])
        if new is None and link is not None:
            to_delete.append(link)
            lost.setdefault(m, set()).add(lp)
        elif new is not None and new != link:
            to_save.append(new)
            if link is None:
                gained.setdefault(m, set()).add(lp)
    repo.save(to_save, to_delete, _mentors_to_save(stored, persons, gained, lost))


def _mentors_to_save(
    stored: Mapping[str, Mentor],
    persons: Mapping[str, MentorPerson],
    gained: Mapping[str, set[str]],
    lost: Mapping[str, set[str]],
) -> list[Mentor]:
    out: list[Mentor] = []
    for m in sorted(persons):
        mentor = stored.get(m)
        providers = rules.providers_after(mentor, gained.get(m, ()), lost.get(m, ()))
        if mentor is None:
            if providers:
                out.append(Mentor(person=persons[m], providers=providers))
        elif mentor.person != persons[m] or mentor.providers != providers:
            out.append(replace(mentor, person=persons[m], providers=providers))
    return out


def _trained(
    pairs: Sequence[Pair], people: Mapping[str, MentorPerson], after: Mapping[Pair, Enrolments]
) -> dict[Pair, bool]:
    """Whether each provider trains each mentor of a new link: from this re-projection when the mentor is in
    it, else from the mentor's stored participant view (one BatchGet)."""
    elsewhere = [pair for pair in pairs if pair[1] not in people]
    stored = repo.view_enrolments(elsewhere) if elsewhere else {}
    return {pair: rules.trains(after.get(pair, ()) if pair[1] in people else stored[pair]) for pair in pairs}


def _times(person: MentorPerson) -> tuple[datetime, datetime]:
    return person.created_at, person.updated_at
