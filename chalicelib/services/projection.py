"""Rebuild what each lead provider sees of a participant (the ``ProviderParticipant`` read model).

The visibility rule (ecf-domain.md 3.10): a provider's records are those whose
programme's partnership is the provider's and unchallenged (relationship
partnerships count); each profile shows its latest such record, so a provider
keeps seeing its last record after the participant leaves it. The rule is
evaluated here, from the profiles themselves, whenever records or the
partnerships behind them change; the API only reads the result.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import iso
from chalicelib.domain.participants import COURSE_OF, Record, latest, participant_status, v1_status
from chalicelib.domain.statements import Eligibility, trn_validated
from chalicelib.models import Partnership
from chalicelib.models.participants import InductionProgramme, ParticipantProfile, ProviderParticipant, User
from chalicelib.repositories import eligibility as eligibility_repo
from chalicelib.repositories import participants as repo
from chalicelib.repositories import partnerships as partnership_repo
from chalicelib.repositories.schools import sort_key
from chalicelib.services import declarations, unfunded_mentors


def _enrolment(
    profile: ParticipantProfile,
    record: Record,
    partnership: Partnership,
    states: list[Any] | None,
    lead_provider_id: str,
    user: User,
    eligibility: Eligibility | None,
    now: datetime,
) -> dict[str, Any]:
    withdrawal = deferral = None
    if record.training_status in ("withdrawn", "deferred") and states is not None:
        mine = [s for s in states if s.lead_provider_id == lead_provider_id and s.state == record.training_status]
        if mine:
            last = max(mine, key=lambda s: s.sort_key)
            detail = {"reason": last.reason, "date": iso(last.created_at)}
            if record.training_status == "withdrawn":
                withdrawal = detail
            else:
                deferral = detail
    return {
        "training_record_id": profile.id,
        "email": record.email or user.email,
        "mentor_id": record.mentor_user_id if profile.participant_type == "ect" else None,
        "school_urn": record.school_urn,
        "participant_type": profile.participant_type,
        "course_identifier": COURSE_OF[profile.participant_type],
        "cohort": str(record.schedule_cohort),
        "training_status": record.training_status,
        "participant_status": participant_status(record, now),
        "status": v1_status(record),
        "teacher_reference_number_validated": trn_validated(user.trn, eligibility),
        "eligible_for_funding": eligibility.eligible_for_funding if eligibility else None,
        "pupil_premium_uplift": bool(profile.pupil_premium_uplift),
        "sparsity_uplift": bool(profile.sparsity_uplift),
        "schedule_identifier": record.schedule_identifier,
        "delivery_partner_id": partnership.delivery_partner_id,
        "partnership_id": partnership.id,
        "withdrawal": withdrawal,
        "deferral": deferral,
        "created_at": iso(profile.created_at),
        "induction_end_date": None,
        "mentor_funding_end_date": None,
        "cohort_changed_after_payments_frozen": False,
        "mentor_ineligible_for_funding_reason": None,
        "record_id": record.id,
    }


def build_views(
    user: User,
    profiles: Sequence[ParticipantProfile],
    programmes: dict[str, InductionProgramme],
    partnerships: dict[str, Partnership],
    states: dict[str, list[Any]],
    now: datetime,
    *,
    eligibilities: dict[str, Eligibility] | None = None,
    include_challenged: bool = False,
) -> dict[str, dict[str, Any]]:
    """lead provider id → the projected content (enrolments may be empty: hidden).

    ``include_challenged`` counts challenged partnerships too: what an action responds with (3.11 step 3).
    """
    providers: set[str] = set()
    for profile in profiles:
        for record in repo.records_of(profile):
            programme = programmes.get(record.programme_id)
            partnership = partnerships.get(programme.partnership_id) if programme and programme.partnership_id else None
            if partnership is not None:
                providers.add(partnership.lead_provider_id)
    out: dict[str, dict[str, Any]] = {}
    for lead_provider_id in sorted(providers):
        enrolments = []
        for profile in sorted(profiles, key=lambda p: (p.participant_type != "ect", p.created_at, p.id)):
            records = repo.records_of(profile)

            def mine(record: Record, lp: str = lead_provider_id) -> bool:
                programme = programmes.get(record.programme_id)
                if programme is None or not programme.partnership_id:
                    return False
                partnership = partnerships.get(programme.partnership_id)
                return (
                    partnership is not None
                    and partnership.lead_provider_id == lp
                    and (include_challenged or (not partnership.challenge_reason and partnership.challenged_at is None))
                )

            found = latest(records, mine)
            if found is None:
                continue
            record = found
            programme = programmes[record.programme_id]
            partnership = partnerships[str(programme.partnership_id)]
            eligibility = (eligibilities or {}).get(profile.id)
            enrolments.append(
                _enrolment(
                    profile, record, partnership, states.get(profile.id), lead_provider_id, user, eligibility, now
                )
            )
        out[lead_provider_id] = {"full_name": user.full_name, "trn": user.trn, "enrolments": enrolments}
    return out


def provider_view(lead_provider_id: str, user_id: str, now: datetime) -> ProviderParticipant | None:
    """Build, without saving, what the provider's actions see of a user: its latest record on each profile,
    challenged partnerships included (ecf-domain.md 3.11 step 3). None if it has no record at all."""
    user = repo.get_user(user_id)
    if user is None:
        return None
    profiles = repo.profiles_of_user(user_id)
    programmes = repo.programmes_by_id(sorted({r.programme_id for p in profiles for r in p.records or []}))
    partnerships = partnership_repo.partnerships_by_id(
        sorted({p.partnership_id for p in programmes.values() if p.partnership_id})
    )
    states = {p.id: repo.states_of(p.id) for p in profiles}
    eligibilities = eligibility_repo.by_profiles([p.id for p in profiles])
    content = build_views(
        user, profiles, programmes, partnerships, states, now, eligibilities=eligibilities, include_challenged=True
    )
    mine = content.get(lead_provider_id)
    if mine is None:
        return None
    return ProviderParticipant(
        lead_provider_id=lead_provider_id,
        user_id=user_id,
        visible_to=None,
        created_key=sort_key(user.created_at, user_id),
        updated_key=sort_key(now, user_id),
        full_name=user.full_name,
        trn=user.trn,
        enrolments=mine["enrolments"],
        user_created_at=user.created_at,
        updated_at=now,
        digest=_digest(mine),
    )


def _digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def reproject(user_ids: Iterable[str], now: datetime, also_providers: Iterable[str] = ()) -> int:
    """Rebuild the read model of these users for every provider that has (or had) their records.

    Unchanged content keeps its ``updated_at``; changed content gets ``now``, so
    ``filter[updated_since]`` sees exactly the participants a change affected.
    Returns the number of view items written.
    """
    ids = sorted(set(user_ids))
    if not ids:
        return 0
    users = repo.users_by_id(ids)
    profiles_of: dict[str, list[ParticipantProfile]] = repo.profiles_of_users(users)
    programme_ids = {r.programme_id for ps in profiles_of.values() for p in ps for r in (p.records or [])}
    programmes = repo.programmes_by_id(sorted(programme_ids))
    partnership_ids = sorted({p.partnership_id for p in programmes.values() if p.partnership_id})
    partnerships = partnership_repo.partnerships_by_id(partnership_ids)
    states: dict[str, list[Any]] = {}
    for profile_list in profiles_of.values():
        for profile in profile_list:
            if profile.training_status != "active" or any(r.training_status != "active" for r in profile.records or []):
                states[profile.id] = repo.states_of(profile.id)
    eligibilities = eligibility_repo.by_profiles([p.id for ps in profiles_of.values() for p in ps])
    built = {
        uid: build_views(
            users[uid], profiles_of[uid], programmes, partnerships, states, now, eligibilities=eligibilities
        )
        for uid in ids
        if uid in users
    }
    keys = [(lp, uid) for uid, by_lp in built.items() for lp in by_lp]
    keys += [(lp, uid) for lp in set(also_providers) for uid in built if (lp, uid) not in keys]
    existing = repo.views_for(keys)
    to_save: list[ProviderParticipant] = []
    for lp, uid in keys:
        user = users[uid]
        content = built[uid].get(lp, {"full_name": user.full_name, "trn": user.trn, "enrolments": []})
        digest = _digest(content)
        view = existing.get((lp, uid))
        if view is not None and view.digest == digest:
            continue
        if view is None and not content["enrolments"]:
            continue
        enrolments = content["enrolments"]
        view = ProviderParticipant(
            lead_provider_id=lp,
            user_id=uid,
            visible_to=lp if enrolments else None,
            created_key=sort_key(user.created_at, uid),
            updated_key=sort_key(now, uid),
            cohorts={int(e["cohort"]) for e in enrolments} or None,
            statuses={e["training_status"] for e in enrolments} or None,
            full_name=user.full_name,
            trn=user.trn,
            enrolments=enrolments,
            user_created_at=user.created_at,
            updated_at=now,
            digest=digest,
        )
        to_save.append(view)
    repo.save_views(to_save)
    # The unfunded-mentors read model follows the same enrolments (ecf-declarations-statements.md 3.1).
    unfunded_mentors.follow(
        users,
        profiles_of,
        before={key: existing[key].enrolments for key in keys if key in existing},
        after={(lp, uid): built[uid].get(lp, {}).get("enrolments", []) for lp, uid in keys},
    )
    # Which providers may see a participant's declarations follows the same records (a transfer, a migration).
    declarations.refresh_visibility([uid for uid, user in users.items() if user.has_declarations], now)
    return len(to_save)
