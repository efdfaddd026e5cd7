# zio's cancels of timed-out reads (lalinsky/zio #623, fixed by #628): many
# reads wait on peers that never reply; when their timeouts fire at once,
# each cancel needs a submission entry, and the reads and the other cancels
# hold them all. zio dropped the cancel it could not submit, so its read
# never ended; here a cancel at the cap waits instead (block) or is held
# back (stop), with the same end: the tasks wait forever. The polling
# fallback (zio #409's pending list and bounded wait) finishes.
workload "zio: the cancels of timed-out reads need a full queue"
conn s0
conn s1

process client cap 2
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
