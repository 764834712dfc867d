#!/usr/bin/env bash
# The main job, end to end, on a throwaway data dir: install, init, start the daemon, ingest the
# sample notes that ship in examples/, list the memories, model who wrote them (insights, shades,
# biographies: every sentence the notes' own, with the ids of the memories it comes from), score
# how much of that the memories support, ask the self about itself (the reply quotes the notes it
# rests on) and about something the notes never mention (it says it has nothing on that), and stop.
# SKIP_INSTALL=1 uses the .venv as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${SKIP_INSTALL:-}" ] || scripts/install.sh "default-model"

demo="$(mktemp -d /tmp/secondme-demo.XXXXXX)"
export SECONDME_CONFIG="$demo/config.toml" SECONDME_DATA_DIR="$demo/data" SECONDME_SOCKET="$demo/secondmed.sock"
export HF_HUB_OFFLINE=1
bin=.venv/bin

# The sample notes' writer is never named in them: the owner's name is the owner's to give.
$bin/secondmectl init --name "${DEMO_OWNER:-Sam}"
$bin/secondmed --log-level warning &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -S "$SECONDME_SOCKET" ] && break; sleep 0.1; done

$bin/secondmectl status
$bin/secondmectl ingest examples/notes
$bin/secondmectl memories list
$bin/secondmectl identity refresh
$bin/secondmectl identity show
$bin/secondmectl eval --identity
$bin/secondmectl models show gemma-3-270m 2>/dev/null || $bin/secondmectl models list
$bin/secondmectl chat -m "What have you been up to lately?" --max-tokens 64
$bin/secondmectl chat -m "What is your favourite opera?" --max-tokens 64
$bin/secondmectl stop
wait $daemon
trap - EXIT
echo "demo data left in $demo"
