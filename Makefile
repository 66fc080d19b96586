# Shortcuts for the commands in README.md and bench/README.md.
.PHONY: start test bench bench-smoke

start:        ## AgentTrace on http://127.0.0.1:8000 with the embedded defaults
	scripts/start.sh

test:         ## the whole test suite, as CI runs it
	scripts/test.sh

bench:        ## every benchmark, one at a time (~15 min); rewrites docs/benchmarks.md
	scripts/bootstrap.sh dev
	.venv/bin/python -m devservices fetch
	scripts/build-dashboard.sh
	.venv/bin/python -m bench.all

bench-smoke:  ## every benchmark at tiny sizes, writing nothing (CI runs these in pytest)
	scripts/bootstrap.sh dev
	.venv/bin/python -m devservices fetch
	scripts/build-dashboard.sh
	XDG_RUNTIME_DIR=$${XDG_RUNTIME_DIR:-/tmp} .venv/bin/python -m pytest tests/bench -q
