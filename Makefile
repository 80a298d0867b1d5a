# The two commands a newcomer needs: `make run` (a whole pool on this machine)
# and `make test` (installs what the tests need, then runs them all).

GO ?= go
BIN := bin

.PHONY: run test build deps fuzz bench clean

build:
	$(GO) build -o $(BIN)/ ./plugin/coredns ./controlplane ./monitor

run:
	./scripts/run-local

deps:
	./scripts/install-test-deps

test: deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

# A short native fuzz run of each fuzz target (longer: FUZZTIME=5m make fuzz).
FUZZTIME ?= 20s
fuzz:
	$(GO) test ./record -run '^$$' -fuzz FuzzDecodeServer -fuzztime $(FUZZTIME)
	$(GO) test ./plugin -run '^$$' -fuzz FuzzServeDNS -fuzztime $(FUZZTIME)
	$(GO) test ./controlplane/api -run '^$$' -fuzz FuzzResults -fuzztime $(FUZZTIME)
	$(GO) test ./controlplane/score -run '^$$' -fuzz FuzzStep -fuzztime $(FUZZTIME)
	$(GO) test ./controlplane/assign -run '^$$' -fuzz FuzzPlanConverges -fuzztime $(FUZZTIME)
	$(GO) test ./controlplane/graph -run '^$$' -fuzz FuzzChart -fuzztime $(FUZZTIME)
	$(GO) test ./internal/ntpserver -run '^$$' -fuzz FuzzReply -fuzztime $(FUZZTIME)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./plugin/...

clean:
	rm -rf $(BIN)
