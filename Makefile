# progressive.delivery — `make test` builds its own virtualenv from pinned requirements,
# installs the Debian packages the real-server tests need, and runs every test tier.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
BUILD := .build
COLLECTIONS := $(BUILD)/collections
# outside the checkout: inside it, git would call the copies ignored and ansible-test would skip them
SANITY_DIR ?= /tmp/progressive-delivery-sanity
SANITY_ROOT := $(SANITY_DIR)/ansible_collections
PYVER = $(shell $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(COLLECTIONS)

.PHONY: help demo demo-mirror demo-fleet molecule venv system-deps collection test test-unit test-integration sanity lint docs bench clean

help:
	@echo "make demo         the sandbox: a good release promoted, a bad one rolled back (real Prometheus, nginx)"
	@echo "make demo-mirror  the demo, then the bad build again as a dark canary: rolled back on mirrored copies, 0 failed user requests"
	@echo "make demo-fleet   the sandbox fleet: a release in waves to 3 nginx targets, a bad one stopped in wave 1"
	@echo "make test         every test tier: unit, integration (real Prometheus), sanity, lint"
	@echo "make test-unit    pure-logic tests"
	@echo "make test-integration  real Prometheus and demo apps on 127.0.0.1"
	@echo "make molecule     one molecule scenario a role (converge, idempotence, verify)"
	@echo "make sanity       ansible-test sanity on the collection"
	@echo "make lint         ansible-lint (production profile)"
	@echo "make bench        benchmarks, printed as ratios (analysis overhead, fleet abort, rollback drills, fleet release, expression fuzz, detection)"

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-test.txt
	touch $@

system-deps:
	bash tests/support/install-system-deps.sh

# The repository root is the collection; Ansible finds it as ansible_collections/progressive/delivery.
collection:
	@mkdir -p $(COLLECTIONS)/ansible_collections/progressive
	@ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/progressive/delivery

demo: venv system-deps collection
	$(PY) sandbox/run.py

demo-mirror: venv system-deps collection
	$(PY) sandbox/run.py --mirror

demo-fleet: venv system-deps collection
	$(PY) sandbox/fleet.py

test: venv system-deps collection test-unit test-integration molecule sanity lint docs

test-unit: venv collection
	$(PY) -m pytest tests/unit -q

# the integration tests mostly wait (for scrapes, pauses, nginx reloads): run files in parallel, each file
# on one worker so its module fixtures start once; INTEGRATION_WORKERS=1 runs them one after another
INTEGRATION_WORKERS ?= 3
test-integration: venv system-deps collection
	$(PY) -m pytest tests/integration -q -n $(INTEGRATION_WORKERS) --dist loadfile

docs: venv collection
	@for m in plugins/modules/*.py; do \
	  name=$$(basename $$m .py); \
	  $(BIN)/ansible-doc progressive.delivery.$$name > /dev/null || exit 1; \
	  echo "ansible-doc progressive.delivery.$$name: ok"; \
	done

# ansible-test wants the collection under ansible_collections/NS/NAME and its dependencies
# beside it; it also downloads a pip bootstrap script from outside the package registries,
# so an offline stand-in is put in its cache when none is there.
# one scenario a role: converge, converge again with no change, verify; on the cluster in MOLECULE_KUBECONFIG,
# else on the local Kubernetes API test server
molecule: venv collection
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/molecule test --all

sanity: venv
	rm -rf $(SANITY_DIR)
	mkdir -p $(SANITY_ROOT)/progressive/delivery $(SANITY_ROOT)/kubernetes
	git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} $(SANITY_ROOT)/progressive/delivery/
	kc=$$($(PY) -c 'import ansible_collections.kubernetes.core as c; print(list(c.__path__)[0])') && ln -sfn $$kc $(SANITY_ROOT)/kubernetes/core
	mkdir -p $(HOME)/.ansible/test/cache
	test -f $(HOME)/.ansible/test/cache/get_pip_24_2.py || cp tests/sanity/get_pip_offline.py $(HOME)/.ansible/test/cache/get_pip_24_2.py
	cd $(SANITY_ROOT)/progressive/delivery && $(CURDIR)/$(BIN)/ansible-test sanity --venv --python $(PYVER) --color no

lint: venv collection
	$(BIN)/ansible-lint --profile production

bench: venv system-deps collection
	$(PY) bench/analysis_overhead.py
	$(PY) bench/fleet_abort.py
	$(PY) bench/rollback.py
	$(PY) bench/fleet_release.py
	$(PY) bench/expr_fuzz.py --count 50000
	$(PY) bench/detection.py

clean:
	rm -rf $(BUILD) $(SANITY_DIR) tests/output
