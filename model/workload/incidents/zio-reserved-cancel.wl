# zio's fix for its cancels (lalinsky/zio #628, #409): a cancel is sent
# precisely because its target will not finish on its own, so it must
# never be dropped or wait behind the reads it would end. zio flushes and
# retries until the cancel has an entry, and its waker claims the first
# free entry; in slots, a reserve kept for the timeout threads' calls. The
# reads share the other slots; a cancel always finds its own.
workload "zio: the cancels have a reserved slot"
conn s0
conn s1

process client cap 2
  reserve 1 for timeout0 timeout1
  thread t0
    read s0
  end
  thread t1
    read s1
  end
  thread timeout0
    cancel t0
  end
  thread timeout1
    cancel t1
  end
end
