# The workaround for node-sass's pool that waits on itself (#857, and
# webpack/sass-loader #119: at most size-1 renders at once), as a reserve:
# one of the pool's 4 threads is kept for the importers, so the renders
# share the other 3 and an importer's file read always finds a thread.
# Each js thread of node-sass-pool is split in two: the render, which holds
# a pool thread until its done() (a read of done0), and the importer that
# the render calls, which reads the file and calls done().
workload "node-sass: a pool thread reserved for the importers"
pipe file capacity 4
pipe done0
pipe done1
pipe done2
pipe done3

process node cap 4
  reserve 1 for import0 import1 import2 import3
  thread render0
    read done0
  end
  thread import0
    read file
    write done0
  end
  thread render1
    read done1
  end
  thread import1
    read file
    write done1
  end
  thread render2
    read done2
  end
  thread import2
    read file
    write done2
  end
  thread render3
    read done3
  end
  thread import3
    read file
    write done3
  end
end

peer disk
  repeat 4
    send file
  end
end
