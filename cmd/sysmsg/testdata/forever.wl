workload "a read that nothing answers"
pipe p

process app cap 2
  thread r
    read p
  end
end
