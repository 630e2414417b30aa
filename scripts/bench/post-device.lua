-- wrk script: POST a new device per request; serial numbers unique across threads.
local counter = 0
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end
request = function()
  counter = counter + 1
  local body = string.format(
    '{"type":"Laptop","make":"Dell","model":"Bench","serial_number":"BENCH-%d-%d"}',
    thread_no or 0, counter)
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", nil, headers, body)
end
