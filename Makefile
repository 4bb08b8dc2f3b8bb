# Switchboard. `make demo` runs the main job, `make test` runs every test (the reliability suite
# included), `make reliability` the fault suite alone, `make bench` every benchmark (release
# build); each installs missing system packages first (apt: libncurses-dev libsqlite3-dev
# redis-server tmux python3-venv …).

.PHONY: demo test reliability bench build sim errors format clean

demo:
	scripts/demo.sh $(ARGS)

test:
	scripts/test.sh

reliability:
	scripts/reliability.sh $(ARGS)

bench:
	scripts/bench.sh $(ARGS)

build:
	scripts/install-deps.sh
	swift build

sim: build
	.build/debug/switchboard sim

errors: build
	.build/debug/switchboard errors --markdown

format:
	swift format format --parallel --recursive --in-place Sources Tests Package.swift

clean:
	rm -rf .build .venv
