# sysmsg: make check is the main job, make test the test suite.
GO ?= go
STATICCHECK ?= staticcheck

.PHONY: check test bench lint

# check: the main job. The exhaustive check of every built-in workload under
# every policy at caps 2, 1, 3 and unlimited, as tables, with the cap-2
# counterexamples printed; it fails naming any cell whose verdict differs
# from model/testdata/verdicts.txt.
check:
	$(GO) run ./cmd/sysmsg sweep --expect model/testdata/verdicts.txt --show 2

# test: the whole suite, quick form.
test:
	$(GO) vet ./...
	$(GO) test -short -count=1 ./...

# bench: the explorer's figures at 10^6 and 10^7 states, three runs each
# (compare with benchstat; quote medians).
bench:
	$(GO) test ./check -run '^$$' -bench 'Explore' -benchtime 1x -count 3

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
