"""secondme.v1: generated from protos/secondme/v1/*.proto by scripts/gen_protos.py."""
