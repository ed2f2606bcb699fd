# Two entry points (see README): `make demo` and `make test`. Both build the virtualenv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.requirements-installed

CHECKOV_VENV  := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.requirements-installed

.PHONY: demo test scan screenshots lint format docs bench clean

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Cutover needs Python 3.11+ (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .    # the `cutover` command
	@touch $(STAMP)

# checkov pins its own dependencies: it gets a virtualenv of its own.
$(CHECKOV_STAMP): requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	@touch $(CHECKOV_STAMP)

## demo: the main job on the embedded sample estate, no cloud account needed
demo: $(STAMP)
	rm -rf out && mkdir -p out
	@echo "== 1/5 inventory of the sample Azure estate (az CLI and ARM exports, two subscriptions)"
	$(BIN)/python -m migrate inventory --from-export migrate/sample -o out/inventory.json
	@echo "== 2/5 plan of the AWS side, and the reports"
	$(BIN)/python -m migrate plan out/inventory.json -o out/plan.json --prices migrate/sample-prices.json
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

## test: lint, the layering contracts, checkov on both shipped stacks, the whole test suite
test: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	@$(MAKE) --no-print-directory scan
	@# The tests start hundreds of interpreters on this code: compiled once here, not by each
	@# (where PYTHONDONTWRITEBYTECODE is set, none writes what it compiled; ~7 % of the CPU).
	@$(BIN)/python -m compileall -q -x '/\.venv' . > /dev/null
	$(BIN)/python -m pytest -n 4 --dist worksteal

## scan: checkov on both shipped stacks' plans, judged against policy/checkov-skips.yaml
# Offline: no API key (nothing is uploaded), --skip-download (no policies or guidelines
# fetched), CKV_SKIP_PACKAGE_UPDATE_CHECK (no look-up of a newer checkov).
scan: $(STAMP) $(CHECKOV_STAMP)
	@mkdir -p out/scan
	@for s in staging production; do \
	  $(BIN)/python -m preview $$s --terraform-plan out/scan/$$s.tfplan.json > /dev/null 2>&1 \
	    || { echo "scan: python -m preview $$s --terraform-plan failed; run it to see why"; exit 1; }; \
	  env -u BC_API_KEY -u PRISMA_API_URL CKV_SKIP_PACKAGE_UPDATE_CHECK=true \
	    $(CHECKOV_VENV)/bin/checkov -f out/scan/$$s.tfplan.json --framework terraform_plan \
	    --skip-download --soft-fail --quiet -o json > out/scan/$$s.checkov.json || exit 1; \
	  $(BIN)/python -m policy.checkovgate $$s out/scan/$$s.checkov.json || exit 1; \
	done

## docs: write the defaults the READMEs and the example appspec show from their one definition
docs: $(STAMP)
	$(BIN)/python -m stack.docs

## screenshots: after `make demo`, the report and the rehearsal charts as headless Chromium draws
# them 1400 px wide (out/screenshots/*.png), with what a reader would trip on (overlapping labels,
# text under 11.5 px, a page wider than the window); skipped without Chromium. `make test` runs
# the same check on generated pages (tests/rehearsal/test_chart.py, tests/migrate/test_report_browser.py).
screenshots: $(STAMP)
	$(BIN)/python -m tests.chromium out/screenshots out/report.html out/rehearsal-staging.html out/rehearsal-production.html

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
	rm -rf $(VENV) $(CHECKOV_VENV) out .pytest_cache .ruff_cache
