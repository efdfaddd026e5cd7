# tokio-uring's overflowing completion queue (tokio-rs/tokio-uring #147):
# with a completion queue smaller than the number of concurrent writers,
# the extra completions go to the kernel's overflow list, which only an
# enter with GETEVENTS returns; the driver never made one, and the runtime
# hung. Four tasks write (stand-ins for no-ops) with a queue of 2 and a
# driver that never flushes ("flush never"). libuv's proposed fix (#4601)
# caps in-flight at the queue's size: at caps 1 and 2 no reply overflows.
workload "tokio-uring: the completion queue overflows"
pipe p capacity 4

process rt cap unlimited cq 2 flush never
  thread task0
    write p
  end
  thread task1
    write p
  end
  thread task2
    write p
  end
  thread task3
    write p
  end
end
