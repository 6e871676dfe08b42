# The two commands of the README:
#   make demo   — install, run the pipeline on the embedded defaults over samples/, show the reports
#   make test   — install (system packages too, when run as root), lint, type-check, run every test
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
APT_PACKAGES = dovecot-imapd tesseract-ocr tesseract-ocr-ind isync getmail6 fonts-dejavu-core fonts-liberation

.PHONY: demo test lint system-deps services bench clean

$(BIN)/aduan: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/aduan
	$(BIN)/aduan run -c samples/demo.yaml --until-idle
	$(BIN)/aduan reports list -c samples/demo.yaml

# System packages the tests drive for real (Dovecot, Tesseract, mbsync/getmail for the benches).
system-deps:
	@missing=""; \
	for tool in dovecot tesseract mbsync getmail; do \
	  command -v $$tool >/dev/null 2>&1 || [ -x /usr/sbin/$$tool ] || missing="$$missing $$tool"; \
	done; \
	tesseract --list-langs 2>/dev/null | grep -qx ind || missing="$$missing tesseract-ind"; \
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO=sudo; else SUDO=none; fi; \
	  if [ "$$SUDO" = none ]; then echo "missing:$$missing — install: apt-get install $(APT_PACKAGES)"; \
	  else $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(APT_PACKAGES) >/dev/null; fi; \
	fi

lint: $(BIN)/aduan
	$(BIN)/ruff check ingest normalizers sinks
	$(BIN)/mypy

test: $(BIN)/aduan system-deps lint
	$(BIN)/pytest

bench: $(BIN)/aduan
	$(BIN)/python bench/e2e_store.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
