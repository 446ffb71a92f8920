<?php

declare(strict_types=1);

namespace Via\Framework\Tests;

use Via\Framework\Context;
use Via\Framework\Scope;
use Via\Framework\Tests\Support\AppTestCase;
use Via\Framework\Tests\Support\TestVia;

/** GET /_sse through Via::handle(): the handshake, the first sync, reloads, ownership. */
final class ViaStreamTest extends AppTestCase
{
    /** @return array{0: TestVia, 1: string, 2: string} */
    private static function page(?\Via\Framework\Config $config = null): array
    {
        $app = self::app($config);
        $app->page('/', function (Context $ctx): void {
            $name = $ctx->signal('Ann', 'name');
            $ctx->view(fn () => '<main id="m">' . htmlspecialchars($name->string()) . '</main>');
        });
        [, $ctxId, $sid] = self::openPage($app);
        return [$app, $ctxId, $sid];
    }

    public function testMissingContextIs400(): void
    {
        [$app] = self::page();
        foreach (['/_sse', '/_sse?datastar=%7B%7D', '/_sse?datastar=%7B%22via_ctx%22%3A%22%22%7D', '/_sse?datastar=%7B%22via_ctx%22%3A1%7D'] as $uri) {
            $res = self::get($app, $uri);
            self::assertSame(400, $res->getStatus(), $uri);
            self::assertSame('Invalid context', $res->getBody());
            self::assertNotSame('text/event-stream', $res->getHeader('content-type'));
        }
    }

    public function testMalformedSignalsAre400(): void
    {
        [$app] = self::page();
        $res = self::get($app, '/_sse?datastar=%7Bbad');
        self::assertSame(400, $res->getStatus());
        self::assertSame('Malformed signals', $res->getBody());
    }

    public function testTheStreamStartsWithTheViewAndEverySignal(): void
    {
        [$app, $ctxId, $sid] = self::page();
        $res = self::openStream($app, $ctxId, $sid);
        self::assertSame(200, $res->getStatus());
        self::assertSame('text/event-stream', $res->getHeader('content-type'));
        $events = self::events($res->getBody());
        self::assertSame(['datastar-patch-elements', 'datastar-patch-signals'], array_column($events, 'event'));
        self::assertSame('elements <main id="m">Ann</main>', $events[0]['data']);
        $nameId = $app->contexts[$ctxId]->getSignal('name')->id();
        self::assertSame([$nameId => 'Ann'], self::patchedSignals($res->getBody()));
        self::assertSame(1, $app->activeSseCount[$ctxId]);
        self::assertNotNull($app->contexts[$ctxId]->getStream());
    }

    public function testSignalsSentWithTheHandshakeAreApplied(): void
    {
        [$app, $ctxId, $sid] = self::page();
        $nameId = $app->contexts[$ctxId]->getSignal('name')->id();
        $res = self::openStream($app, $ctxId, $sid, [$nameId => 'Bob']);
        self::assertStringContainsString('elements <main id="m">Bob</main>', $res->getBody());
    }

    public function testAnotherSessionIs403(): void
    {
        [$app, $ctxId] = self::page();
        $res = self::openStream($app, $ctxId, 'ffffffffffffffffffffffffffffffff');
        self::assertSame(403, $res->getStatus());
        self::assertSame('Forbidden', $res->getBody());
        self::assertArrayNotHasKey($ctxId, $app->activeSseCount);
        self::assertSame(403, self::openStream($app, $ctxId, null)->getStatus(), 'no cookie');
    }

    public function testAnUnknownContextIsToldToReloadOnce(): void
    {
        [$app, , $sid] = self::page();
        $first = self::openStream($app, '/_/0123456789abcdef', $sid);
        self::assertSame(200, $first->getStatus());
        self::assertSame('text/event-stream', $first->getHeader('content-type'));
        $events = self::events($first->getBody());
        self::assertCount(1, $events);
        self::assertSame('datastar-patch-elements', $events[0]['event']);
        self::assertStringContainsString('window.location.reload()', $events[0]['data']);

        $second = self::openStream($app, '/_/0123456789abcdef', $sid);
        self::assertSame(200, $second->getStatus());
        self::assertSame('', $second->getBody(), 'a reload is sent once');
    }

