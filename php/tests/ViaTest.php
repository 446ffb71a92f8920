<?php

declare(strict_types=1);

namespace Via\Framework\Tests;

use Via\Framework\Config;
use Via\Framework\Context;
use Via\Framework\Scope;
use Via\Framework\Tests\Support\AppTestCase;
use Via\Framework\Tests\Support\SpyBroker;
use Via\Framework\Via;

/** The small endpoints, HEAD, the bundled assets, broadcasts and app-wide state. */
final class ViaTest extends AppTestCase
{
    // ---- the session cookie ----------------------------------------------------------

    public function testASessionIdIs32LowerCaseHexDigits(): void
    {
        $app = self::app();
        $id = str_repeat('0123456789abcdef', 2);
        $of = fn (string $cookie) => $app->sessionIdOf(new \Via\Request(['headers' => ['Cookie' => $cookie]]));
        self::assertSame($id, $of("via_session_id=$id"));
        self::assertSame($id, $of("other=1; via_session_id=$id"));
        self::assertNull($of('via_session_id=' . strtoupper($id)));
        self::assertNull($of('via_session_id=' . substr($id, 1)));
        self::assertNull($of("via_session_id={$id}0"));
        self::assertNull($of('via_session_id=' . substr($id, 1) . 'g'));
        self::assertNull($of('via_session_id=' . substr($id, 1) . '.'));
        self::assertNull($of("via_session_id=$id%0A"));
        self::assertNull($of("session=$id"));
    }

    // ---- /_health -------------------------------------------------------------------

    public function testHealthIsOkWhenTheBrokerIsConnected(): void
    {
        $broker = new SpyBroker();
        $app = self::app(self::config()->withBroker($broker));
        $app->page('/', fn (Context $ctx) => null);
        [, $ctxId, $sid] = self::openPage($app);
        self::openStream($app, $ctxId, $sid);
        $res = self::get($app, '/_health');
        self::assertSame(200, $res->getStatus());
        self::assertSame('application/json', $res->getHeader('content-type'));
        self::assertSame('no-store', $res->getHeader('cache-control'));
        self::assertSame([
            'status' => 'ok',
            'version' => Via::VERSION,
            'broker' => ['driver' => 'SpyBroker', 'connected' => true],
            'connections' => ['contexts' => 1, 'sse' => 1],
        ], json_decode($res->getBody(), true, 512, JSON_THROW_ON_ERROR));
    }

    public function testHealthIs503WhenTheBrokerIsNotConnected(): void
    {
        $app = self::app(); // the in-memory broker connects when the server starts
        $res = self::get($app, '/_health');
        self::assertSame(503, $res->getStatus());
        $body = json_decode($res->getBody(), true, 512, JSON_THROW_ON_ERROR);
        self::assertSame('degraded', $body['status']);
        self::assertSame(['driver' => 'InMemoryBroker', 'connected' => false], $body['broker']);
        self::assertSame(['contexts' => 0, 'sse' => 0], $body['connections']);
    }

    // ---- HEAD -------------------------------------------------------------------------

    public function testHeadOfAPageIs200WithoutRunningIt(): void
    {
        $app = self::app();
        $runs = 0;
        $app->page('/p/{id}', function () use (&$runs): void {
            $runs++;
        });
        $res = self::send($app, self::request('HEAD', '/p/1'));
        self::assertSame(200, $res->getStatus());
        self::assertSame('text/html; charset=utf-8', $res->getHeader('content-type'));
        self::assertSame('', $res->getBody());
        self::assertSame(0, $runs);
        self::assertSame([], $app->contexts);
    }

    public function testHeadOfTheEndpoints(): void
    {
        $app = self::app(self::config()->withBroker(new SpyBroker()));
        foreach (['/_health' => 'application/json', '/datastar.js' => 'application/javascript', '/via.css' => 'text/css; charset=utf-8'] as $path => $type) {
            $res = self::send($app, self::request('HEAD', $path));
            self::assertSame(200, $res->getStatus(), $path);
            self::assertSame($type, $res->getHeader('content-type'), $path);
            self::assertSame('', $res->getBody(), $path);
        }
    }

    public function testHeadOfHealthFollowsTheBroker(): void
    {
        $app = self::app(); // not connected: GET /_health answers 503
        self::assertSame(503, self::send($app, self::request('HEAD', '/_health'))->getStatus());
    }

    public function testHeadOfAnythingElseIs404(): void
    {
        $app = self::app();
        foreach (['/nope', '/_sse', '/_action/x', '/_stats'] as $path) {
            $res = self::send($app, self::request('HEAD', $path));
            self::assertSame(404, $res->getStatus(), $path);
            self::assertSame('', $res->getBody(), $path);
        }
    }

    // ---- bundled assets -------------------------------------------------------------

