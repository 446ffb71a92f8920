<?php

declare(strict_types=1);

namespace Via\Framework\Tests;

use Via\Framework\Config;
use Via\Framework\Context;
use Via\Framework\Tests\Support\AppTestCase;

/** The runtime's own health and metrics paths must not hide a path of the app. */
final class RuntimePathsTest extends AppTestCase
{
    /** @return iterable<string, array{array<string, mixed>, string}> */
    public static function clashes(): iterable
    {
        yield 'a page' => [['metrics_path' => '/metrics'], 'metrics_path "/metrics"'];
        yield 'a page with a parameter' => [['health_path' => '/items/7'], 'health_path "/items/7"'];
        yield "the framework's own health" => [['health_path' => '/_health'], 'health_path "/_health"'];
        yield 'an action path' => [['metrics_path' => '/_action/x'], 'metrics_path "/_action/x"'];
    }

    /**
     * @param array<string, mixed> $options
     * @dataProvider clashes
     */
    public function testAClashIsAStartUpError(array $options, string $named): void
    {
        $app = self::app((new Config())->withPort(0)->withServerOptions($options));
        $app->page('/metrics', fn (Context $ctx) => $ctx->view(fn () => '<main>m</main>'));
        $app->page('/items/{id}', fn (Context $ctx, int $id) => $ctx->view(fn () => '<main>i</main>'));
        $this->expectException(\RuntimeException::class);
        $this->expectExceptionMessage($named);
        $app->start();
    }
}
