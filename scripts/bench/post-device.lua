-- wrk script: POST a new device per request, serial numbers unique per thread and request.
local counter = 0
local tid = 0
setup = function(thread)
  tid = tid + 1
  thread:set("tid", tid)
end
request = function()
  counter = counter + 1
  local body = string.format(
    '{"type":"Laptop","make":"Dell","model":"Bench","serial_number":"BENCH-%d-%d-%d"}',
    tid or 0, counter, math.random(1, 1000000000))
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", nil, headers, body)
end
