# Two processes, each with one slot: each reads what the other writes.
workload "two processes, crossed pipes"
pipe p
pipe q
process a cap 1
  thread ra
    read p
  end
  thread wa
    write q
  end
end
process b cap 1
  thread rb
    read q
  end
  thread wb
    write p
  end
end
