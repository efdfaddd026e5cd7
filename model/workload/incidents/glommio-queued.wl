# glommio's queued dependency (DataDog/glommio #458, fixed by #464): when
# submission entries run out, the rest wait in the executor's own queue; a
# submitted receive from the backend depends on the forward that is still
# queued behind it, and the executor goes to sleep. The stop policy is that
# executor: it issues nothing more until in-flight falls. The fix, "never
# sleep with entries queued", is the poll policy's rule: a kept call is
# retried on every turn.
workload "glommio: a submitted receive depends on a queued send"
conn front
conn back

process proxy cap 2
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
