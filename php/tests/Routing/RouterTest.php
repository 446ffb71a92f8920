<?php

declare(strict_types=1);

namespace Via\Framework\Tests\Routing;

use Via\Framework\Context;
use Via\Framework\Http\ViaMiddleware;
use Via\Framework\Routing\RouteDefinition;
use Via\Framework\Routing\Router;
use Via\Framework\Tests\Support\AppTestCase;

final class RouterTest extends AppTestCase
{
    public function testExactAndParameterisedRoutes(): void
    {
        $r = new Router();
        $home = $r->add('/', fn () => null);
        $user = $r->add('/users/{id}', fn () => null);
        $post = $r->add('/users/{id}/posts/{slug}', fn () => null);
        self::assertSame([$home, []], $r->match('/'));
        self::assertSame([$user, ['id' => '42']], $r->match('/users/42'));
        self::assertSame([$post, ['id' => '1', 'slug' => 'hello-world']], $r->match('/users/1/posts/hello-world'));
        self::assertSame(['id', 'slug'], $post->paramNames());
        self::assertNull($r->match('/users'));
        self::assertNull($r->match('/users/'), 'a parameter is never empty');
        self::assertNull($r->match('/users/1/2'), 'a parameter does not span a slash');
        self::assertNull($r->match('/users/1/'), 'no trailing-slash normalisation');
        self::assertNull($r->match(''));
    }

    public function testParametersArePercentDecoded(): void
    {
        $r = new Router();
        $r->add('/tags/{tag}', fn () => null);
        self::assertSame(['tag' => 'a b/c'], $r->match('/tags/a%20b%2Fc')[1]);
    }

    public function testPatternCharactersAreLiteral(): void
    {
        $r = new Router();
        $r->add('/a.b', fn () => null);
        $r->add('/(x)', fn () => null);
        self::assertNull($r->match('/aXb'));
        self::assertNotNull($r->match('/a.b'));
        self::assertNotNull($r->match('/(x)'));
        self::assertNull((new RouteDefinition('/f/{n}.json', fn () => null))->match('/f/1xjson'));
        self::assertSame(['n' => '1'], (new RouteDefinition('/f/{n}.json', fn () => null))->match('/f/1.json'));
        self::assertNull((new RouteDefinition('/f/{n}.json', fn () => null))->match("/f/1.json\n"), 'anchored at the very end');
    }

    public function testTheFirstMatchWins(): void
    {
        $r = new Router();
        $param = $r->add('/users/{id}', fn () => null);
        $r->add('/users/me', fn () => null);
        self::assertSame($param, $r->match('/users/me')[0]);
    }

    public function testRoutesStartWithASlash(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        (new Router())->add('users', fn () => null);
    }

    public function testGroupsPrefixTheirRoutes(): void
    {
        $r = new Router();
        $group = $r->group('/admin/', function () use ($r): void {
            $r->add('/', fn () => null);
            $r->add('', fn () => null);
            $r->add('users', fn () => null);
            $r->add('/users/{id}', fn () => null);
        });
        self::assertSame(['/admin', '/admin', '/admin/users', '/admin/users/{id}'], array_map(fn (RouteDefinition $d) => $d->pattern, $group->routes()));
        $r->add('/after', fn () => null);
        self::assertSame('/after', $r->find('/after')->pattern, 'the prefix ends with the group');
        self::assertNotNull($r->match('/admin/users/3'));
    }

    public function testNestedGroups(): void
    {
        $r = new Router();
        $inner = null;
        $outer = $r->group('/a', function () use ($r, &$inner): void {
            $r->add('/x', fn () => null);
            $inner = $r->group('b', function () use ($r): void {
                $r->add('/y', fn () => null);
            });
        });
        self::assertSame(['/a/x', '/a/b/y'], array_map(fn (RouteDefinition $d) => $d->pattern, $outer->routes()));
        self::assertSame(['/a/b/y'], array_map(fn (RouteDefinition $d) => $d->pattern, $inner->routes()));
    }

    public function testRootAndEmptyPrefixesAddNothing(): void
    {
        $r = new Router();
        $root = $r->group('/', function () use ($r): void {
            $r->add('/x', fn () => null);
            $r->add('/', fn () => null);
        });
        $none = $r->group('', function () use ($r): void {
            $r->add('/y', fn () => null);
        });
        self::assertSame(['/x', '/'], array_map(fn (RouteDefinition $d) => $d->pattern, $root->routes()));
        self::assertSame(['/y'], array_map(fn (RouteDefinition $d) => $d->pattern, $none->routes()));
        self::assertNotNull($r->match('/x'));
    }

