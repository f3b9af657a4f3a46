# Sealant — build, test and run. `make run` and `make test` do all set-up on a fresh machine.
SWIFT      ?= swift
BUILD_FLAGS ?=
PKG_DEPS   := libgit2:libgit2-dev libcrypto:libssl-dev libhs:libvectorscan-dev libpcre2-8:libpcre2-dev zlib:zlib1g-dev
BIN        := .build/release/sealant

.PHONY: deps build release run test clean bench

## deps: install the Debian packages whose pkg-config module is missing (apt-get update once).
deps:
	@missing=""; \
	for pair in $(PKG_DEPS); do \
	  mod=$${pair%%:*}; pkg=$${pair##*:}; \
	  pkg-config --exists $$mod 2>/dev/null || missing="$$missing $$pkg"; \
	done; \
	command -v pkg-config >/dev/null 2>&1 || missing="pkg-config $$missing"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing pkg-config; \
	fi

build: deps
	$(SWIFT) build $(BUILD_FLAGS)

## release: the Swift runtime is linked in (--static-swift-stdlib): the binary runs where no Swift
## toolchain is installed, and starts ~15 ms sooner (no dynamic linking of Foundation), which a
## pre-commit hook pays on every commit.
release: deps
	$(SWIFT) build -c release --static-swift-stdlib --product sealant $(BUILD_FLAGS)

## run: the main job on a built-in default — scan this repository.
run: release
	$(BIN) scan .

test: deps
	$(SWIFT) test $(BUILD_FLAGS)

bench: release
	Benchmarks/run-all.sh

clean:
	rm -rf .build
