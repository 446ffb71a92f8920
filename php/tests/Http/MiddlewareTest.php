<?php

declare(strict_types=1);

namespace Via\Framework\Tests\Http;

use Nyholm\Psr7\Factory\Psr17Factory;
use Psr\Http\Message\ResponseInterface;
use Psr\Http\Message\ServerRequestInterface;
use Psr\Http\Server\MiddlewareInterface;
use Psr\Http\Server\RequestHandlerInterface;
use Via\Framework\Context;
use Via\Framework\Http\Middleware;
use Via\Framework\Http\SseAwareMiddleware;
use Via\Framework\Http\ViaMiddleware;
use Via\Framework\Tests\Support\AppTestCase;
use Via\Framework\Tests\Support\TestVia;

/** Records its passage and adds an attribute (ViaMiddleware). */
final class TraceMiddleware implements ViaMiddleware
{
    /** @param \ArrayObject<int, string> $log */
    public function __construct(private readonly string $name, private readonly \ArrayObject $log)
    {
    }

    public function process(\Via\Request $request, \Via\Response $response, callable $next): void
    {
        $this->log[] = "{$this->name} in";
        $next($request, [$this->name => true, 'last' => $this->name]);
        $this->log[] = "{$this->name} out";
    }
}

final class SseTraceMiddleware implements ViaMiddleware, SseAwareMiddleware
{
    /** @param \ArrayObject<int, string> $log */
    public function __construct(private readonly \ArrayObject $log)
    {
    }

    public function process(\Via\Request $request, \Via\Response $response, callable $next): void
    {
        $this->log[] = 'sse-aware ' . $request->path();
        $next($request);
    }
}

/** Answers by itself (a login wall). */
final class WallMiddleware implements ViaMiddleware
{
    public function process(\Via\Request $request, \Via\Response $response, callable $next): void
    {
        if ($request->cookie('user') === null) {
            $response->redirect('/login');
            return;
        }
        $next($request, ['user' => $request->cookie('user')]);
    }
}

/** PSR-15: records, sets an attribute, sees the request type. */
final class PsrTrace implements MiddlewareInterface
{
    /** @param \ArrayObject<int, string> $log */
    public function __construct(private readonly string $name, private readonly \ArrayObject $log)
    {
    }

    public function process(ServerRequestInterface $request, RequestHandlerInterface $handler): ResponseInterface
    {
        $this->log[] = "{$this->name} in " . $request->getAttribute('via.request_type') . ' ' . $request->getUri()->getPath()
            . ($request->getAttribute('via.request') instanceof \Via\Request ? ' +req' : '');
        $response = $handler->handle($request->withAttribute($this->name, 'psr')->withAttribute('seen', $request->getAttributes()));
        $this->log[] = "{$this->name} out";
        return $response;
    }
}

/** PSR-15 that answers without calling the handler. */
final class PsrTeapot implements MiddlewareInterface
{
    public function process(ServerRequestInterface $request, RequestHandlerInterface $handler): ResponseInterface
    {
        return (new Psr17Factory())->createResponse(418)
            ->withHeader('X-Teapot', ['a', 'b'])
            ->withBody((new Psr17Factory())->createStream('short and stout'));
    }
}

final class MiddlewareTest extends AppTestCase
{
    /** @var \ArrayObject<int, string> */
    private \ArrayObject $log;

    protected function setUp(): void
    {
        $this->log = new \ArrayObject();
    }

    /** @return array{0: TestVia, 1: \ArrayObject<string, mixed>} an app whose page "/" records its request attributes */
    private function app2(): array
    {
        $app = self::app();
        $seen = new \ArrayObject();
        $app->page('/', function (Context $ctx) use ($seen): void {
            $this->log[] = 'page';
            $seen->exchangeArray($ctx->getRequestAttributes());
            $ctx->action(fn () => $this->log[] = 'action', 'go');
            $ctx->view(fn () => '<main id="m"></main>');
        });
        return [$app, $seen];
    }

    public function testOnionOrderAndAttributes(): void
    {
        [$app, $seen] = $this->app2();
        $app->middleware(new TraceMiddleware('outer', $this->log), new TraceMiddleware('inner', $this->log));
        self::openPage($app);
        self::assertSame(['outer in', 'inner in', 'page', 'inner out', 'outer out'], $this->log->getArrayCopy());
        self::assertSame(['outer' => true, 'last' => 'inner', 'inner' => true], $seen->getArrayCopy());
        $ctx = array_values($app->contexts)[0];
        self::assertTrue($ctx->getRequestAttribute('outer'));
        self::assertSame('inner', $ctx->getRequestAttribute('last'), 'the inner one wins');
    }

    public function testRouteMiddlewareRunsInsideTheGlobalOnPagesOnly(): void
    {
        [$app] = $this->app2();
        $app->middleware(new TraceMiddleware('global', $this->log));
        $app->page('/r', fn (Context $ctx) => $this->log[] = 'r page')->middleware(new TraceMiddleware('route', $this->log));
        self::openPage($app, '/r');
        self::assertSame(['global in', 'route in', 'r page', 'route out', 'global out'], $this->log->getArrayCopy());

        $this->log->exchangeArray([]);
        [, $ctxId, $sid] = self::openPage($app);
        $this->log->exchangeArray([]);
        self::assertSame(200, self::postAction($app, 'go', $ctxId, $sid)->getStatus());
        self::assertSame(['global in', 'action', 'global out'], $this->log->getArrayCopy(), 'actions: global middleware only');
    }

