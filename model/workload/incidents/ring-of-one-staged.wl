# The ring of one as commonware's loop had it (commonwarexyz/monorepo #3606,
# a review finding): the idle loop stages its wake poll's re-arm
# and then parks without submitting what it staged. With a ring of one
# entry, submitted only when a call finds it full ("submit on-full"), the
# loop's own request is staged behind the wake poll and never reaches the
# kernel, so the producer is never served and never writes the wake.
workload "ring of one: the loop parks with its request staged"
pipe wake
conn req

process loop cap unlimited reaper ev sq 1 submit on-full
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
