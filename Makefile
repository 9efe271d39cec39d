# The two commands of the README: `make demo` and `make test`.
GO ?= go
export GOFLAGS ?= -buildvcs=false

.PHONY: demo test setup unit fuzz conformance build vet

# No echo of the command: the first line on the terminal is the URL to open.
demo:
	@$(GO) run ./cmd/ai-agent demo

build:
	$(GO) build -o bin/ai-agent ./cmd/ai-agent
	$(GO) build -o bin/mcp-conformance-client ./cmd/mcp-conformance-client

# Hygiene: go vet, staticcheck, gofmt and a tidy go.mod (direct
# dependencies not marked indirect). staticcheck comes from the Go module
# proxy at a pinned version, built once into a cached GOBIN.
STATICCHECK_VERSION ?= v0.8.2
TOOLS_BIN ?= $(or $(AI_AGENT_CACHE),$(HOME)/.cache/ai-agent)/bin
STATICCHECK := $(TOOLS_BIN)/staticcheck-$(STATICCHECK_VERSION)
vet: $(STATICCHECK)
	$(GO) vet ./...
	$(STATICCHECK) ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	$(GO) mod tidy -diff

$(STATICCHECK):
	GOBIN=$(TOOLS_BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(TOOLS_BIN)/staticcheck $@

unit:
	$(GO) test -race -count=1 ./...

# Short runs of every parser fuzz target of outside input (the seed corpora
# in each package's testdata/fuzz always run in `unit`), bounded by
# executions: a time bound ends with a spurious "context deadline exceeded"
# now and then. Provider streams are slower per input: fewer executions.
FUZZ_PKGS ?= ./internal/oauthproto/ ./internal/chat/ ./internal/modeltext/ ./internal/agentconfig/ ./internal/mcp/ ./internal/uitools/ ./internal/llm/provider/
fuzz:
	@for p in $(FUZZ_PKGS); do \
		n=40000x; case $$p in *provider*) n=3000x;; esac; \
		for t in $$($(GO) test -list 'Fuzz.*' $$p | grep ^Fuzz); do \
			echo "fuzz $$p $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $$n $$p || exit 1; \
		done; \
	done

# The official MCP conformance suite against our OAuth client (needs npm).
conformance:
	bash .ci/conformance.sh

# What the suites need on a fresh machine: Debian's PostgreSQL and Chromium (the demo page's browser test), and
# kube-apiserver, etcd and helm built from the Go module proxy (cached; a
# cold build takes minutes). Node 22, oidc-provider and the conformance
# suite are installed from npm by the tests and conformance.sh themselves.
setup:
	bash .ci/postgres.sh
	bash .ci/envtest.sh
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test: setup vet unit fuzz conformance
