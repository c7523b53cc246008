# Every target sets itself up: the first use creates .venv and installs the pinned dependencies.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements.lock | cksum | cut -d' ' -f1)
# jsii warns at length on every start otherwise; we point it at Node 24 from PyPI anyway.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

.PHONY: run test test-fast synth layer deploy bench report lint clean venv

venv: $(STAMP)

$(STAMP): requirements.txt requirements.lock
	@echo "Setting up $(VENV): installing the pinned dependencies (first run, or after requirements change; usually 2-4 minutes)..."
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@start=$$(date +%s); $(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -c requirements.lock \
	  && echo "Dependencies installed in $$(( $$(date +%s) - start )) s."
	@# The shared layer package and the repo root are importable as-is (no build step).
	@echo "$(CURDIR)/layers" > $$($(PY) -c 'import sysconfig;print(sysconfig.get_paths()["purelib"])')/ccaas-dev.pth
	@echo "$(CURDIR)" >> $$($(PY) -c 'import sysconfig;print(sysconfig.get_paths()["purelib"])')/ccaas-dev.pth
	@rm -f $(VENV)/.installed-*; touch $@

run: venv  ## the whole backend locally on embedded moto (SIMULATE=0 to only serve the API)
	$(PY) -m local $(if $(PORT),--port $(PORT)) $(if $(filter 0,$(SIMULATE)),--no-simulate)

# Three workers on two cores: a third of the suite waits on the wall clock (simulated agents, reservation timeouts,
# stream windows, browsers), and a third worker fills those waits; measured back to back (session 23), 3-8 % less
# test time than two in each of three pairs. tests/conftest.py hands out the work units.
test: venv  ## every test tier, offline
	$(PY) -m pytest -n 3 --dist loadgroup tests

test-fast: venv
	$(PY) -m pytest -m "not slow" tests

synth: venv  ## cdk.out/ with the CloudFormation template, checked by cdk-nag and cfn-lint
	$(PY) -m infra.app
	@# the CDK keeps every earlier synth's assets (~27 MB a layer copy): only what the manifest names stays
	@$(PY) -c 'from local.synth import prune_assets; n = prune_assets(); n and print(f"cdk.out: {n} stale assets removed")'
	$(VENV)/bin/cfn-lint --ignore-checks W3005 -- cdk.out/*.template.json

layer: venv  ## the shared layer's third-party wheels for the Lambda platform, cached in .build/ (synth does it too)
	$(PY) -m infra.layer_build

deploy: synth  ## needs AWS credentials and the aws-cdk CLI (npx)
	npx --yes aws-cdk@2 deploy --app cdk.out --all
	$(PY) -m infra.publish_wallboard  # wallboard/ -> the stack's bucket, CloudFront invalidated

bench: venv  ## benchmarks printed as tables and ratios
	$(PY) -m bench

report: venv  ## a simulated day as one HTML report (day-report.html): SL/ASA/abandonment vs Erlang, agent-centric vs FIFO
	$(PY) -m local.day_report --out day-report.html

lint: venv synth
	$(PY) -m compileall -q infra functions layers local bench tests

clean:
	rm -rf $(VENV) cdk.out .build
