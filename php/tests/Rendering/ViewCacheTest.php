<?php

declare(strict_types=1);

namespace Via\Framework\Tests\Rendering;

use Via\Framework\Context;
use Via\Framework\Rendering\ViewCache;
use Via\Framework\Scope;
use Via\Framework\Tests\Support\AppTestCase;
use Via\Framework\Tests\Support\TestVia;

final class ViewCacheTest extends AppTestCase
{
    public function testGetPutInvalidate(): void
    {
        $c = new ViewCache();
        self::assertNull($c->get('room:1', '/a?'));
        $c->put('room:1', '/a?', 'a');
        $c->put('room:1', '/b?', 'b');
        $c->put('room:2', '/a?', 'c');
        self::assertSame('a', $c->get('room:1', '/a?'));
        self::assertSame('b', $c->get('room:1', '/b?'));
        self::assertSame(3, $c->count());
        $c->invalidate('room:1');
        self::assertNull($c->get('room:1', '/a?'));
        self::assertNull($c->get('room:1', '/b?'));
        self::assertSame('c', $c->get('room:2', '/a?'));
        self::assertSame(1, $c->count());
        $c->clear();
        self::assertSame(0, $c->count());
    }

    public function testPageKeys(): void
    {
        self::assertSame('/items/{id}?id=1', ViewCache::page('/items/{id}', ['id' => '1']));
        self::assertSame(ViewCache::page('/x/{a}/{b}', ['a' => '1', 'b' => '2']), ViewCache::page('/x/{a}/{b}', ['b' => '2', 'a' => '1']));
        self::assertNotSame(ViewCache::page('/items/{id}', ['id' => '1']), ViewCache::page('/items/{id}', ['id' => '2']));
        self::assertNotSame(ViewCache::page('/a', []), ViewCache::page('/b', []));
    }

    public function testRouteDropsEveryRouteEntry(): void
    {
        $c = new ViewCache();
        $c->put('route:/a', '/a?', 'a');
        $c->put('route:/b', '/b?', 'b');
        $c->put('global', '/a?', 'g');
        $c->put('router', '/a?', 'r');
        $c->invalidate('route');
        self::assertNull($c->get('route:/a', '/a?'));
        self::assertNull($c->get('route:/b', '/b?'));
        self::assertSame('g', $c->get('global', '/a?'));
        self::assertSame('r', $c->get('router', '/a?'));
    }

    public function testWildcardDropsMatchingScopes(): void
    {
        $c = new ViewCache();
        $c->put('room:1', '/r?', 'a');
        $c->put('room:2', '/r?', 'b');
        $c->put('hall:1', '/r?', 'h');
        $c->invalidate('room:*');
        self::assertSame(1, $c->count());
        self::assertSame('h', $c->get('hall:1', '/r?'));
    }

    // ---- through contexts -----------------------------------------------------------

    /** @var array<string, int> renders per route */
    private array $renders = [];

    /**
     * @param array<string, string> $routes route => primary scope
     * @return array{0: TestVia, 1: array<string, Context>}
     */
    private function pages(array $routes, bool $cacheUpdates = true, int $tabsPerRoute = 2): array
    {
        $app = self::app();
        foreach ($routes as $route => $scope) {
            $app->page($route, function (Context $ctx, string $id = '') use ($route, $scope, $cacheUpdates): void {
                $ctx->scope($scope);
                $ctx->view(function (bool $update) use ($route, $id): string {
                    $this->renders[$route] = ($this->renders[$route] ?? 0) + 1;
                    return "<main id=\"m\">$route $id " . ($update ? 'update' : 'first') . ' ' . $this->renders[$route] . '</main>';
                }, cacheUpdates: $cacheUpdates);
            });
        }
        $contexts = [];
        $sid = null;
        foreach (array_keys($routes) as $route) {
            for ($i = 1; $i <= $tabsPerRoute; $i++) {
                [, $ctxId, $sid] = self::openPage($app, str_replace('{id}', (string) $i, $route), $sid);
                self::openStream($app, $ctxId, $sid);
                $contexts["$route#$i"] = $app->contexts[$ctxId];
            }
        }
        $this->renders = [];
        $app->viewCache()->clear();
        return [$app, $contexts];
    }

