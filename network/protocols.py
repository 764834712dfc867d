"""The three /secondme protocols: ids, session kinds, and the card built by the disclosure policy."""

from __future__ import annotations

from secondme.permissions import Action, Disclosure, IdentityView, disclose
from secondme.v1 import wire_pb2

CARD_PROTOCOL = "/secondme/card/1.0.0"
GRANT_PROTOCOL = "/secondme/grant/1.0.0"
SESSION_PROTOCOL = "/secondme/session/1.0.0"
PROTOCOLS = (CARD_PROTOCOL, GRANT_PROTOCOL, SESSION_PROTOCOL)

SESSION_ACTIONS: dict[int, Action] = {
    wire_pb2.SESSION_KIND_ROLEPLAY: Action.ROLEPLAY,
    wire_pb2.SESSION_KIND_ICEBREAK: Action.ICEBREAK,
    wire_pb2.SESSION_KIND_BRAINSTORM: Action.BRAINSTORM,
}
KIND_BY_NAME: dict[str, int] = {action.value: kind for kind, action in SESSION_ACTIONS.items()}


def build_card(identity: IdentityView, level: Disclosure, software_version: str) -> wire_pb2.Card:
    """The card for one requester: only what `disclose` allows at `level` goes in."""
    disclosed = disclose(identity, level)
    return wire_pb2.Card(
        display_name=disclosed.card.name,
        bio=disclosed.card.headline,
        shades=[wire_pb2.CardShade(name=s.name, description=s.description) for s in disclosed.shades],
        session_kinds=sorted(SESSION_ACTIONS),
        software_version=software_version,
        biography=disclosed.biography or "",
    )
