#!/usr/bin/env bash
# The capture round trip of docs/capture.md, with its figures: sysmsg serve
# records its own traffic under wrk's pipelining load (impl/httpd's
# pipeline.lua); tshark reads the recording (where installed); from-pcap
# turns it into a workload, timed, with its peak memory; check verifies the
# workload under poll at cap 2 and finds its deadlock under block; replay
# sends the capture's requests to a fresh server. Needs wrk. Run it from
# make capture. PORT, SECONDS_OF_LOAD and DEPTH change the port, the
# load's length and how many requests wrk pipelines at once (2: a client
# that sends two, waits for both responses, then sends two more, the
# seed's pattern; the workload keeps 4 requests of 2 connections).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/sysmsg
port=${PORT:-18090}
secs=${SECONDS_OF_LOAD:-3}
depth=${DEPTH:-2}
dir=$(mktemp -d)
srv=
cleanup() {
  if [ -n "$srv" ]; then kill "$srv" 2>/dev/null || true; wait "$srv" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
command -v wrk >/dev/null || { echo "capture.sh: needs wrk (apt-get install wrk)" >&2; exit 2; }

echo "== sysmsg serve --record, under wrk -c8 pipelining $depth deep for ${secs}s"
$bin serve --addr 127.0.0.1:$port --cap 2 --policy poll --record "$dir/cap.pcapng" --record-max 512MiB >"$dir/serve.log" 2>&1 &
srv=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
wrk -t2 -c8 -d${secs}s --timeout 5s -s impl/httpd/testdata/pipeline.lua http://127.0.0.1:$port/ -- $depth | sed -n '/Requests\/sec/p;/requests in/p'
kill -INT "$srv"; wait "$srv" || true; srv=
tail -1 "$dir/serve.log"
ls -l "$dir/cap.pcapng" | awk '{print "capture: " $5 " bytes"}'

if command -v tshark >/dev/null; then
  echo "== tshark"
  tshark -r "$dir/cap.pcapng" -T fields -e frame.number -e http.request.method 2>/dev/null |
    awk -F'\t' '{ n++; if ($2 != "") r += split($2, a, ",") } END { print "packets: " n ", HTTP requests: " r }'
  echo "TCP problems tshark reports (expert notes and above, but the connection closes):"
  tshark -r "$dir/cap.pcapng" -q -z expert,note 2>/dev/null | grep -v -i "connection clos\|^$\|===\|Errors (0)\|Warnings (0)\|Notes (\|Group\|Frequency" | head -5 || true
fi

echo "== sysmsg workload from-pcap (time, peak memory)"
for i in 1 2 3; do
  /usr/bin/time -f "%e s, peak %M KB" $bin workload from-pcap "$dir/cap.pcapng" --port $port -o "$dir/cap.wl" 2>&1 | tail -1
done
$bin workload from-pcap "$dir/cap.pcapng" --port $port --json | python3 -c 'import json,sys; s=json.load(sys.stdin); print("packets:", s["packets"], " connections seen:", s["connectionsSeen"], " kept:", len(s["connections"]), " depths:", [c["depths"] for c in s["connections"]])'
sed -n '1,12p' "$dir/cap.wl"

echo "== sysmsg check"
$bin check --workload "$dir/cap.wl" --policy poll --cap 2 | sed -n '1p;/states,/p' || true
$bin check --workload "$dir/cap.wl" --policy block --cap 2 | sed -n '1p;/in short/p;/states,/p' || true

echo "== sysmsg replay, to a fresh server"
$bin serve --addr 127.0.0.1:$port --cap 2 --policy poll >"$dir/serve2.log" 2>&1 &
srv=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
$bin replay "$dir/cap.pcapng" --port $port --addr 127.0.0.1:$port --max-requests 2000 | sed -n '1p;$p'
