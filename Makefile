# Skyquorum: `make test` is what CI runs.
GO ?= go
PKGS := ./...
# The tests that run drone processes and flights in real time run apart,
# one package at a time, after the others: they share the machine with
# nothing else, as a drone's program does not share its computer.
REALTIME := ./sitl/live ./firmware/e2e ./cmd/groundstation ./cmd/groundstation/operate

.PHONY: test fmt vet unit race soak build bench bench-scale notice drone-arm

test: fmt vet unit race

# gofmt must have nothing to say.
fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

# Outside CI, the tests that need socat, radio/interop's Node.js packages
# or Chromium skip when those are missing; say which (go test hides skips
# without -v).
notice:
	@$(GO) test -count=1 -v -run '^$$' ./radio ./radio/link ./radio/interop ./cmd/groundstation/web ./cmd/groundstation 2>&1 | grep '^notice:' >&2 || true

# Full seed campaigns, without the race detector; then the real-time
# tests alone.
unit: notice
	$(GO) test -count=1 -timeout 30m $$($(GO) list $(PKGS) | grep -v -x -F $(foreach p,$(REALTIME),-e github.com/skyquorum/skyquorum/$(p:./%=%)))
	$(GO) test -count=1 -p 1 -timeout 30m $(REALTIME)

# A tenth of every campaign under the race detector.
race: notice
	$(GO) test -count=1 -race -short -timeout 20m $(PKGS)

# Ten times every campaign; long.
soak:
	SKYQUORUM_SOAK=1 $(GO) test -count=1 -timeout 6h $(PKGS)

build:
	$(GO) build -o bin/ ./cmd/...

# The drone program for companion computers, static, with its version,
# commit and build date stamped (drone version): linux/arm64 (64-bit
# Raspberry Pi OS) in bin/linux-arm64, linux/arm v7 (32-bit) in
# bin/linux-armv7.
DRONE_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
DRONE_LDFLAGS = -s -w -X main.version=$(DRONE_VERSION) \
	-X main.commit=$(shell git rev-parse HEAD 2>/dev/null) \
	-X main.date=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)

drone-arm:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(DRONE_LDFLAGS)" -o bin/linux-arm64/drone ./cmd/drone
	GOOS=linux GOARCH=arm GOARM=7 CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(DRONE_LDFLAGS)" -o bin/linux-armv7/drone ./cmd/drone

# Benchmarks; `make test` runs none. The show at scale (2000 drones over
# 8 networks: minutes a run) has its own target, one run each.
bench:
	$(GO) test -run '^$$' -bench . -skip 'BenchmarkShow' -benchtime 20x $(PKGS)

bench-scale:
	$(GO) test -run '^$$' -bench 'BenchmarkShow' -benchtime 1x -timeout 60m ./sitl/scenario
