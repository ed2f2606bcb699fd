# Two entry points (see README): `make demo` and `make test`. Both build the virtualenv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.requirements-installed

.PHONY: demo test lint format bench clean

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Cutover needs Python 3.11+ (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .    # the `cutover` command
	@touch $(STAMP)

## demo: the main job on the embedded sample estate, no cloud account needed
demo: $(STAMP)
	rm -rf out && mkdir -p out
	@echo "== 1/5 inventory of the sample Azure estate (az CLI and ARM exports, two subscriptions)"
	$(BIN)/python -m migrate inventory --from-export migrate/sample -o out/inventory.json
	@echo "== 2/5 plan of the AWS side, and the reports"
	$(BIN)/python -m migrate plan out/inventory.json -o out/plan.json
	for f in md html csv json; do $(BIN)/python -m migrate report out/plan.json --format $$f -o out/report.$$f || exit 1; done
	@echo "== 3/5 stack config for the web workload, merged into copies of the shipped stack files"
	cp Pulumi.staging.yaml Pulumi.production.yaml out/
	$(BIN)/python -m migrate stack-config out/plan.json --workload web --stack staging -o out/Pulumi.staging.yaml
	$(BIN)/python -m migrate stack-config out/plan.json --workload web --stack production -o out/Pulumi.production.yaml
	@echo "== 4/5 offline preview of the planned stacks, with the policy pack's rules"
	$(BIN)/python -m preview staging --config out/Pulumi.staging.yaml --check
	$(BIN)/python -m preview production --config out/Pulumi.production.yaml --check
	@echo "== 5/5 rehearsal of a deployment to each planned stack, with the real hooks"
	$(BIN)/python -m rehearsal staging --config out/Pulumi.staging.yaml
	$(BIN)/python -m rehearsal production --config out/Pulumi.production.yaml
	@echo
	@echo "== done. Open:"
	@echo "   out/report.html                   the migration report (blockers first)"
	@echo "   out/Pulumi.production.yaml        the stack config written from the plan"
	@echo "   out/rehearsal-production.html     the rehearsal's verdict and chart (staging too)"

## test: lint, the layering contracts and the whole test suite
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: every benchmark under bench/ (prints numbers; not part of `make test`)
bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