    public function testAScopedUpdateRenderIsSharedUntilTheNextBroadcast(): void
    {
        [$app, $tabs] = $this->pages(['/room' => 'room:1']);
        self::assertSame('<main id="m">/room  update 1</main>', $tabs['/room#1']->renderView(true));
        self::assertSame('<main id="m">/room  update 1</main>', $tabs['/room#2']->renderView(true));
        self::assertSame(1, $this->renders['/room']);
        $app->broadcast('room:1');
        self::assertSame(2, $this->renders['/room'], 'one render for every tab of the scope');
        self::assertSame('<main id="m">/room  update 2</main>', $tabs['/room#1']->renderView(true));
        self::assertSame(2, $this->renders['/room']);
    }

    public function testFirstRendersAreNeverCached(): void
    {
        [, $tabs] = $this->pages(['/room' => 'room:1']);
        $tabs['/room#1']->renderView(true);
        self::assertStringContainsString('first', $tabs['/room#1']->renderView(false));
        self::assertSame(2, $this->renders['/room']);
    }

    public function testTabRendersAreNeverCached(): void
    {
        [, $tabs] = $this->pages(['/t' => Scope::TAB]);
        $tabs['/t#1']->renderView(true);
        $tabs['/t#1']->renderView(true);
        $tabs['/t#2']->renderView(true);
        self::assertSame(3, $this->renders['/t']);
    }

    public function testCacheUpdatesFalseRendersEveryTab(): void
    {
        [$app, $tabs] = $this->pages(['/room' => 'room:1'], false);
        $tabs['/room#1']->renderView(true);
        $tabs['/room#2']->renderView(true);
        self::assertSame(2, $this->renders['/room']);
        self::assertSame(0, $app->viewCache()->count());
    }

    public function testTwoRoutesSharingAScopeDoNotShareARender(): void
    {
        [, $tabs] = $this->pages(['/a' => Scope::GLOBAL, '/b' => Scope::GLOBAL], true, 1);
        self::assertStringContainsString('/a', $tabs['/a#1']->renderView(true));
        self::assertStringContainsString('/b', $tabs['/b#1']->renderView(true), 'not the render of /a');
    }

    public function testPathParametersDoNotShareARender(): void
    {
        [, $tabs] = $this->pages(['/items/{id}' => Scope::ROUTE]);
        self::assertStringContainsString('/items/{id} 1 update', $tabs['/items/{id}#1']->renderView(true));
        self::assertStringContainsString('/items/{id} 2 update', $tabs['/items/{id}#2']->renderView(true), 'not the render of item 1');
    }

    public function testALeftScopeDropsItsEntry(): void
    {
        $app = self::app();
        $app->page('/', function (Context $ctx): void {
            $ctx->scope('room:1');
            $ctx->view(fn () => '<main id="m"></main>');
        });
        [, $ctxId] = self::openPage($app);
        $app->contexts[$ctxId]->renderView(true);
        self::assertSame(1, $app->viewCache()->count());
        $app->destroyContext($app->contexts[$ctxId]);
        self::assertSame(0, $app->viewCache()->count());
    }

    public function testRenderStats(): void
    {
        [$app, $tabs] = $this->pages(['/room' => 'room:1']);
        $before = $app->getRenderStats();
        $tabs['/room#1']->renderView(true);
        $tabs['/room#2']->renderView(true);
        $after = $app->getRenderStats();
        self::assertSame($before['renders'] + 1, $after['renders'], 'a cache hit is no render');
        self::assertSame($before['cached_renders'] + 1, $after['cached_renders']);
    }
}
