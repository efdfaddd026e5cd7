# sysmsg: make check is the main job, make test the test suite.
GO ?= go
SHELL := bash
STATICCHECK ?= staticcheck

.PHONY: check test prop bench lint spin traces screenshot capture

# check: the main job. The exhaustive check of every built-in workload under
# every policy at caps 2, 1, 3 and unlimited, as tables, with the cap-2
# counterexamples printed, then of the incident gallery at caps 1 to 4; it
# fails naming any cell whose verdict differs from model/testdata/verdicts.txt
# or model/testdata/incidents.txt.
check: bin/sysmsg
	bin/sysmsg sweep --expect model/testdata/verdicts.txt --show 2
	@echo
	@echo "The incident gallery: public hangs and their fixes, under every policy at caps 1 to 4."
	bin/sysmsg sweep --workloads envoy-listener,zio-cancel,zio-dropped-cancel,glommio-queued,tokio-uring-overflow,tokio-uring-getevents,node-sass-pool,ring-of-one --caps 1,2,3,4 --expect model/testdata/incidents.txt --show none
	@echo
	@echo "The fixes with a reserved slot, at caps 2 to 4 (a reserve of 1 needs an ordinary slot beside it)."
	bin/sysmsg sweep --workloads zio-reserved-cancel,node-sass-reserved,ring-of-one-reserved --caps 2,3,4 --expect model/testdata/incidents.txt --show none
	@echo
	@echo "The submission ring: staged calls submitted only on a full ring, or before parking, at caps 1 to 4 and with no cap."
	bin/sysmsg sweep --workloads glommio-staged,glommio-before-park,ring-of-one-staged,ring-of-one-flushed --caps 1,2,3,4,unlimited --expect model/testdata/incidents.txt --show none
	@echo
	@echo "The seed's web server, larger: 3 connections x 3 requests at cap 2."
	bin/sysmsg check --conns 3 --requests 3 --policy poll --cap 2
	@bin/sysmsg check --conns 3 --requests 3 --policy block --cap 2 > bin/block-3x3.txt; code=$$?; \
	  head -1 bin/block-3x3.txt; \
	  if [ $$code -eq 1 ]; then echo "  (exit 1: the counterexample, as expected)"; \
	  else echo "  exit $$code, want 1: a deadlock under block"; exit 1; fi

bin/sysmsg: FORCE
	$(GO) build -o bin/sysmsg ./cmd/sysmsg

.PHONY: FORCE

# test: the whole suite; the seeded implementation bugs (build tag
# sysmsg_mutant), each of which the properties must catch; and the race
# detector (which needs cgo and a C compiler: apt-get install gcc) over the
# concurrent packages in their quick form. The HTTP load test needs wrk (apt-get install wrk),
# the trace page's browser test chromium (apt-get install chromium), and the
# test that Wireshark reads the server's recordings tshark (apt-get install
# tshark); without them those tests skip, and this target says so.
test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -tags sysmsg_mutant ./properties/ ./impl/...
	@command -v wrk >/dev/null || echo "make test: wrk is not installed, so impl/httpd's TestWrkPipelining was skipped (apt-get install wrk)"
	@command -v chromium >/dev/null || echo "make test: chromium is not installed, so traces' TestPageInBrowser was skipped (apt-get install chromium)"
	@command -v tshark >/dev/null || echo "make test: tshark is not installed, so the test that tshark reads a recording was skipped (apt-get install tshark)"
	$(GO) test -race -short -count=1 ./check ./impl/... ./properties/

