"""Fixtures for the compatibility suite: a real `switchboard sim` process on a free loopback port,
driven by the official `openai` and `anthropic` Python SDKs."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("SWITCHBOARD_BIN", str(ROOT / ".build" / "debug" / "switchboard"))

# A generous default key, and one limited to 1 request per second on each provider so that the
# SDKs' own retries can be observed against a real 429.
SIM_CONFIG = """
latency: { ttft: 0ms, tokens_per_second: 0 }
keys:
  sk-sim-tight: { window: 1s, openai: { rpm: 1 }, anthropic: { rpm: 1 } }
"""


class Simulator:
    def __init__(self, url, process):
        self.url = url
        self.process = process

    def stats(self):
        with urllib.request.urlopen(f"{self.url}/sim/stats", timeout=5) as response:
            return json.load(response)


def start(command, arguments):
    """Starts `switchboard COMMAND` on a free port; returns the process and the URL its first
    line announces."""
    process = subprocess.Popen(
        [BINARY, command, "--port", "0", "--log-level", "warning", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first_line = process.stdout.readline()
    match = re.search(r"listening on (http://\S+)", first_line)
    if not match:
        process.kill()
        raise RuntimeError(f"switchboard {command} did not start: {first_line!r} {process.stderr.read()}")
    return process, match.group(1)


def stop(process, command, sig):
    """Sends `sig` and expects a clean exit within 15 s; returns what the process logged."""
    process.send_signal(sig)
    try:
        code = process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"switchboard {command} did not stop within 15 s of {sig.name}")
    stderr = process.stderr.read()
    assert code == 0, f"switchboard {command} exited with {code} on {sig.name}: {stderr}"
    return stderr


@pytest.fixture(scope="session")
def sim(tmp_path_factory):
    config = tmp_path_factory.mktemp("sim") / "sim.yaml"
    config.write_text(SIM_CONFIG)
    process, url = start("sim", ["--config", str(config)])
    yield Simulator(url, process)
    stop(process, "sim", signal.SIGINT)


class Timeline:
    """Records when each HTTP exchange of an SDK client happened, through httpx event hooks."""

    def __init__(self):
        self.requests = []
        self.responses = []

    def on_request(self, request):
        self.requests.append(time.monotonic())

    def on_response(self, response):
        self.responses.append((time.monotonic(), response.status_code, dict(response.headers)))

    def hooks(self):
        return {"request": [self.on_request], "response": [self.on_response]}


def long_text(tokens, seed="policy"):
    """About `tokens` tokens under the simulator's four-characters-per-token rule."""
    text = ""
    index = 0
    while len(text) < tokens * 4:
        text += f"{seed} clause {index} says the refund window is thirty days. "
        index += 1
    return text[: tokens * 4]


# The gateway fronting the simulator: routes over both providers, a fast retry policy, a small
# body limit, and generous default user limits (keys below narrow them).
GATEWAY_CONFIG = """
journal: {{ path: {directory}/journal.sqlite, store_bodies: full }}
state: {{ backend: sqlite, sqlite_path: {directory}/state.sqlite }}
providers:
  openai: {{ kind: openai, base_url: "{sim}", api_key: "sk-sim-gateway-openai" }}
  anthropic: {{ kind: anthropic, base_url: "{sim}", api_key: "sk-sim-gateway-anthropic" }}
routes:
  default: {{ targets: [openai/gpt-4o-mini, anthropic/claude-haiku-4-5] }}
  strict: {{ targets: [openai/gpt-4o-mini], validate: {{ on_invalid: fail }} }}
resilience:
  retry: {{ max_attempts: 3, base: 10ms, cap: 50ms }}
limits:
  default_user: {{ rpm: 100000, tpm: 100000000, max_output_tokens: 4096 }}
gateway: {{ max_body: 64KB }}
"""

# Virtual keys by name: the `switchboard keys create` flags of each.
GATEWAY_KEYS = {
    "app": ["--user", "app-user"],
    "backend": ["--user", "backend", "--allow-user-header"],
    "paced": ["--user", "paced-user", "--rpm", "12"],
    "broke": ["--user", "broke-user", "--budget", "0.000001"],
    "small": ["--user", "small-user", "--tpm", "20"],
}


class Gateway:
    def __init__(self, url, process, keys, journal):
        self.url = url
        self.process = process
        self.keys = keys
        self.journal = journal

    def call(self, request_id):
        """The journal's row for a call, as a dict (the gateway commits it before answering)."""
        with sqlite3.connect(self.journal) as db:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT * FROM calls WHERE request_id = ?", (request_id,)).fetchone()
            return dict(row) if row else None


@pytest.fixture(scope="session")
def gateway(sim, tmp_path_factory):
    directory = tmp_path_factory.mktemp("gateway")
    config = directory / "switchboard.yaml"
    config.write_text(GATEWAY_CONFIG.format(directory=directory, sim=sim.url))
    keys = {}
    for name, flags in GATEWAY_KEYS.items():
        made = subprocess.run(
            [BINARY, "keys", "create", "--config", str(config), *flags], capture_output=True, text=True, check=True
        )
        keys[name] = re.search(r"secret: (\S+)", made.stdout).group(1)
    process, url = start("gateway", ["--config", str(config)])
    yield Gateway(url, process, keys, str(directory / "journal.sqlite"))
    stderr = stop(process, "gateway", signal.SIGTERM)
    for secret in ["sk-sim-gateway-openai", "sk-sim-gateway-anthropic", *keys.values()]:
        assert secret not in stderr, "a key reached the gateway's log"
