# tokio-uring's fix (tokio-rs/io-uring #152, released in 0.5.8 and taken
# by tokio-uring #153; libuv #3991 does the same): when the kernel flags
# an overflow, the driver enters with GETEVENTS, which moves the overflow
# list's replies into the completion queue as room frees. The four writers
# and the queue of 2 of tokio-uring-overflow, with the default flush.
workload "tokio-uring: the driver flushes the overflow list"
pipe p capacity 4

process rt cap unlimited cq 2
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
