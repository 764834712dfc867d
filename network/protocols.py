"""The three /secondme protocols: ids, session kinds, and the card built by the disclosure policy."""

from __future__ import annotations

from secondme.permissions import Action, Disclosed
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


def build_card(peer_id: str, disclosed: Disclosed | None, software_version: str, withheld: str = "") -> wire_pb2.Card:
    """The card for one requester.

    What any peer may learn: this self's peer ID, protocols and session kinds (and the software
    version when the owner opted in: pass "" otherwise). Everything about the owner comes from
    `disclosed`, which only a grant allowing the card produces; without it `withheld` says why.
    """
    card = wire_pb2.Card(
        peer_id=peer_id,
        protocols=list(PROTOCOLS),
        session_kinds=sorted(SESSION_ACTIONS),
        software_version=software_version,
    )
    if disclosed is None:
        card.withheld = withheld or "nothing about the owner without a grant from them"
        return card
    card.display_name = disclosed.card.name
    card.bio = disclosed.card.headline
    card.shades.extend(wire_pb2.CardShade(name=s.name, description=s.description) for s in disclosed.shades)
    card.biography = disclosed.biography or ""
    return card
