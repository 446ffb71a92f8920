-- wrk script: a framework action as a browser tab posts it (bench/framework.py).
--   wrk -t2 -c64 -d10s -s framework_action.lua http://127.0.0.1:PORT -- TABS_FILE [ACTION]
-- TABS_FILE has one tab per line (context id, cookie, signal id; tab-separated), written by
-- bench/framework_load.rs, which keeps the tabs' streams open and read meanwhile. Each
-- request is the next tab's `POST /_action/ACTION` with its cookie, `Origin` and its
-- signals as JSON, round-robin; each wrk thread starts at a different tab.

local requests = {}
local i = 0
local threads = 0

function setup(thread)
   thread:set("offset", threads * 7919)
   threads = threads + 1
end

function init(args)
   local path, action = args[1], args[2] or "increment"
   local origin = "http://" .. wrk.headers["Host"]
   for line in io.lines(path) do
      local ctx, cookie, signal = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)$")
      local body = string.format('{"via_ctx":"%s","%s":0}', ctx, signal)
      requests[#requests + 1] = wrk.format("POST", "/_action/" .. action, {
         ["Origin"] = origin,
         ["Cookie"] = cookie,
         ["Content-Type"] = "application/json",
         ["Datastar-Request"] = "true",
      }, body)
   end
   assert(#requests > 0, "no tabs in " .. path)
   i = (offset or 0) % #requests
end

function request()
   i = i % #requests + 1
   return requests[i]
end
