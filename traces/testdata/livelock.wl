# A livelock that the cap makes of a deadlock: two threads read pipes that
# nobody writes. With no cap both wait in the kernel: a deadlock. At cap 1
# the first read takes the only slot and the process polls; the second
# thread's polling attempt would block, and it retries forever: the system
# keeps moving and never finishes.
workload "polling forever"
pipe p
pipe q
process app cap 1
  thread a
    read p
  end
  thread b
    read q
  end
end
