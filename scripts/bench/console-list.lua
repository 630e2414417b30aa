-- wrk script: the console's device list page with a signed-in session's cookie (given with
-- -H "Cookie: ..."). Counts only 200 answers (a sign-in redirect or an error is not a page)
-- and prints the 200s per second and the p95 latency.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok = 0
  other = 0
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local o, n = 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    n = n + t:get("other")
  end
  io.write(string.format("CONSOLE ok=%d other=%d rps=%.1f p95=%.2fms p99=%.2fms\n",
    o, n, o / (summary.duration / 1e6), latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
