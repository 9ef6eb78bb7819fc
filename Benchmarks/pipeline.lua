-- wrk script for Benchmarks/pipeline.sh: POSTs a fixed body. For /log the node keys from
-- KEYS_FILE rotate per request (each request is one enrolled host's batch).
local body_file = os.getenv("BODY_FILE")
local keys_file = os.getenv("KEYS_FILE")
local token = os.getenv("COLLECTOR_TOKEN")
local f = assert(io.open(body_file, "rb")); local body = f:read("*a"); f:close()
local keys, n = {}, 0
if keys_file and keys_file ~= "" then
  for k in io.lines(keys_file) do keys[#keys + 1] = k end
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
request = function()
  if #keys > 0 then
    n = n + 1
    local key = keys[(n % #keys) + 1]
    return wrk.format(nil, nil, nil, '{"node_key":"' .. key .. '","log_type":"result","data":' .. body .. '}')
  end
  return wrk.format(nil, nil, nil, body)
end
