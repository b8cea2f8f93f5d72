-- wrk script: every request is a new Pub/Sub push envelope carrying a new Cloud Monitoring
-- incident (a new incident id, one of 50 Deployments), so the healer does its full path.
-- Usage: wrk -t2 -c32 -d10s --latency -s bench/incident_requests.lua http://127.0.0.1:PORT/

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(data)
  return ((data:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return b64chars:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#data % 3 + 1])
end

local template = [[{"version":"1.2","incident":{"incident_id":"0.wrk%s","scoping_project_id":"acme-prod",]]
  .. [["url":"https://console.cloud.google.com/monitoring/alerting/incidents/x","severity":"Critical",]]
  .. [["started_at":1735689600,"ended_at":null,"state":"open","summary":"CPU high","observed_value":"0.97",]]
  .. [["threshold_value":"0.9","resource":{"type":"k8s_container","labels":{"project_id":"acme-prod",]]
  .. [["location":"europe-west1","cluster_name":"prod-gke","namespace_name":"shop","pod_name":"web-%d-x",]]
  .. [["container_name":"web"}},"metric":{"type":"kubernetes.io/container/cpu/limit_utilization","labels":{}},]]
  .. [["metadata":{"system_labels":{"top_level_controller_name":"web-%d","top_level_controller_type":"Deployment"},]]
  .. [["user_labels":{}},"policy_name":"gke-container-cpu-high","policy_user_labels":{"incident-kind":"high_cpu"}}}]]

local counter = 0
prefix = "main" -- replaced per thread in setup(), so two threads never send the same incident id
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("prefix", "t" .. next_thread)
end

function request()
  counter = counter + 1
  local target = counter % 50
  local data = base64(string.format(template, prefix .. "-" .. counter, target, target))
  local body = '{"message":{"data":"' .. data .. '","messageId":"' .. counter .. '"},"subscription":"s"}'
  return wrk.format("POST", "/", { ["Content-Type"] = "application/json" }, body)
end
