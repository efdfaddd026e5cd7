# A ring of one (commonwarexyz/monorepo #3606): the event loop's wake poll
# stays in flight until a producer writes the wake descriptor; it holds the
# only place, so the producer's request cannot be issued, and the producer
# wakes the loop only after it is served. The same shape is zio's waker
# (#409: the waker must claim the first free entry). The fix made the wake
# entry always fit; the polling fallback finishes at any cap.
workload "ring of one: the wake entry holds the only slot"
pipe wake
conn req

process loop cap 1 reaper ev
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
