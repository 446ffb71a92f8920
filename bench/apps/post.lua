-- wrk script: POST a ~100-byte JSON body (a Datastar action's signals).
wrk.method = "POST"
wrk.body = '{"via_ctx":"/examples/counter_/0123456789abcdef","step":1,"count":41,"name":"benchmark"}'
wrk.headers["Content-Type"] = "application/json"
