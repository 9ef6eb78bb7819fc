-- wrk script: an idle osquery distributed/read, as every enrolled host sends every 10 s.
-- The node key comes from the NODE_KEY environment variable.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "osquery/5.23.1"
wrk.body = '{"node_key":"' .. os.getenv("NODE_KEY") .. '"}'

done = function(summary, latency, requests)
  io.write(string.format("requests/s: %.0f\n", summary.requests / (summary.duration / 1e6)))
  for _, p in pairs({50, 90, 99, 99.9}) do
    io.write(string.format("latency p%g: %.2f ms\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("errors: connect %d, read %d, write %d, status %d, timeout %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end
