# A pool that waits on itself (sass/node-sass #857): libuv's pool has 4
# threads; 4 concurrent renders each hold one while they wait for their
# importer, whose file read needs a pool thread too. The cap plays the pool
# (block: a job waits for a free thread). The reported workarounds: a pool
# of more than 4 (cap 5 is verified), or at most size-1 renders at once.
workload "node-sass: four renders fill a pool of four"
pipe file capacity 4
pipe done0
pipe done1
pipe done2
pipe done3

process node cap 4
  thread js0
    submit read done0
    read file
    write done0
    wait
  end
  thread js1
    submit read done1
    read file
    write done1
    wait
  end
  thread js2
    submit read done2
    read file
    write done2
    wait
  end
  thread js3
    submit read done3
    read file
    write done3
    wait
  end
end

peer disk
  repeat 4
    send file
  end
end
