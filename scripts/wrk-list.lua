-- wrk request script of the bench-* scripts: GET each path of the file $REQUEST_LIST (one
-- per line) in turn, round and round, each after $REQUEST_PREFIX (default: nothing).
local paths = {}
for line in io.lines(os.getenv("REQUEST_LIST")) do paths[#paths + 1] = line end
local prefix = os.getenv("REQUEST_PREFIX") or ""
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", prefix .. paths[i])
end

-- With COUNT_STATUSES set, answers are counted by status (wrk then reads every answer, so
-- it stays off where only times are wanted): 503 is the server shedding load (its queue is
-- full); the first other answer that is not 2xx is kept in $REQUEST_LIST.failed to say
-- why. "Shed N" and "Failed N" are printed at the end.
if os.getenv("COUNT_STATUSES") then
  shed, failed = 0, 0
  local told = false
  response = function(status, headers, body)
    if status == 503 then
      shed = shed + 1
    elseif status >= 300 then
      failed = failed + 1
      if not told then
        told = true
        local f = io.open(os.getenv("REQUEST_LIST") .. ".failed", "w")
        f:write(status, " ", body:sub(1, 500), "\n")
        f:close()
      end
    end
  end
  local threads = {}
  setup = function(thread) threads[#threads + 1] = thread end
  done = function(summary, latency, requests)
    local s, f = 0, 0
    for _, t in ipairs(threads) do s = s + t:get("shed"); f = f + t:get("failed") end
    io.write("Shed ", s, "\nFailed ", f, "\n")
  end
end
