pipe a
process app
  thread t
    repeat 1
      repeat 1
        repeat 1
          repeat 1
            repeat 1
              repeat 1
                repeat 1
                  repeat 1
                    repeat 1
                      repeat 1
                        repeat 1
                          repeat 1
                            repeat 1
                              repeat 1
                                repeat 1
                                  repeat 1
                                    repeat 1
                                      repeat 1
                                        repeat 1
                                          repeat 1
                                            repeat 1
                                              repeat 1
                                                repeat 1
                                                  repeat 1
                                                    repeat 1
                                                      repeat 1
                                                        repeat 1
                                                          repeat 1
                                                            repeat 1
                                                              repeat 1
                                                                repeat 1
                                                                  repeat 1
                                                                    repeat 1
                                                                      repeat 1
                                                                        repeat 1
                                                                          repeat 1
                                                                            repeat 1
                                                                              repeat 1
                                                                                repeat 1
                                                                                  repeat 1
                                                                                    repeat 1
                                                                                      repeat 1
                                                                                        repeat 1
                                                                                          repeat 1
                                                                                            repeat 1
                                                                                              repeat 1
                                                                                                repeat 1
                                                                                                  repeat 1
                                                                                                    repeat 1
                                                                                                      repeat 1
                                                                                                        repeat 1
                                                                                                          repeat 1
                                                                                                            repeat 1
                                                                                                              repeat 1
                                                                                                                repeat 1
                                                                                                                  repeat 1
                                                                                                                    repeat 1
                                                                                                                      repeat 1
                                                                                                                        repeat 1
                                                                                                                          repeat 1
                                                                                                                            repeat 1
                                                                                                                              repeat 1
                                                                                                                                repeat 1
                                                                                                                                  repeat 1
                                                                                                                                    repeat 1
                                                                                                                                      repeat 1
                                                                                                                                        repeat 1
                                                                                                                                          repeat 1
                                                                                                                                            repeat 1
                                                                                                                                              repeat 1
                                                                                                                                                read a
                                                                                                                                              end
                                                                                                                                            end
                                                                                                                                          end
                                                                                                                                        end
                                                                                                                                      end
                                                                                                                                    end
                                                                                                                                  end
                                                                                                                                end
                                                                                                                              end
                                                                                                                            end
                                                                                                                          end
                                                                                                                        end
                                                                                                                      end
                                                                                                                    end
                                                                                                                  end
                                                                                                                end
                                                                                                              end
                                                                                                            end
                                                                                                          end
                                                                                                        end
                                                                                                      end
                                                                                                    end
                                                                                                  end
                                                                                                end
                                                                                              end
                                                                                            end
                                                                                          end
                                                                                        end
                                                                                      end
                                                                                    end
                                                                                  end
                                                                                end
                                                                              end
                                                                            end
                                                                          end
                                                                        end
                                                                      end
                                                                    end
                                                                  end
                                                                end
                                                              end
                                                            end
                                                          end
                                                        end
                                                      end
                                                    end
                                                  end
                                                end
                                              end
                                            end
                                          end
                                        end
                                      end
                                    end
                                  end
                                end
                              end
                            end
                          end
                        end
                      end
                    end
                  end
                end
              end
            end
          end
        end
      end
    end
  end
end
