"""The pipeline of jobs the composition root wires: ingest -> embed -> identity."""

from __future__ import annotations

from secondme.daemon.app import embed_after_ingest, identity_after_embed


def test_an_ingest_that_stored_something_is_embedded_and_one_that_stored_nothing_is_not():
    assert embed_after_ingest({"ingested": 3, "duplicate": 1}) == [("embed", {})]
    assert embed_after_ingest({"ingested": 0, "duplicate": 4}) == []


def test_an_embed_that_changed_something_updates_the_identity_when_auto_update_is_on():
    assert identity_after_embed({"memories": 2}, auto_update=True) == [("identity", {})]
    assert identity_after_embed({"memories": 0, "same_content": 1}, auto_update=True) == [("identity", {})]
    assert identity_after_embed({"memories": 0, "same_content": 0}, auto_update=True) == []
    assert identity_after_embed({"memories": 2}, auto_update=False) == []
