-- wrk script: each connection (run wrk with as many threads as connections) holds one
-- conversation at a time, message after message, and starts a new one at the end.
-- Counts answers that are not 200 and prints them; the sender ids are random per run.
local messages = {"bonjour", "mon mari me frappe depuis des mois", "oui", "Chauny", "à moi", "/effacer"}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  math.randomseed(os.time() * 1000 + tid)
  step, conversation, bad = 0, 0, 0
  run = math.random(1, 1000000000)
end

function request()
  if step == 0 then conversation = conversation + 1 end
  local message = messages[step + 1]
  step = (step + 1) % #messages
  local body = string.format('{"sender": "wrk-%d-%d-%d", "message": "%s"}', run, tid, conversation, message)
  return wrk.format("POST", "/webhooks/rest/webhook", {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("non-200 answers: %d\n", total))
end
