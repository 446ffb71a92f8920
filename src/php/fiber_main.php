<?php
namespace Via\Internal;

/**
 * @internal The body of every pooled fiber of the via runtime. Do not call.
 */
function fiber_main(): void
{
    $job = \Fiber::suspend(null);
    while (true) {
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
        // Release the callable and its arguments before parking, so a response
        // that nobody holds any more is finished right away.
        $job = $e = null;
        $job = \Fiber::suspend($result);
        $result = null;
    }
}
