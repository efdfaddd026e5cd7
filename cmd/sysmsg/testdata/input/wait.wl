# The second turn's wait has nothing to wait for.
pipe a
process app
  thread t
    submit read a
    repeat 2
      wait
    end
  end
end
peer c
  send a
end
