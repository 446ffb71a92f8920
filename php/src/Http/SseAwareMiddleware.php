<?php

declare(strict_types=1);

namespace Via\Framework\Http;

/**
 * Marks global middleware that also runs on the tab's stream request (`/_sse`); other
 * middleware runs on pages and actions only.
 */
interface SseAwareMiddleware
{
}
