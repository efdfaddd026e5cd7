pipe a
process app cap unlimited low 3
  thread t
    read a
  end
end
