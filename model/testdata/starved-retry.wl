# One kept call starved by another. At cap 1 under poll, t's first
# submitted read is sent: it takes the only slot and the process polls.
# The second submitted read finds p empty and the scheduler keeps it to
# retry; the write fills p; the submitted write finds p full and is kept
# too. The kernel completes the first read, which empties p; its reply is
# reaped, and t collects that result. Now t waits for another, the kept
# read would block and the kept write could proceed. The round-robin
# scheduler retries every kept call on each turn, so the write goes
# through, then the read, and all finishes: check says ok, at every cap
# and with none. A scheduler that always retried the first kept call would
# retry the read forever. Checked with one actor for all of app's retries
# (the seeded bug one-retry-actor), that endless would-block loop counts
# as fair, and check reports a fair non-progress cycle that no real
# scheduler follows.
workload "a kept write starved by a kept read"
pipe p capacity 1
process app cap 1
  thread t
    submit read p
    submit read p
    write p
    submit write p
    wait
    wait
    wait
  end
end