    public function testDatastarIsServedWithAnETag(): void
    {
        $app = self::app();
        $res = self::get($app, '/datastar.js');
        self::assertSame(200, $res->getStatus());
        self::assertSame('application/javascript', $res->getHeader('content-type'));
        self::assertStringStartsWith('// Datastar v1.0.1', $res->getBody());
        self::assertSame(file_get_contents(dirname(__DIR__) . '/public/datastar.js'), $res->getBody());
        self::assertSame('public, max-age=3600, must-revalidate', $res->getHeader('cache-control'));
        $etag = $res->getHeader('etag');
        self::assertSame(1, preg_match('#^W/"[0-9a-f]{16}"$#', (string) $etag), (string) $etag);
        self::assertSame($etag, self::get($app, '/datastar.js')->getHeader('etag'), 'stable');
        self::assertNotSame($etag, self::get($app, '/via.css')->getHeader('etag'));
    }

    public function testConditionalGetAnswers304(): void
    {
        $app = self::app();
        $etag = (string) self::get($app, '/datastar.js')->getHeader('etag');
        $strong = substr($etag, 2);
        foreach ([$etag, $strong, '*', '"nope", ' . $etag, 'W/"nope" , ' . $strong] as $inm) {
            $res = self::get($app, '/datastar.js', ['If-None-Match' => $inm]);
            self::assertSame(304, $res->getStatus(), $inm);
            self::assertSame('', $res->getBody(), $inm);
            self::assertNull($res->getHeader('content-type'), $inm);
            self::assertSame($etag, $res->getHeader('etag'));
        }
        self::assertSame(200, self::get($app, '/datastar.js', ['If-None-Match' => 'W/"0000000000000000"'])->getStatus());
    }

    public function testCssAndDevModeCacheControl(): void
    {
        $app = self::app(self::config()->withDevMode());
        $res = self::get($app, '/via.css');
        self::assertSame(200, $res->getStatus());
        self::assertSame('text/css; charset=utf-8', $res->getHeader('content-type'));
        self::assertSame('no-cache', $res->getHeader('cache-control'));
        self::assertSame(file_get_contents(dirname(__DIR__) . '/public/via.css'), $res->getBody());
    }

    // ---- /_stats ------------------------------------------------------------------------

    public function testStatsOnlyInDevMode(): void
    {
        self::assertSame(404, self::get(self::app(), '/_stats')->getStatus());
        $res = self::get(self::app(self::config()->withDevMode()), '/_stats');
        self::assertSame(200, $res->getStatus());
        self::assertSame('application/json', $res->getHeader('content-type'));
        $body = json_decode($res->getBody(), true, 512, JSON_THROW_ON_ERROR);
        self::assertSame(0, $body['contexts']);
        self::assertArrayHasKey('render_stats', $body);
        self::assertArrayHasKey('peak', $body['memory']);
    }

    // ---- broadcasts -----------------------------------------------------------------

    /** @return array{0: \Via\Framework\Tests\Support\TestVia, 1: SpyBroker, 2: array<string, array{0: string, 1: \Via\Response}>} */
    private function tabs(): array
    {
        $broker = new SpyBroker();
        $app = self::app(self::config()->withBroker($broker));
        foreach (['/a', '/b'] as $route) {
            $app->page($route, function (Context $ctx) use ($route): void {
                $ctx->addScope('room:' . substr($route, 1));
                $ctx->view(fn () => '<main id="m">' . $route . '</main>', cacheUpdates: false);
            });
        }
        $tabs = [];
        $sid = null;
        foreach (['a1' => '/a', 'a2' => '/a', 'b1' => '/b'] as $name => $route) {
            [, $ctxId, $sid] = self::openPage($app, $route, $sid);
            $tabs[$name] = [$ctxId, self::openStream($app, $ctxId, $sid)];
        }
        return [$app, $broker, $tabs];
    }

    /**
     * @param array<string, array{0: string, 1: \Via\Response}> $tabs
     * @return list<string> the tabs that got a patch while $fn ran
     */
    private static function reached(array $tabs, callable $fn): array
    {
        $before = array_map(fn (array $t) => strlen($t[1]->getBody()), $tabs);
        $fn();
        self::drain();
        return array_keys(array_filter($tabs, fn (array $t, string $name) => strlen($t[1]->getBody()) > $before[$name], ARRAY_FILTER_USE_BOTH));
    }

    public function testBroadcastFanOut(): void
    {
        [$app, $broker, $tabs] = $this->tabs();
        self::assertSame(['a1', 'a2', 'b1'], self::reached($tabs, fn () => $app->broadcast(Scope::GLOBAL)));
        self::assertSame(['a1', 'a2', 'b1'], self::reached($tabs, fn () => $app->broadcast(Scope::ROUTE)));
        self::assertSame(['a1', 'a2'], self::reached($tabs, fn () => $app->broadcast('route:/a')));
        self::assertSame(['b1'], self::reached($tabs, fn () => $app->broadcast('room:b')));
        self::assertSame(['a1', 'a2', 'b1'], self::reached($tabs, fn () => $app->broadcast('room:*')));
        self::assertSame([], self::reached($tabs, fn () => $app->broadcast('room:c')));
        self::assertSame(['global', 'route', 'route:/a', 'room:b', 'room:*', 'room:c'], $broker->published);
    }

