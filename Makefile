# Lethe. The two set-up commands are `make run` and `make test`.
export CGO_ENABLED := 0
GO ?= go

.PHONY: run test bench lint build clean

## run: start Lethe on the embedded SQLite store with the seeded demo application
run:
	$(GO) run ./cmd/lethe serve --demo

## test: every test, against the real Postgres, MariaDB and Redis on 127.0.0.1
test: lint
	$(GO) test -count=1 -timeout 20m ./...

## bench: speed and memory, as ratios against a raw-SQL (or raw deleteMany) baseline run alongside
bench:
	bash deploy/ferretdb/start.sh
	$(GO) run ./cmd/lethebench

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## build: a static binary at bin/lethe
build:
	$(GO) build -trimpath -o bin/lethe ./cmd/lethe

clean:
	rm -rf bin .lethe
