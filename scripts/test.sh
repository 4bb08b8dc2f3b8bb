#!/usr/bin/env bash
# Runs every test: installs what is missing, builds (debug), runs the Swift suites, then the
# Python compatibility suite (official openai and anthropic SDKs against the real binary).
# Fails when any test fails or when a suite ran no tests.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== build (debug, with tests)"
swift build --build-tests

mkdir -p .build
echo "== Swift tests"
# The rate-limit storm (1,000 calls in real time) runs alone afterwards, so its load cannot slow
# the other suites' loopback exchanges past their timeouts.
swift test --skip-build --skip RateLimitStormTests 2>&1 | tee .build/swift-test.log
swift_count=$(grep -oE "Test run with [0-9]+ tests" .build/swift-test.log | tail -1 | grep -oE "[0-9]+" || echo 0)
echo "== Swift tests: the rate-limit storm"
swift test --skip-build --filter RateLimitStormTests 2>&1 | tee .build/swift-storm.log
storm_count=$(grep -oE "Test run with [0-9]+ tests" .build/swift-storm.log | tail -1 | grep -oE "[0-9]+" || echo 0)
if [ "$storm_count" -eq 0 ]; then
    echo "switchboard: the rate-limit storm ran no tests" >&2
    exit 1
fi
swift_count=$((swift_count + storm_count))

echo "== Python compatibility suite (official SDKs)"
python=$(scripts/venv.sh)
SWITCHBOARD_BIN="$(swift build --show-bin-path)/switchboard" "$python" -m pytest Tests/compat -q 2>&1 | tee .build/pytest.log
python_count=$(grep -oE "[0-9]+ passed" .build/pytest.log | tail -1 | grep -oE "[0-9]+" || echo 0)

echo "TOTAL: swift ${swift_count} tests passed, python ${python_count} tests passed"
if [ "$swift_count" -eq 0 ] || [ "$python_count" -eq 0 ]; then
    echo "switchboard: a suite ran no tests" >&2
    exit 1
fi