    public function testTabIsNeverPublished(): void
    {
        [$app, $broker, $tabs] = $this->tabs();
        self::assertSame(['a1', 'a2', 'b1'], self::reached($tabs, fn () => $app->broadcast(Scope::TAB)));
        self::assertSame([], $broker->published);
    }

    public function testSessionBroadcastReachesTheSessionsTabs(): void
    {
        [$app, , $tabs] = $this->tabs();
        $sid = $app->contexts[$tabs['a1'][0]]->getSessionId();
        foreach ($tabs as [$ctxId]) {
            $app->contexts[$ctxId]->addScope(Scope::SESSION);
        }
        self::assertSame(['a1', 'a2', 'b1'], self::reached($tabs, fn () => $app->broadcast("session:$sid")));
        self::assertSame([], self::reached($tabs, fn () => $app->broadcast('session:ffffffffffffffffffffffffffffffff')));
    }

    public function testScopesFromOtherNodesAreValidatedAndNotRepublished(): void
    {
        [$app, $broker, $tabs] = $this->tabs();
        self::assertSame(['b1'], self::reached($tabs, fn () => $broker->deliver('room:b')));
        self::assertSame([], self::reached($tabs, fn () => $broker->deliver(Scope::TAB)));
        self::assertSame([], self::reached($tabs, fn () => $broker->deliver('*')));
        self::assertSame([], self::reached($tabs, fn () => $broker->deliver("room:b\nx")));
        self::assertSame([], $broker->published);
    }

    public function testAFailingPublishIsLogged(): void
    {
        $broker = new class () implements \Via\Framework\Broker\MessageBroker {
            public function connect(): void
            {
            }

            public function disconnect(): void
            {
            }

            public function publish(string $scope): void
            {
                throw new \RuntimeException('broker down');
            }

            public function subscribe(callable $handler): void
            {
            }

            public function getNodeId(): string
            {
                return 'x';
            }

            public function isConnected(): bool
            {
                return false;
            }
        };
        $app = self::app(self::config()->withBroker($broker));
        $app->broadcast('room:1');
        self::assertTrue($app->hasLogged('error', 'broker down'));
    }

    // ---- state ------------------------------------------------------------------------

    public function testGlobalState(): void
    {
        $app = self::app();
        self::assertSame('d', $app->globalState('k', 'd'));
        $app->setGlobalState('k', null);
        self::assertNull($app->globalState('k', 'd'), 'a stored null is a value');
        $app->setGlobalState('k', [1]);
        self::assertSame([1], $app->globalState('k'));
        $long = str_repeat('k', 100);
        $app->setGlobalState($long, 'long keys are hashed');
        self::assertSame('long keys are hashed', $app->globalState($long));
        self::assertNull($app->globalState(str_repeat('k', 99)));
    }

    public function testGlobalStateTooLargeOrFullIsAnOverflowNothingTruncated(): void
    {
        $app = new Via((new Config())->withGlobalStateTableSize(2, 64));
        $app->setGlobalState('a', str_repeat('x', 40));
        try {
            $app->setGlobalState('a', str_repeat('x', 100));
            self::fail('no exception');
        } catch (\OverflowException $e) {
            self::assertStringContainsString('over the 64 bytes', $e->getMessage());
        }
        self::assertSame(str_repeat('x', 40), $app->globalState('a'), 'the old value stays whole');
        $app->setGlobalState('b', 1);
        $this->expectException(\OverflowException::class);
        $app->setGlobalState('c', 1);
    }

    public function testSessionDataIsPerSession(): void
    {
        $app = self::app();
        $app->setSessionData('s1', 'k', 1);
        $app->setSessionData('s2', 'k', 2);
        self::assertSame(1, $app->getSessionData('s1', 'k'));
        $app->clearSessionData('s1');
        self::assertSame('d', $app->getSessionData('s1', 'k', 'd'));
        self::assertSame(2, $app->getSessionData('s2', 'k'));
    }

    public function testReadSignals(): void
    {
        self::assertSame(['a' => 1], Via::readSignals(self::request('GET', '/x?datastar=%7B%22a%22%3A1%7D')));
        self::assertSame([], Via::readSignals(self::request('GET', '/x?datastar=%7B')), 'malformed reads as none');
    }

    public function testRunGcCycleIsCounted(): void
    {
        $app = self::app();
        $app->runGcCycle();
        self::assertSame(1, $app->getStats()['gc_runs']);
    }

    public function testMiddlewareMustBeMiddleware(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        self::app()->middleware(new \stdClass());
    }

    public function testGroupNeedsACallable(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        self::app()->group('/admin');
    }
}
