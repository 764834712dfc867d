"""The disclosure policy: what a grant's level lets the sessions code use toward a peer."""

from __future__ import annotations

import itertools

from secondme.permissions import Disclosure, IdentityView, PublicCard, ShadePrivacy, ShadeView, disclose

IDENTITY = IdentityView(
    card=PublicCard("Alex", "climber and coder"),
    biography="Alex grew up by the sea ...",
    shades=(
        ShadeView("s1", "climbing", "weekends on granite", ShadePrivacy.PUBLIC),
        ShadeView("s2", "work", "backend engineer", ShadePrivacy.UNMARKED),
        ShadeView("s3", "health", "recovering from surgery", ShadePrivacy.PRIVATE),
    ),
)


def _names(level: Disclosure) -> list[str]:
    return [s.name for s in disclose(IDENTITY, level).shades]


def test_public_card_discloses_only_the_card() -> None:
    disclosed = disclose(IDENTITY, Disclosure.PUBLIC_CARD)
    assert disclosed.card == IDENTITY.card
    assert disclosed.biography is None and disclosed.shades == ()


def test_public_shades_adds_only_shades_marked_public_and_no_biography() -> None:
    assert _names(Disclosure.PUBLIC_SHADES) == ["climbing"]
    assert disclose(IDENTITY, Disclosure.PUBLIC_SHADES).biography is None


def test_all_but_private_never_includes_a_private_shade() -> None:
    disclosed = disclose(IDENTITY, Disclosure.ALL_BUT_PRIVATE)
    assert _names(Disclosure.ALL_BUT_PRIVATE) == ["climbing", "work"]
    assert disclosed.biography == IDENTITY.biography


def test_levels_only_ever_widen() -> None:
    levels = [Disclosure.PUBLIC_CARD, Disclosure.PUBLIC_SHADES, Disclosure.ALL_BUT_PRIVATE]
    for lower, higher in itertools.pairwise(levels):
        assert set(_names(lower)) <= set(_names(higher))
