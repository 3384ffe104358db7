-- wrk script: send pre-signed, distinct Slack requests read from BENCH_BODIES
-- (one per line: timestamp <TAB> signature <TAB> form body), and print a JSON summary.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  requests = {}
  local path = os.getenv("BENCH_BODIES")
  for line in io.lines(path) do
    local ts, sig, body = line:match("^([^\t]+)\t([^\t]+)\t(.*)$")
    table.insert(requests, wrk.format("POST", "/slack/events", {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Slack-Request-Timestamp"] = ts,
      ["X-Slack-Signature"] = sig,
    }, body))
  end
  step = tonumber(os.getenv("BENCH_THREADS") or "1")
  index = id + 1
  non200 = 0
end

function request()
  local r = requests[index]
  index = index + step
  if index > #requests then index = id + 1 end
  return r
end

function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("non200") or 0) end
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, "errors": %d, "non200": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status
      + summary.errors.timeout, bad))
end