    public function testGroupMiddlewareAppliesToTheGroupsPages(): void
    {
        [$app] = $this->app2();
        $app->group('/admin', function () use ($app): void {
            $app->page('/', fn () => $this->log[] = 'admin');
        })->middleware(new WallMiddleware());
        $res = self::get($app, '/admin');
        self::assertSame(302, $res->getStatus());
        self::assertSame('/login', $res->getHeader('location'));
        self::assertSame([], $this->log->getArrayCopy());
        self::assertSame([], $app->contexts);
        self::assertArrayNotHasKey('set-cookie', $res->getHeaders());

        $ok = self::get($app, '/admin', ['Cookie' => 'user=ann']);
        self::assertSame(200, $ok->getStatus());
        self::assertSame(['admin'], $this->log->getArrayCopy());
        self::assertSame('ann', array_values($app->contexts)[0]->getRequestAttribute('user'));
        self::assertSame(200, self::get($app, '/')->getStatus(), 'outside the group');
    }

    public function testAMiddlewareAnsweringStopsAnAction(): void
    {
        [$app] = $this->app2();
        [, $ctxId, $sid] = self::openPage($app);
        $app->middleware(new WallMiddleware());
        $res = self::postAction($app, 'go', $ctxId, $sid);
        self::assertSame(302, $res->getStatus());
        self::assertNotContains('action', $this->log->getArrayCopy());
    }

    public function testOnlySseAwareMiddlewareRunsOnTheStream(): void
    {
        [$app] = $this->app2();
        [, $ctxId, $sid] = self::openPage($app);
        $this->log->exchangeArray([]);
        $app->middleware(new TraceMiddleware('plain', $this->log), new SseTraceMiddleware($this->log), new WallMiddleware());
        $res = self::openStream($app, $ctxId, $sid);
        self::assertSame(200, $res->getStatus(), 'the wall is not SSE-aware');
        self::assertSame(['sse-aware /_sse'], $this->log->getArrayCopy());
    }

    public function testPsr15MiddlewareWrapsThePage(): void
    {
        [$app, $seen] = $this->app2();
        $app->middleware(new PsrTrace('psr1', $this->log), new TraceMiddleware('via', $this->log), new PsrTrace('psr2', $this->log));
        self::openPage($app, '/');
        self::assertSame(['psr1 in page / +req', 'via in', 'psr2 in page / +req', 'page', 'psr2 out', 'via out', 'psr1 out'], $this->log->getArrayCopy());
        $attributes = $seen->getArrayCopy();
        self::assertSame('psr', $attributes['psr1']);
        self::assertSame('psr', $attributes['psr2']);
        self::assertTrue($attributes['via']);
        self::assertArrayNotHasKey('via.request', $attributes);
        self::assertArrayNotHasKey('via.request_type', $attributes);
        self::assertArrayHasKey('via', $attributes['seen'], 'psr2 saw what the ViaMiddleware before it added');
    }

    public function testPsr15SeesTheRequestType(): void
    {
        [$app] = $this->app2();
        [, $ctxId, $sid] = self::openPage($app);
        $this->log->exchangeArray([]);
        $app->middleware(new PsrTrace('p', $this->log));
        self::postAction($app, 'go', $ctxId, $sid);
        self::assertSame('p in action /_action/go +req', $this->log[0]);
    }

    public function testPsr15RequestCarriesTheViaRequest(): void
    {
        $req = self::request('POST', '/a/b?x=1', ['Cookie' => 'k=v', 'X-Test' => 'yes', 'Content-Type' => 'application/x-www-form-urlencoded'], 'f=2');
        $psr = \Via\Framework\Http\PsrHandler::request($req, 'page', ['pre' => 1]);
        self::assertSame('POST', $psr->getMethod());
        self::assertSame('http://app.test/a/b?x=1', (string) $psr->getUri());
        self::assertSame(['k' => 'v'], $psr->getCookieParams());
        self::assertSame(['x' => '1'], $psr->getQueryParams());
        self::assertSame(['f' => '2'], $psr->getParsedBody());
        self::assertSame('f=2', (string) $psr->getBody());
        self::assertSame('yes', $psr->getHeaderLine('x-test'));
        self::assertSame($req, $psr->getAttribute('via.request'));
        self::assertSame('page', $psr->getAttribute('via.request_type'));
        self::assertSame(1, $psr->getAttribute('pre'));
    }

    public function testPsr15AnsweringIsEmitted(): void
    {
        [$app] = $this->app2();
        $app->middleware(new PsrTrace('outer', $this->log), new PsrTeapot());
        $res = self::get($app, '/');
        self::assertSame(418, $res->getStatus());
        self::assertSame('short and stout', $res->getBody());
        self::assertSame(['a', 'b'], $res->getHeaders()['x-teapot']);
        self::assertNotContains('page', $this->log->getArrayCopy());
        self::assertSame([], $app->contexts);
    }

    public function testPsr15OnlyWhenSseAwareOnTheStream(): void
    {
        [$app] = $this->app2();
        [, $ctxId, $sid] = self::openPage($app);
        $app->middleware(new PsrTeapot());
        self::assertSame(200, self::openStream($app, $ctxId, $sid)->getStatus());
        self::assertSame(418, self::get($app, '/')->getStatus());
    }

    public function testTheStackWithoutMiddlewareCallsTheHandler(): void
    {
        $called = [];
        Middleware::run([], self::request('GET', '/'), new \Via\Response(), 'page', function (\Via\Request $r, array $attributes) use (&$called): void {
            $called[] = $attributes;
        });
        self::assertSame([[]], $called);
    }

    public function testCheck(): void
    {
        Middleware::check(new WallMiddleware());
        Middleware::check(new PsrTeapot());
        self::assertTrue(Middleware::isSseAware(new SseTraceMiddleware($this->log)));
        self::assertFalse(Middleware::isSseAware(new WallMiddleware()));
        $this->expectException(\InvalidArgumentException::class);
        Middleware::check(new \ArrayObject());
    }
}
