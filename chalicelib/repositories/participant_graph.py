"""The participant graph as domain records: users → profiles (records inside) → programmes → partnerships.

One load for any number of users: BatchGets of users, profiles (through each user's ``profile_ids``),
programmes and partnerships, 100 keys a request.
"""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.domain.declarations import ProviderState
from chalicelib.domain.participants import Participant, Profile, Trainer
from chalicelib.models import Partnership
from chalicelib.models.participants import ParticipantProfile, ProfileState, User
from chalicelib.repositories import participants as participant_repo
from chalicelib.repositories.common import batch_get


def _profile(item: ParticipantProfile) -> Profile:
    return Profile(
        id=item.id,
        user_id=item.user_id,
        participant_type=item.participant_type,
        status=item.status,
        training_status=item.training_status,
        school_id=item.school_id,
        cohort=int(item.cohort),
        schedule_identifier=item.schedule_identifier,
        schedule_cohort=int(item.schedule_cohort),
        mentor_profile_id=item.mentor_profile_id,
        pupil_premium_uplift=bool(item.pupil_premium_uplift),
        sparsity_uplift=bool(item.sparsity_uplift),
        records=tuple(participant_repo.records_of(item)),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def load(user_ids: Iterable[str]) -> dict[str, Participant]:
    users: dict[str, User] = batch_get(User, sorted(set(user_ids)))
    profiles = participant_repo.profiles_of_users(users)
    programme_ids = sorted({r.programme_id for ps in profiles.values() for p in ps for r in p.records or []})
    programmes = participant_repo.programmes_by_id(programme_ids)
    partnerships: dict[str, Partnership] = batch_get(
        Partnership, sorted({p.partnership_id for p in programmes.values() if p.partnership_id})
    )
    trainers: dict[str, Trainer] = {}
    for programme in programmes.values():
        row = partnerships.get(str(programme.partnership_id)) if programme.partnership_id else None
        trainers[programme.id] = Trainer(
            programme_id=programme.id,
            partnership_id=row.id if row else None,
            lead_provider_id=row.lead_provider_id if row else None,
            delivery_partner_id=row.delivery_partner_id if row else None,
            challenged=bool(row and (row.challenge_reason or row.challenged_at)),
            relationship=bool(row and row.relationship),
        )
    out: dict[str, Participant] = {}
    for user_id, user in users.items():
        mine = sorted(profiles.get(user_id, []), key=lambda p: (p.participant_type != "ect", p.created_at, p.id))
        needed = {r.programme_id for p in mine for r in p.records or []}
        out[user_id] = Participant(
            id=user.id,
            full_name=user.full_name,
            email=user.email,
            trn=user.trn,
            has_declarations=bool(user.has_declarations),
            created_at=user.created_at,
            updated_at=user.updated_at,
            profiles=tuple(_profile(p) for p in mine),
            trainers={k: v for k, v in trainers.items() if k in needed},
        )
    return out


def get(user_id: str) -> Participant | None:
    return load([user_id]).get(user_id)


def latest_provider_state(profile_id: str, lead_provider_id: str) -> ProviderState | None:
    """The provider's latest ``participant_profile_states`` row for the profile (a Query of a short history)."""
    rows = [s for s in ProfileState.query(profile_id) if s.lead_provider_id == lead_provider_id]
    if not rows:
        return None
    last = max(rows, key=lambda s: s.sort_key)
    return ProviderState(state=last.state, created_at=last.created_at)


def users_with_trn(trn: str) -> list[str]:
    return [user.id for user in User.by_trn.query(trn)]
