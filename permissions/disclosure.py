"""Disclosure policy: what of the owner's identity may be used toward a peer, as a pure function.

The sessions code builds the persona a peer talks to from `disclose(identity, level)` only, so
what a grant's disclosure level allows is decided here and nowhere else.

Levels, from least to most:
- public card: the card (name, headline) and nothing else;
- public shades: the card and the shades the owner marked public;
- all but private: the card, the biography and every shade not marked private.

The biography is withheld below the top level because it is written from every shade not marked
private, unmarked ones included, so it could tell what a public-shades grant must not show.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from secondme.permissions.model import Disclosure


class ShadePrivacy(enum.StrEnum):
    """The owner's mark on a shade. Unmarked shades are neither shown as public nor hidden."""

    PUBLIC = "public"
    UNMARKED = "unmarked"
    PRIVATE = "private"


@dataclass(frozen=True)
class PublicCard:
    name: str
    headline: str = ""


@dataclass(frozen=True)
class ShadeView:
    """One facet of the owner as the policy sees it; `id` lets callers map back to the store."""

    id: str
    name: str
    description: str
    privacy: ShadePrivacy = ShadePrivacy.UNMARKED


@dataclass(frozen=True)
class IdentityView:
    card: PublicCard
    biography: str = ""
    shades: tuple[ShadeView, ...] = ()


@dataclass(frozen=True)
class Disclosed:
    """What may be used toward the peer; anything absent here must not reach it."""

    level: Disclosure
    card: PublicCard
    biography: str | None
    shades: tuple[ShadeView, ...]


def disclose(identity: IdentityView, level: Disclosure) -> Disclosed:
    level = Disclosure(level)
    if level is Disclosure.PUBLIC_CARD:
        return Disclosed(level, identity.card, None, ())
    if level is Disclosure.PUBLIC_SHADES:
        shades = tuple(s for s in identity.shades if s.privacy is ShadePrivacy.PUBLIC)
        return Disclosed(level, identity.card, None, shades)
    shades = tuple(s for s in identity.shades if s.privacy is not ShadePrivacy.PRIVATE)
    return Disclosed(level, identity.card, identity.biography, shades)
