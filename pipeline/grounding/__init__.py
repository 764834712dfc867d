"""Statements about the owner that rest on the owner's own words, with the memory ids to show it.

`sentences` finds the owner's sentences in a memory; `person` moves a first-person sentence to the
second or third person by rules (never by a model); `select` picks representative, diverse
sentences (centrality on embeddings with MMR); `support` checks a sentence against the memories it
cites; `names` names a group of memories from its keywords and named entities. The identity
pipeline, chat and the eval all use these, so "supported" means one thing everywhere.
"""
