# glommio's queued dependency with its submission ring (DataDog/glommio #458):
# when entries run out, glommio submits the prepared ones and keeps
# the rest in its own queue until the next pass; the executor then went to
# sleep with a call still queued, which nothing would ever submit. A ring
# of one entry, submitted only when a call finds it full ("submit
# on-full"): the proxy's read of the client's request is staged behind the
# early receive from the backend, and the executor parks on it.
workload "glommio: the executor sleeps with a call still staged"
conn front
conn back

process proxy cap unlimited sq 1 submit on-full
  thread up
    submit read back
    read front
    write back
    wait
    write front
  end
end

peer client
  send front
  recv front
end

peer backend
  recv back
  send back
end
