-- wrk script: pipeline DEPTH requests per connection (default 16), the
-- load that drives the seed's web-server deadlock.
init = function(args)
  local depth = tonumber(args[1]) or 16
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format(nil, "/")
  end
  req = table.concat(r)
end

request = function()
  return req
end
