"""Teams of agents, managed by admins; a ticket can be given to a team."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from responso_chat.conversation.errors import ChangeRefused
from responso_chat.models import Team, TeamMember
from responso_chat.state import plugin_state
from responso_chat.users import agents_by_id


def list_teams() -> list:
    """Every team by name, with its members."""
    state = plugin_state()
    query = sa.select(Team).order_by(Team.name).options(selectinload(Team.member_rows))
    return list(state.db.session.execute(query).scalars())


def get_team(team_id: int):
    """The team with ``team_id`` and its members, or None."""
    state = plugin_state()
    return state.db.session.get(Team, team_id, options=[selectinload(Team.member_rows)])


def member_ids(team) -> list[str]:
    """Ids of the team's agents."""
    return sorted(row.user_id for row in team.member_rows)


def _check_name_free(name: str, team_id: int | None = None) -> None:
    query = sa.select(Team.id).where(sa.func.lower(Team.name) == name.lower())
    if team_id is not None:
        query = query.where(Team.id != team_id)
    if plugin_state().db.session.execute(query).first():
        raise ChangeRefused("name", "A team with this name exists.")


def _member_rows(user_ids) -> list:
    agents = agents_by_id()
    unknown = [user_id for user_id in user_ids if str(user_id) not in agents]
    if unknown:
        raise ChangeRefused("members", "Choose members from the list of agents.")
    return [TeamMember(user_id=str(user_id)) for user_id in sorted(set(map(str, user_ids)))]


def create_team(name: str, members=()):
    """Create a team with these agents as members."""
    state = plugin_state()
    _check_name_free(name)
    team = Team(name=name)
    team.member_rows = _member_rows(members)
    state.db.session.add(team)
    state.db.session.commit()
    return team


def update_team(team, name: str, members) -> None:
    """Rename a team and set its members (agents of the host)."""
    _check_name_free(name, team.id)
    rows = _member_rows(members)
    keep = {row.user_id: row for row in team.member_rows}
    team.name = name
    team.member_rows = [keep.get(row.user_id, row) for row in rows]
    plugin_state().db.session.commit()
