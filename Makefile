# Fetchgate — `make run` to serve, `make test` to prove it.
SHELL := /bin/bash
SWIFT ?= swift
RUN_DIR ?= run
STORE_PORT ?= 8081
MEDIA_PORT ?= 8080
APT_PACKAGES := nginx libfcgi-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev ffmpeg wrk curl python3-pip systemd
PY_PACKAGES := pytest requests aiosmtpd
BIN := .build/release

.PHONY: deps build run test unit integration fuzz fuzz-short bench clean

# Installs whatever is missing (Debian packages, then PyPI), nothing when all is there.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	@python3 -c "import pytest, requests, aiosmtpd" 2>/dev/null || python3 -m pip install -q $(PY_PACKAGES) || python3 -m pip install -q --break-system-packages $(PY_PACKAGES)

build: deps
	$(SWIFT) build -c release

run: build
	$(BIN)/fetchgate serve --run-dir $(RUN_DIR) --store-port $(STORE_PORT) --media-port $(MEDIA_PORT)

test: build unit fuzz-short integration

# Unit tests: fast, and need neither ffmpeg nor sockets (the …IntegrationTests targets are skipped).
unit: deps
	$(SWIFT) test --skip IntegrationTests

# Swift tests that run ffmpeg/ffprobe or loopback servers, then the HTTP suite through nginx.
integration: build
	$(SWIFT) test --filter IntegrationTests
	FETCHGATE_BIN=$(CURDIR)/$(BIN) python3 -m pytest -q tests/integration

fuzz-short: deps
	cd Fuzz && ./run.sh all 20

fuzz: deps
	cd Fuzz && FUZZ_LIMITS=1 ./run.sh all 300

bench: build
	FETCHGATE_BIN=$(CURDIR)/$(BIN) bench/run.sh

clean:
	rm -rf .build Fuzz/.build $(RUN_DIR)
