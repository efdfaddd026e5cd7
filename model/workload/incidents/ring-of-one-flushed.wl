# commonware's own fix (commonwarexyz/monorepo #3606, and #3618's rule
# that "all pending SQEs must be flushed before entering any sleep/park
# state"): the wake entry is staged first, and the loop submits everything
# staged before it parks. The ring of one of ring-of-one-staged with
# "submit before-park".
workload "ring of one: the loop submits before it parks"
pipe wake
conn req

process loop cap unlimited reaper ev sq 1 submit before-park
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
