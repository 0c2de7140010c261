"""The participant graph as domain records: users → profiles (records inside) → programmes → partnerships.

The one loader of the graph. ``load`` reads any number of users with BatchGets of users, profiles (through each
user's ``profile_ids``), programmes and partnerships, 100 keys a request; ``load_one`` reads one user by GetItem
and its profiles by the ``by_user`` Query (what the actions and the admin view have always read); both then go
through ``trainers_of`` (programmes → partnerships). ``with_trainers=False`` stops at the profiles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from chalicelib.domain.declarations import ProviderState
from chalicelib.domain.participants import Participant, Profile, Trainer, User, ect_first
from chalicelib.models.participants import User as UserItem
from chalicelib.repositories import participants as participant_repo


def trainers_of(programme_ids: Iterable[str]) -> dict[str, Trainer]:
    """Who trains each programme: a BatchGet of the programmes, then one of their partnerships."""
    programmes = participant_repo.programmes_by_id(sorted(set(programme_ids)))
    partnerships = participant_repo.partnerships_by_id(
        sorted({p.partnership_id for p in programmes.values() if p.partnership_id})
    )
    trainers: dict[str, Trainer] = {}
    for programme in programmes.values():
        row = partnerships.get(programme.partnership_id) if programme.partnership_id else None
        trainers[programme.id] = Trainer(
            programme_id=programme.id,
            partnership_id=row.id if row else None,
            lead_provider_id=row.lead_provider_id if row else None,
            delivery_partner_id=row.delivery_partner_id if row else None,
            challenged=bool(row and row.challenged),
            relationship=bool(row and row.relationship),
            training_programme=programme.training_programme,
            delivery_partner_name=row.delivery_partner_name if row else None,
            challenge_reason=row.challenge_reason if row else None,
        )
    return trainers


def _assemble(
    users: Mapping[str, User], profiles: Mapping[str, Sequence[Profile]], with_trainers: bool
) -> dict[str, Participant]:
    programme_ids = {r.programme_id for ps in profiles.values() for p in ps for r in p.records}
    trainers = trainers_of(programme_ids) if with_trainers else {}
    out: dict[str, Participant] = {}
    for user_id, user in users.items():
        mine = ect_first(profiles.get(user_id, []))
        needed = {r.programme_id for p in mine for r in p.records}
        out[user_id] = Participant(
            id=user.id,
            full_name=user.full_name,
            email=user.email,
            trn=user.trn,
            has_declarations=user.has_declarations,
            created_at=user.created_at,
            updated_at=user.updated_at,
            profiles=tuple(mine),
            trainers={k: v for k, v in trainers.items() if k in needed},
        )
    return out


def load(user_ids: Iterable[str], *, with_trainers: bool = True) -> dict[str, Participant]:
    users = participant_repo.users_by_id(sorted(set(user_ids)))
    return _assemble(users, participant_repo.profiles_of_users(users), with_trainers)


def load_one(user_id: str, *, with_trainers: bool = True) -> Participant | None:
    """One user by GetItem and its profiles by Query (no BatchGet of one key)."""
    user = participant_repo.get_user(user_id)
    if user is None:
        return None
    return _assemble({user.id: user}, {user.id: participant_repo.profiles_of_user(user.id)}, with_trainers)[user.id]


def get(user_id: str) -> Participant | None:
    return load([user_id]).get(user_id)


def latest_provider_state(profile_id: str, lead_provider_id: str) -> ProviderState | None:
    """The provider's latest ``participant_profile_states`` row for the profile (a Query of a short history)."""
    rows = [s for s in participant_repo.states_of(profile_id) if s.lead_provider_id == lead_provider_id]
    if not rows:
        return None
    last = rows[-1]  # states come in the order they were recorded
    return ProviderState(state=last.state, created_at=last.created_at)


def users_with_trn(trn: str) -> list[str]:
    return [user.id for user in UserItem.by_trn.query(trn)]