# prop: the long property runs. The differential test of check/ against its
# naive reference on 20,000 random models, the seeded engine bugs over more
# seeds, the port against its spec on 100,000 operation sequences, the
# implementation against the model step by step on 5,000 generated
# workloads (ten rounds of 500), then the model's fuzzers (any accepted
# workload explored under every policy with the model's contract checked on
# every state; the cap adds no deadlock under poll), the trace reader's (and
# every view of what it accepts) and the capture reader's.
prop:
	$(GO) test ./check -count=1 -run 'TestEngineAgreesWithReference|TestReferenceCatchesSeededBugs' -rapid.checks=20000
	$(GO) test ./properties -count=1 -run 'TestPortMatchesSpec' -rapid.checks=100000
	$(GO) test ./properties -count=1 -run 'TestImplementationFollowsTheModel' -rapid.checks=500
	$(GO) test ./model -run '^$$' -fuzz FuzzModel -fuzztime 60s
	$(GO) test ./model/workload -run '^$$' -fuzz FuzzParse -fuzztime 30s
	$(GO) test ./traces -run '^$$' -fuzz FuzzRead -fuzztime 30s
	$(GO) test ./capture -run '^$$' -fuzz FuzzRead -fuzztime 30s

# bench: the figures of docs/results.md, three runs each (quote medians):
# the explorer at 10^6 and 10^7 states; the whole check of the web server
# at 3x3, and its safety, deadlock and livelock passes at 4x3 with and
# without the symmetry reduction; the port's send and reap; one call
# through the scheduler; bytes per message at 100,000 in flight; the HTTP
# server at cap 2 against cap 1024; porcupine's check of the port's
# histories of 1,000 to 50,000 operations, and the port against its spec.
bench:
	$(GO) test ./check -run '^$$' -bench 'Explore' -benchtime 1x -count 3
	$(GO) test ./model -run '^$$' -bench 'CheckWebServer$$' -benchtime 5x -count 3
	$(GO) test ./model -run '^$$' -bench 'CheckWebServerSymmetry' -benchtime 1x -count 3
	$(GO) test ./model -run '^$$' -bench 'CheckWebServerReductions' -benchtime 1x -count 3
	$(GO) test ./impl/port -run '^$$' -bench SendReap -count 3
	$(GO) test ./impl/sched -run '^$$' -bench Syscall -count 3
	$(GO) test ./impl/port ./impl/kernel/host -run '^$$' -bench InFlight100k -benchtime 1x -count 3
	$(GO) test ./impl/httpd -run '^$$' -bench Pipelined -benchtime 200000x -count 3
	$(GO) test ./properties -run '^$$' -bench 'Linearizability|PortMatchesSpec' -benchtime 5x -count 3
	$(GO) test ./traces -run '^$$' -bench Page -count 3

# traces: write the stored counterexamples of traces/testdata anew (the
# web server under block and stop at cap 2, the pipe triangle, a livelock,
# and the fair non-progress cycle of the seeded model bug one-retry-actor,
# which package model writes); the suite fails when a check finds another
# trace than the stored one. Review the change with git diff.
traces:
	$(GO) test ./traces -count=1 -run TestStoredTracesDoNotDrift -rewrite
	$(GO) test ./model -count=1 -run TestStoredFairLassoDoesNotDrift -rewrite

# screenshot: docs/trace-page.png anew, the trace page of the seed's deadlock
# (traces/testdata/webserver-block-cap2.json) as headless Chromium draws it
# (needs chromium: apt-get install chromium). Review it before committing.
screenshot:
	$(GO) test ./traces -count=1 -run 'TestPageInBrowser/deadlock' -screenshot ../docs/trace-page.png

# spin: SPIN and sysmsg side by side on the web server (needs spin and gcc:
# apt-get install spin gcc), and the sizes only the symmetry reduction
# finishes (5x3, 6x3). About ten minutes. Not part of the
# test suite.
spin:
	SYM_ONLY="5x3 6x3" bash bench/spin/compare.sh

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

# capture: the capture round trip of docs/capture.md with its figures:
# sysmsg serve --record under wrk's pipelining load, tshark on the
# recording, workload from-pcap (time, peak memory), check under poll and
# block at cap 2, replay to a fresh server (needs wrk; tshark optional).
capture:
	$(GO) build -o bin/sysmsg ./cmd/sysmsg
	bash bench/capture.sh
