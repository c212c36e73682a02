# Skyquorum: `make test` is what CI runs.
GO ?= go
PKGS := ./...

.PHONY: test fmt vet unit race soak build bench notice

test: fmt vet unit race

# gofmt must have nothing to say.
fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

# Outside CI, the tests that need socat or radio/interop's Node.js packages
# skip when those are missing; say which (go test hides skips without -v).
notice:
	@$(GO) test -count=1 -v -run '^$$' ./radio ./radio/link ./radio/interop 2>&1 | grep '^notice:' >&2 || true

# Full seed campaigns, without the race detector.
unit: notice
	$(GO) test -count=1 -timeout 30m $(PKGS)

# A tenth of every campaign under the race detector.
race: notice
	$(GO) test -count=1 -race -short -timeout 20m $(PKGS)

# Ten times every campaign; long.
soak:
	SKYQUORUM_SOAK=1 $(GO) test -count=1 -timeout 6h $(PKGS)

build:
	$(GO) build -o bin/ ./cmd/...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 20x $(PKGS)
