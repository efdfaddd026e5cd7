#!/usr/bin/env bash
# SPIN and sysmsg side by side on the seed's web server (window 1, cap 2),
# under block (a deadlock to find) and poll (a proof to finish): states,
# seconds and memory to the verdict, for sysmsg without and with its
# symmetry reduction (--symmetry), with it and the partial-order reduction
# (--symmetry --partial-order), and with fingerprints (--fingerprint). Needs spin and gcc (Debian: apt-get
# install spin gcc). Run from the repository: bash bench/spin/compare.sh
#
# The two do not count the same states: SPIN stores each process's program
# counter and loop counters, and reduces by partial orders; sysmsg stores
# the system's state once per distinct configuration. SPIN here checks
# safety and deadlock (invalid end states); sysmsg also runs its livelock
# pass. SPIN's seconds and MiB are pan's own (search time; memory including
# its 2^24-slot hash table); sysmsg's are the whole command's (wall clock of
# the search; peak resident memory).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v spin >/dev/null || { echo "compare.sh: spin is not installed (apt-get install spin)"; exit 2; }
command -v gcc >/dev/null || { echo "compare.sh: gcc is not installed"; exit 2; }
go build -o bin/sysmsg ./cmd/sysmsg
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp bench/spin/webserver.pml "$work/"

# sysmsg_run ARGS...: one sysmsg check, its kind or verdict, states,
# seconds and peak MiB, in s_* variables.
sysmsg_run() {
  local out
  out=$( { /usr/bin/time -f "%M" bin/sysmsg check "$@" --json; } 2>"$work/time" || true)
  s_states=$(echo "$out" | sed -n 's/^  "states": \([0-9]*\),/\1/p')
  s_secs=$(echo "$out" | sed -n 's/^  "seconds": \([0-9.]*\),/\1/p')
  s_verdict=$(echo "$out" | sed -n 's/^  "verdict": "\(.*\)",/\1/p')
  s_kind=$(echo "$out" | sed -n 's/^  "kind": "\(.*\)",/\1/p')
  s_mib=$(( $(tail -1 "$work/time") / 1024 ))
}

# The full check (safety, deadlock, livelock, fair progress), then with
# --symmetry (safety, deadlock, livelock: fair progress is not checked on
# the reduced graph), then with both reductions (safety and deadlock, as
# SPIN checks), then with --fingerprint (safety and deadlock, and
# "incomplete" where nothing is found: not a proof), then SPIN with its partial-order reduction and
# without it (-DNOREDUCE; cut off after NOPOR_TIMEOUT seconds, 120 by
# default: without it 4x3 runs for more than twenty minutes) (safety and
# invalid end states). Sizes are CONNSxREQUESTS; EXTRA adds sizes to
# run all three ways, SYM_ONLY sizes run with --symmetry alone, too big for
# the other two.
# spin_run DEFINES...: one pan run of the web server, its verdict, states,
# seconds and MiB in p_* variables.
spin_run() {
  rm -f "$work/pan.out"
  ( cd "$work" && spin -a -DN="$1" -DR="$2" -DCAP=2 -DPOLICY=$3 webserver.pml >/dev/null &&
    gcc -O2 -DSAFETY $4 -o pan pan.c 2>/dev/null &&
    timeout "$5" ./pan -m100000 -w24 > pan.out ) || true
  p_states=$(sed -n 's/^ *\([0-9]*\) states, stored.*/\1/p' "$work/pan.out")
  p_errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$work/pan.out")
  p_secs=$(sed -n 's/^pan: elapsed time \([0-9.e+-]*\) seconds.*/\1/p' "$work/pan.out")
  p_mib=$(sed -n 's/^ *\([0-9.]*\)[[:space:]]*total actual memory usage.*/\1/p' "$work/pan.out")
  p_verdict=ok
  if [ "$p_errors" != 0 ]; then p_verdict=deadlock; fi
  if [ -z "$p_states" ]; then p_verdict="over ${5}s" p_states=- p_secs=0 p_mib=0; fi
}

printf '%-7s %-6s | %-10s %12s %9s %9s | %-10s %12s %9s %9s | %-10s %12s %9s %9s | %-10s %12s %9s %9s | %-10s %12s %9s %9s | %-10s %12s %9s %9s\n' conns policy "sysmsg" states seconds MiB "--symmetry" states seconds MiB "sym+por" states seconds MiB "--fingerpr" states seconds MiB "spin" states seconds MiB "spin -POR" states seconds MiB
for cfg in 2x2 3x3 4x3 4x4 ${EXTRA:-} ${SYM_ONLY:-}; do
  set -- ${cfg/x/ }
  sym_only=0
  case " ${SYM_ONLY:-} " in *" $cfg "*) sym_only=1 ;; esac
  for pol in block poll; do
    code=0; [ "$pol" = poll ] && code=2
    if [ $sym_only = 0 ]; then
      sysmsg_run --conns "$1" --requests "$2" --policy "$pol" --cap 2
      f_what=${s_kind:-$s_verdict} f_states=$s_states f_secs=$s_secs f_mib=$s_mib
    else
      f_what=- f_states=- f_secs=0 f_mib=0
    fi
    sysmsg_run --conns "$1" --requests "$2" --policy "$pol" --cap 2 --symmetry
    r_what=${s_kind:-$s_verdict} r_states=$s_states r_secs=$s_secs r_mib=$s_mib
    sysmsg_run --conns "$1" --requests "$2" --policy "$pol" --cap 2 --symmetry --partial-order
    b_what=${s_kind:-$s_verdict} b_states=$s_states b_secs=$s_secs b_mib=$s_mib
    g_what=- g_states=- g_secs=0 g_mib=0
    if [ $sym_only = 0 ]; then
      sysmsg_run --conns "$1" --requests "$2" --policy "$pol" --cap 2 --fingerprint
      g_what=${s_kind:-$s_verdict} g_states=$s_states g_secs=$s_secs g_mib=$s_mib
    fi
    p_verdict=- p_states=- p_secs=0 p_mib=0
    n_verdict=- n_states=- n_secs=0 n_mib=0
    if [ $sym_only = 0 ]; then
      spin_run "$1" "$2" $code -DNOREDUCE "${NOPOR_TIMEOUT:-120}"
      n_verdict=$p_verdict n_states=$p_states n_secs=$p_secs n_mib=$p_mib
      spin_run "$1" "$2" $code "" 3600
    fi
    printf '%-7s %-6s | %-10s %12s %9.2f %9d | %-10s %12s %9.2f %9d | %-10s %12s %9.2f %9d | %-10s %12s %9.2f %9d | %-10s %12s %9.2f %9d | %-10s %12s %9.2f %9d\n' "$1x$2" "$pol" \
      "$f_what" "$f_states" "$f_secs" "$f_mib" "$r_what" "$r_states" "$r_secs" "$r_mib" "$b_what" "$b_states" "$b_secs" "$b_mib" "$g_what" "$g_states" "$g_secs" "$g_mib" \
      "$p_verdict" "$p_states" "$p_secs" "${p_mib%.*}" "$n_verdict" "$n_states" "$n_secs" "${n_mib%.*}"
  done
done
