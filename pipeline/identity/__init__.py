"""L1: who the owner is, from their memories: insights, shades (groups of alike memories) and biographies.

Modules are imported directly (`secondme.pipeline.identity.update`, `.clustering`, ...): the daemon
reads the stored identity at chat time and must not pay for scikit-learn to get it.
"""
