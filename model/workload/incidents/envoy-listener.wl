# Envoy's io_uring worker (envoyproxy/envoy pull request #28579, a review
# question): with a queue of 10, one listening socket's accept and nine
# connections' reads fill it, and the next write cannot be submitted. Here
# 2 connections and cap 3: the accept and the two read-aheads hold every
# slot; each writer waits for a slot that only a read could free, and each
# read waits for a client that waits for its response. The next client
# connects only after the first is served. Envoy's later write back-pressure
# (#44188: pause above a high watermark, resume below a low one, EAGAIN to
# the caller) is the poll policy: a call at the cap is retried, never parked.
workload "envoy: the listener and the reads fill the queue"
conn listen
conn c0
queue q0
conn c1
queue q1

process worker cap 3
  thread acceptor
    read listen
  end
  thread r0
    repeat 2
      read c0
      push q0
    end
  end
  thread w0
    repeat 2
      pop q0
      write c0
    end
  end
  thread r1
    repeat 2
      read c1
      push q1
    end
  end
  thread w1
    repeat 2
      pop q1
      write c1
    end
  end
end

peer client0
  send c0
  recv c0
  send c0
  recv c0
  send listen
end

peer client1
  send c1
  recv c1
  send c1
  recv c1
end
