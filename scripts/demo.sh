#!/usr/bin/env bash
# The main job, end to end, on a throwaway data dir: install, init, start the daemon, ingest the
# sample notes that ship in examples/, list the memories, model who wrote them (insights, shades,
# biographies) with the default model, ask the self about itself (the reply cites the notes it
# was given), and stop.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh "default-model"

demo="$(mktemp -d /tmp/secondme-demo.XXXXXX)"
export SECONDME_CONFIG="$demo/config.toml" SECONDME_DATA_DIR="$demo/data" SECONDME_SOCKET="$demo/secondmed.sock"
export HF_HUB_OFFLINE=1
bin=.venv/bin

$bin/secondmectl init
$bin/secondmed --log-level warning &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -S "$SECONDME_SOCKET" ] && break; sleep 0.1; done

$bin/secondmectl status
$bin/secondmectl ingest examples/notes
$bin/secondmectl memories list
$bin/secondmectl identity refresh
$bin/secondmectl identity show
$bin/secondmectl chat -m "What have you been up to lately?" --max-tokens 64
$bin/secondmectl stop
wait $daemon
trap - EXIT
echo "demo data left in $demo"
