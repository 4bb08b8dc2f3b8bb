#!/usr/bin/env bash
# The main job, until the full demo lands: builds and starts the provider simulator on port 8089
# (PORT=… to change), printing how to call it with curl and the official SDKs. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
swift build --product switchboard
exec "$(swift build --show-bin-path)/switchboard" sim --port "${PORT:-8089}" "$@"