    public function testAGroupThatThrowsDoesNotLeakItsPrefix(): void
    {
        $r = new Router();
        try {
            $r->group('/broken', function (): void {
                throw new \RuntimeException('x');
            });
        } catch (\RuntimeException) {
        }
        self::assertSame('/ok', $r->add('/ok', fn () => null)->pattern);
    }

    public function testGroupMiddlewareGoesToEachRouteOfTheGroup(): void
    {
        $r = new Router();
        $m = new class () implements ViaMiddleware {
            public function process(\Via\Request $request, \Via\Response $response, callable $next): void
            {
                $next($request);
            }
        };
        $outside = $r->add('/out', fn () => null);
        $group = $r->group('/g', function () use ($r): void {
            $r->add('/a', fn () => null);
        })->middleware($m);
        self::assertSame([$m], $group->routes()[0]->getMiddleware());
        self::assertSame([], $outside->getMiddleware());
    }

    public function testRouteMiddlewareMustBeMiddleware(): void
    {
        $route = new RouteDefinition('/x', fn () => null);
        $this->expectException(\InvalidArgumentException::class);
        // A closure is an object, but not middleware: accepting it would skip it silently.
        $route->middleware(fn (\Via\Request $r, callable $next) => $next($r));
    }

    public function testInvokeInjectsContextParametersDefaultsAndNulls(): void
    {
        $ctx = new Context('/x_/1', '/x', self::app(), null, null);
        $seen = null;
        $handler = function (string $slug, Context $c, int $id, float $price, bool $flag, ?string $maybe, string $absent, int $dflt = 7) use (&$seen): string {
            $seen = func_get_args();
            return 'ret';
        };
        $ret = Router::invoke($handler, $ctx, ['id' => '42abc', 'slug' => 'hi', 'price' => '2.5', 'flag' => 'yes']);
        self::assertSame('ret', $ret);
        self::assertSame(['hi', $ctx, 42, 2.5, true, null, '', 7], $seen);
    }

    public function testInvokeWorksWithAnyCallable(): void
    {
        $ctx = new Context('/x_/1', '/x', self::app(), null, null);
        self::assertSame('/x', Router::invoke([new class () {
            public function __invoke(Context $c): string
            {
                return $c->getRoute();
            }
        }, '__invoke'], $ctx, []));
        self::assertSame('5', Router::invoke('strval', $ctx, ['value' => '5']));
    }

    /** @return iterable<string, array{string, ?string, mixed}> */
    public static function casts(): iterable
    {
        yield 'int' => ['12', 'int', 12];
        yield 'int of junk' => ['x', 'int', 0];
        yield 'float' => ['1.5', 'float', 1.5];
        yield 'bool true' => ['TRUE', 'bool', true];
        yield 'bool on' => ['on', 'bool', true];
        yield 'bool 0' => ['0', 'bool', false];
        yield 'bool other' => ['maybe', 'bool', false];
        yield 'string' => ['x', 'string', 'x'];
        yield 'untyped' => ['x', null, 'x'];
    }

    /** @dataProvider casts */
    public function testCast(string $value, ?string $type, mixed $expected): void
    {
        self::assertSame($expected, Router::cast($value, $type));
    }

    public function testPagesThroughTheApp(): void
    {
        $app = self::app();
        $app->page('/users/{id}', function (Context $ctx, int $id): void {
            $ctx->view(fn () => '<main id="u">' . var_export($id, true) . ' ' . $ctx->getPathParam('id') . '</main>');
        });
        $app->group('/shop', function () use ($app): void {
            $app->page('/', fn (Context $ctx) => $ctx->view(fn () => '<main id="shop">shop</main>'));
        });
        self::assertStringContainsString('<main id="u">42 42</main>', self::get($app, '/users/42?x=1')->getBody());
        self::assertStringContainsString('<main id="shop">shop</main>', self::get($app, '/shop')->getBody());
        self::assertSame(404, self::get($app, '/shop/')->getStatus());
        $ids = array_keys($app->contexts);
        self::assertStringStartsWith('/users/{id}_/', $ids[0], 'the context id carries the route pattern');
    }
}
