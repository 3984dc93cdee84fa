# Fetchgate — `make run` to serve, `make test` to prove it.
SHELL := /bin/bash
SWIFT ?= swift
RUN_DIR ?= run
STORE_PORT ?= 8081
MEDIA_PORT ?= 8080
APT_PACKAGES := nginx libfcgi-dev libsqlite3-dev libpq-dev libssl-dev libcurl4-openssl-dev ffmpeg wrk curl jq python3-venv python3-pip systemd
# Only the tests need these: a PostgreSQL server (throwaway clusters), Chromium and its driver (pages),
# iproute2 (a network namespace with only loopback up for schemathesis).
APT_TEST_PACKAGES := postgresql chromium chromium-driver iproute2
# Python tools live in a project-local virtualenv: yt-dlp (pinned: Debian's copy is years old,
# with known CVEs) for the worker, and the test tools. Nothing goes into the system Python.
VENV := .venv
PY := $(VENV)/bin/python
YTDLP_VERSION := 2026.10.26
PY_PACKAGES := yt-dlp==$(YTDLP_VERSION) pytest requests aiosmtpd standardwebhooks moto[server] botocore azure-storage-blob cryptography \
  selenium==4.51.0 schemathesis==4.32.5 psycopg[binary]==3.3.9
BIN := .build/release

.PHONY: deps test-deps build run test unit unit-postgres integration integration-sqlite integration-postgres reliability fuzz fuzz-short bench clean

# The Debian packages of $(1) that are missing, installed; nothing when all are there.
apt_install = missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# Installs whatever is missing (Debian packages, then PyPI), nothing when all is there.
deps:
	@$(call apt_install,$(APT_PACKAGES))
	@[ -x $(PY) ] || python3 -m venv $(VENV)
	@$(PY) -c "import pytest, requests, aiosmtpd, standardwebhooks, moto.server, botocore, azure.storage.blob, cryptography, selenium, schemathesis, psycopg" 2>/dev/null && [ "$$($(VENV)/bin/yt-dlp --version 2>/dev/null)" = $(YTDLP_VERSION) ] \
	  || $(PY) -m pip install -q --disable-pip-version-check $(PY_PACKAGES)

build: deps
	$(SWIFT) build -c release

run: build
	$(BIN)/fetchgate serve --run-dir $(RUN_DIR) --store-port $(STORE_PORT) --media-port $(MEDIA_PORT)

test: test-deps build unit unit-postgres fuzz-short integration

test-deps: deps
	@$(call apt_install,$(APT_TEST_PACKAGES))

# Unit tests: fast, and need neither ffmpeg nor sockets (the …IntegrationTests targets are skipped).
unit: deps
	$(SWIFT) test --skip IntegrationTests

# The domain suite again on PostgreSQL: a throwaway cluster (tests/support/pgcluster.sh) on a free
# loopback port, one fresh schema per test, stopped and removed afterwards whatever the result.
unit-postgres: test-deps
	@dir=$$(mktemp -d /tmp/fetchgate-pg.XXXXXX); \
	port=$$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'); \
	url=$$(tests/support/pgcluster.sh start $$dir $$port) || { rm -rf $$dir; exit 1; }; \
	FETCHGATE_TEST_DATABASE_URL=$$url $(SWIFT) test --filter DomainTests --skip IntegrationTests; status=$$?; \
	tests/support/pgcluster.sh stop $$dir; rm -rf $$dir; exit $$status

# Swift tests that run ffmpeg/ffprobe or loopback servers, then the HTTP suite through nginx twice at
# once: every stack on SQLite and local disk, and every stack on PostgreSQL (a database each in one
# throwaway cluster) with our own files in an S3 bucket (one moto server); see
# tests/integration/support/backends.py. The two runs mostly wait on servers, so together they take
# little longer than one; each one's lines are prefixed with its backend.
integration: build test-deps
	$(SWIFT) test --filter IntegrationTests
	@tests/integration/run-backends.sh $(CURDIR)/$(BIN) $(PY) sqlite postgres-s3

# The HTTP suite on one backend only.
integration-sqlite integration-postgres: build test-deps
	tests/integration/run-backends.sh $(CURDIR)/$(BIN) $(PY) $(if $(findstring postgres,$@),postgres-s3,sqlite)

# The reliability suite in full (RELIABILITY.md): mixed load, kill -9 under load, races (with the two
# 64-click tests of tests/integration), disk full on a tmpfs; at most 15 min (SIGINT at 15, so every
# server is stopped and the tmpfs unmounted). Its figures are printed at the end and appended to
# $(RUN_DIR)/reliability.jsonl. The short version runs in `make integration` (SQLite leg).
RELIABILITY_RACES := tests/integration/test_delivery.py::test_64_concurrent_requests_on_3_downloads_left \
  tests/integration/test_nodes.py::test_64_clicks_on_a_link_with_3_downloads_split_across_both_nodes_serve_3
reliability: build test-deps
	@mkdir -p $(RUN_DIR)
	FETCHGATE_RELIABILITY=full FETCHGATE_BIN=$(CURDIR)/$(BIN) FETCHGATE_RELIABILITY_REPORT=$(CURDIR)/$(RUN_DIR)/reliability.jsonl \
	  timeout --signal=INT --kill-after=60 900 $(PY) -u -m pytest -q -p no:cacheprovider tests/reliability $(RELIABILITY_RACES)

fuzz-short: deps
	cd Fuzz && ./run.sh all 7

# Every libFuzzer target for FUZZ_RUNS executions (libFuzzer -runs), inputs at the parsers' real
# limits added; RELIABILITY.md gives each target's exec/s and so what 10 M take on this machine.
FUZZ_RUNS ?= 10000000
fuzz: deps
	cd Fuzz && FUZZ_LIMITS=1 ./run.sh all runs=$(FUZZ_RUNS)

bench: build
	FETCHGATE_BIN=$(CURDIR)/$(BIN) bench/run.sh

clean:
	rm -rf .build Fuzz/.build $(RUN_DIR) $(VENV)
