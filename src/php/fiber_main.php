<?php
namespace Via\Internal;

/**
 * @internal The body of every pooled fiber of the via runtime. Do not call.
 */
function fiber_main(): void
{
    // Started by the runtime, then parked here until it has a task for this fiber.
    \Fiber::suspend(null);
    $result = null;
    while (true) {
        // Ends the task that ran ($result: true, or what it threw; null: none yet) and
        // takes the job of the task to run next in this fiber: the one the runtime
        // resumed it for, or else the next new task in the ready queue, so that a batch
        // of requests runs without a switch out to the loop and back for each. No job:
        // the fiber is free (FREE_MARKER in fiber.rs) and parks until it gets a task.
        // (Jobs are taken, never passed to Fiber::resume(): the resumer would hold the
        // job, and the response in it, until the fiber parks again.)
        $job = \Via\Internal\endTask($result);
        $result = null;
        if ($job === null) {
            \Fiber::suspend(0x56494146);
            continue;
        }
        try {
            // $job is [callable, ...arguments]; request handlers take two.
            match (\count($job)) {
                3 => $job[0]($job[1], $job[2]),
                1 => $job[0](),
                2 => $job[0]($job[1]),
                default => $job[0](...\array_slice($job, 1)),
            };
            $result = true;
        } catch (\Throwable $e) {
            $result = $e;
        }
        // Release the callable and its arguments before the task ends, so a response
        // that nobody holds any more is finished right away.
        $job = $e = null;
    }
}
