# sysmsg: make check is the main job, make test the test suite.
GO ?= go
STATICCHECK ?= staticcheck

.PHONY: check test bench lint

# check: the explorer's known answers on its toy models (the syscall model's
# exhaustive checks join here when model/ lands).
check:
	$(GO) test ./check -run 'TestToys|Example' -count=1 -v

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
