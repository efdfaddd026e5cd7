pipe a
process p cap 2
  thread t
    reed a
  end
end
