# The fix for the ring of one (commonwarexyz/monorepo #3606, and #3159's
# rule that the wake entry "should always fit"): the wake poll has a place
# of its own, so the producer's request is never shut out by it. In slots:
# the ring of one plus a reserve of 1 kept for the wake descriptor's calls.
workload "ring of one: the wake entry has a reserved slot"
pipe wake
conn req

process loop cap 2 reaper ev
  reserve 1 for wake
  thread ev
    submit read wake
    read req
    write req
    wait
  end
end

peer producer
  send req
  recv req
  send wake
end
