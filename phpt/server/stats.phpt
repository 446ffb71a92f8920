--TEST--
Via\Server::stats(): counters of connections, requests, workers, tasks, fibers and timers
--FILE--
<?php
require __DIR__ . '/../serve.inc';
$server = new Via\Server('127.0.0.1', 0, ['log_level' => 'off']);
echo implode(',', array_keys($server->stats())), "\n";
via_serve($server, function ($req, Via\Response $res) use ($server): void {
    $s = $server->stats();
    $res->end(json_encode([$s['requests'], $s['in_flight'], $s['tasks'] >= 1, $s['fibers_created'] >= 1]));
}, function (int $port): void {
    via_get($port, '/');
    echo via_get($port, '/')[2], "\n";
});
?>
--EXPECT--
connections_accepted,connections_active,connections_rejected,requests,in_flight,header_timeouts,idle_timeouts,body_timeouts,write_timeouts,request_timeouts,body_too_large,body_memory,body_memory_refusals,bad_requests,unanswered,client_aborts,compressed_br,compressed_gzip,sse_opened,sse_open,sse_events,sse_heartbeats,sse_dropped,sse_closed_slow,sse_waits,sse_disconnects,topic_publishes,topic_deliveries,static_hits,broker_dropped,forker_restarts,sse_bytes,rate_limited,memory_refusals,worker_starts,worker_crashes,worker_recycles,standby_takeovers,workers,worker_id,tasks,tasks_started,fibers_pooled,fibers_created,timers,ticks_skipped,loop_waits,loop_events,uptime
[2,1,true,true]
