#!/usr/bin/env bash
# Creates .venv with the pinned official SDKs (Tests/compat/requirements.txt), or refreshes it when
# the requirements change. Prints the venv's python.
set -euo pipefail
cd "$(dirname "$0")/.."

requirements=Tests/compat/requirements.txt
stamp=.venv/.requirements.sha256
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "switchboard: creating .venv with the pinned openai and anthropic SDKs" >&2
    rm -rf .venv
    python3 -m venv .venv
    .venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements" >&2
    echo "$wanted" > "$stamp"
fi
echo "$PWD/.venv/bin/python"
