-- wrk script for Benchmarks/admin-hosts.sh: bearer token from the environment, p50/p95/p99 at the end.
local token = os.getenv("ADMIN_TOKEN")
wrk.headers["Authorization"] = "Bearer " .. token

function done(summary, latency, requests)
  io.write(string.format("requests %d  errors(non-2xx) %d  req/s %.1f  p50 %.1f ms  p95 %.1f ms  p99 %.1f ms\n",
    summary.requests, summary.errors.status, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
