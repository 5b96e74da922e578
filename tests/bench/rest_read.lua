-- wrk script of tests/bench/rest.sh: GET a random stored run document, with the API key from
-- $DBCONSULTANT_BENCH_KEY; prints "requests socket_errors non_2xx duration_us p50_ms p95_ms p99_ms".
local ids = {}
local key = os.getenv("DBCONSULTANT_BENCH_KEY")

function init(args)
  for line in io.lines(args[1]) do
    ids[#ids + 1] = line
  end
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function request()
  local id = ids[math.random(#ids)]
  return wrk.format("GET", "/api/v1/db/test-runs/" .. id, { ["Authorization"] = "Bearer " .. key })
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("%d %d %d %d %.3f %.3f %.3f\n", summary.requests, e.connect + e.read + e.write + e.timeout, e.status,
    summary.duration, latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
