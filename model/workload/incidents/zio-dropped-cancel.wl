# zio's dropped cancel (lalinsky/zio #623, before #628): when many read
# timeouts fire at once, each cancel needs a submission entry, and the
# reads and the other cancels hold them all. zio gave up on a cancel it
# could not submit ("Failed to get io_uring SQE for cancel") instead of
# waiting for room: the read it aimed at waits on a silent peer forever,
# and so does its task. "cancels drop" is that runtime: a cancel that finds
# no free slot is dropped. The polling fallback does not save it: a
# dropped cancel is never retried.
workload "zio: a cancel that finds the queue full is dropped"
conn s0
conn s1

process client cap 2 cancels drop
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
