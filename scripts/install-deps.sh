#!/usr/bin/env bash
# Installs the Debian packages that building, testing and the demo need, when they are missing:
# ncurses and SQLite headers, Redis, tmux (console tests), Python with venv (SDK compatibility
# suite), curl. Uses sudo when not root. Prints what it installs; does nothing when all are present.
set -euo pipefail

packages=(libncurses-dev libsqlite3-dev redis-server tmux python3 python3-venv python3-pip curl)
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if ((${#missing[@]} == 0)); then
    exit 0
fi

echo "switchboard: installing missing system packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "switchboard: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "switchboard: installed ${missing[*]}"