    public function testConnectCallbacksAndClients(): void
    {
        [$app, $ctxId, $sid] = self::page();
        $seen = [];
        $app->onClientConnect(function (Context $c) use (&$seen): void {
            $seen[] = 'connect ' . $c->getId();
        });
        $app->onClientConnect(function (): void {
            throw new \RuntimeException('bad hook');
        });
        $res = self::get($app, '/_sse?datastar=' . rawurlencode(json_encode(['via_ctx' => $ctxId])), ['Cookie' => "via_session_id=$sid", 'X-Forwarded-For' => '203.0.113.7, 10.0.0.1']);
        self::drain();
        self::assertSame(200, $res->getStatus());
        self::assertSame(["connect $ctxId"], $seen);
        self::assertTrue($app->hasLogged('error', 'bad hook'));
        $client = $app->getClients()[$ctxId];
        self::assertSame('203.0.113.7', $client['ip']);
        self::assertSame($ctxId, $client['context_id']);
        self::assertSame(1, preg_match('/^[0-9a-f]{8}$/', $client['id']));
        self::assertStringStartsWith('data:image/svg+xml;base64,', $client['identicon']);
    }

    public function testASecondStreamReplacesTheFirst(): void
    {
        [$app, $ctxId, $sid] = self::page();
        $first = self::openStream($app, $ctxId, $sid);
        $second = self::openStream($app, $ctxId, $sid);
        self::drain();
        $ctx = $app->contexts[$ctxId];
        self::assertSame(1, $app->activeSseCount[$ctxId], 'the first stream closed and was counted out');
        $before1 = strlen($first->getBody());
        $before2 = strlen($second->getBody());
        $ctx->execScript('x()');
        self::drain();
        self::assertSame($before1, strlen($first->getBody()));
        self::assertGreaterThan($before2, strlen($second->getBody()));
    }

    public function testTheLastStreamEndingSchedulesTheCleanup(): void
    {
        [$app, $ctxId, $sid] = self::page(self::config()->withContextCleanupDelay(10));
        $disconnected = [];
        $app->onClientDisconnect(function (Context $c) use (&$disconnected, $app): void {
            $disconnected[] = [$c->getId(), isset($app->getClients()[$c->getId()])];
        });
        self::openStream($app, $ctxId, $sid);
        $ctx = $app->contexts[$ctxId];
        $ctx->getStream()->close();
        self::drain();
        self::assertSame([[$ctxId, false]], $disconnected, 'after the client is removed');
        self::assertArrayNotHasKey($ctxId, $app->activeSseCount);
        self::assertArrayHasKey($ctxId, $app->contexts, 'not yet: the delay');
        \Via\sleep(0.05);
        self::assertArrayNotHasKey($ctxId, $app->contexts);
        self::assertTrue($ctx->isDestroyed());
    }

    public function testAReconnectWithinTheDelayKeepsTheContext(): void
    {
        [$app, $ctxId, $sid] = self::page(self::config()->withContextCleanupDelay(30));
        self::openStream($app, $ctxId, $sid);
        $app->contexts[$ctxId]->getStream()->close();
        self::drain();
        self::openStream($app, $ctxId, $sid);
        \Via\sleep(0.06);
        self::assertArrayHasKey($ctxId, $app->contexts);
        self::assertArrayNotHasKey($ctxId, $app->cleanupTimers);
    }

    public function testScopedStateSurvivesAStreamReconnect(): void
    {
        $app = self::app();
        $app->page('/room', function (Context $ctx): void {
            $ctx->scope('room:1');
            $n = $ctx->signal(0, 'n');
            $ctx->action(fn () => $n->setValue($n->int() + 1), 'bump');
            $ctx->view(fn () => '<main id="r">' . $n->int() . '</main>');
        });
        [, $ctxId, $sid] = self::openPage($app, '/room');
        self::openStream($app, $ctxId, $sid);
        self::assertSame(200, self::postAction($app, 'bump', $ctxId, $sid)->getStatus());
        // The tab is hidden: Datastar aborts the stream, then opens a new one.
        $app->contexts[$ctxId]->getStream()->close();
        self::drain();
        $again = self::openStream($app, $ctxId, $sid);
        self::assertStringContainsString('<main id="r">1</main>', $again->getBody());
        self::assertSame(['room_1_n' => 1], self::patchedSignals($again->getBody()));
        self::assertSame(200, self::postAction($app, 'bump', $ctxId, $sid)->getStatus(), 'the scoped action is still there');
        self::assertSame(2, $app->getScopedSignals('room:1')['room_1_n']->getValue());
    }

    public function testBroadcastsSkipTabsWithoutAStream(): void
    {
        $app = self::app();
        $renders = 0;
        $app->page('/', function (Context $ctx) use (&$renders): void {
            $ctx->scope(Scope::GLOBAL);
            $ctx->view(function () use (&$renders) {
                $renders++;
                return '<main id="m"></main>';
            }, cacheUpdates: false);
        });
        self::openPage($app);
        self::openPage($app);
        self::assertSame(2, $renders);
        $app->broadcast(Scope::GLOBAL);
        self::assertSame(2, $renders, 'no tab has a stream');
    }
}
