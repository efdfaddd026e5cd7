# glommio's fix (DataDog/glommio #464, "Prevent sleeping if the submission
# queue is not empty"): the executor submits whatever is staged before it
# parks. The ring of one of glommio-staged, submitted before anything
# parks ("submit before-park", the default).
workload "glommio: the executor submits before it sleeps"
conn front
conn back

process proxy cap unlimited sq 1 submit before-park
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
