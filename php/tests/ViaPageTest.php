<?php

declare(strict_types=1);

namespace Via\Framework\Tests;

use Via\Framework\Context;
use Via\Framework\Tests\Support\AppTestCase;

/** Page GETs through Via::handle(): the shell, the session cookie, failures. */
final class ViaPageTest extends AppTestCase
{
    public function testPageAnswersTheShellWithTheContext(): void
    {
        $app = self::app();
        $app->page('/', function (Context $ctx): void {
            $ctx->view(fn () => '<main id="hello">Hello</main>');
        });
        [$res, $ctxId, $sid] = self::openPage($app);
        $html = $res->getBody();
        self::assertSame('text/html; charset=utf-8', $res->getHeader('content-type'));
        self::assertStringStartsWith('<!DOCTYPE html>', $html);
        self::assertStringContainsString('<main id="hello">Hello</main>', $html);
        self::assertStringContainsString('<script type="module" src="/datastar.js"></script>', $html);
        self::assertStringContainsString("@get('/_sse')", $html);
        self::assertStringContainsString("navigator.sendBeacon('/_session/close', '" . htmlspecialchars($ctxId, ENT_QUOTES) . "')", $html);
        self::assertSame(1, preg_match('#^/_/[0-9a-f]{16}$#', $ctxId), $ctxId);
        self::assertSame(1, preg_match('/^[0-9a-f]{32}$/', $sid));
        self::assertArrayHasKey($ctxId, $app->contexts);
        self::assertSame($sid, $app->contextSessions[$ctxId]);
        self::assertSame($sid, $app->contexts[$ctxId]->getSessionId());
        self::assertSame([$app->contexts[$ctxId]], $app->getContextsByScope('tab'));
    }

    public function testShellSeedsDisconnectedAndUsesTheBasePath(): void
    {
        $app = self::app(self::config()->withBasePath('/app'));
        $app->page('/', fn (Context $ctx) => $ctx->view(fn () => '<main id="m"></main>'));
        [$res] = self::openPage($app);
        $html = $res->getBody();
        self::assertSame(1, preg_match('/data-signals="([^"]*)"/', $html, $m));
        $signals = json_decode(html_entity_decode($m[1], ENT_QUOTES), true);
        self::assertSame(['via_ctx', '_disconnected'], array_keys($signals));
        self::assertFalse($signals['_disconnected']);
        self::assertStringContainsString('href="/app/via.css"', $html);
        self::assertStringContainsString('src="/app/datastar.js"', $html);
        self::assertStringContainsString("@get('/app/_sse')", $html);
    }

    public function testEveryPageGetsANewContextAndAKnownSessionIsKept(): void
    {
        $app = self::app();
        $app->page('/', fn (Context $ctx) => $ctx->view(fn () => '<main id="m"></main>'));
        [, $a, $sid] = self::openPage($app);
        [, $b, $sid2] = self::openPage($app, '/', $sid);
        self::assertNotSame($a, $b);
        self::assertSame($sid, $sid2);
        [, , $other] = self::openPage($app);
        self::assertNotSame($sid, $other, 'no cookie, a new session');
        self::assertCount(3, $app->contexts);
    }

    public function testMalformedSessionCookieIsReplaced(): void
    {
        $app = self::app();
        $app->page('/', fn (Context $ctx) => null);
        foreach (['short', str_repeat('A', 32), "0123456789abcdef0123456789abcdef\n", '0123456789abcdef0123456789abcdef0'] as $bad) {
            [, , $sid] = self::openPage($app, '/', rawurlencode($bad));
            self::assertNotSame($bad, $sid);
            self::assertSame(1, preg_match('/^[0-9a-f]{32}$/D', $sid), 'a fresh id for ' . json_encode($bad));
        }
    }

    public function testSessionCookieAttributes(): void
    {
        $app = self::app();
        $app->page('/', fn (Context $ctx) => null);
        [$res, , $sid] = self::openPage($app);
        $cookie = self::setCookies($res)['via_session_id'];
        self::assertSame($sid, $cookie['value']);
        $attributes = array_map('trim', explode(';', $cookie['attributes']));
        self::assertContains('Max-Age=2592000', $attributes);
        self::assertContains('Path=/', $attributes);
        self::assertContains('HttpOnly', $attributes);
        self::assertContains('SameSite=Lax', $attributes);
        self::assertNotContains('Secure', $attributes);
        self::assertNotContains('Partitioned', $attributes);
        self::assertNull($res->getHeader('content-security-policy'));
    }

    public function testSecureCookieIsHostPrefixedAndFallsBackToThePlainName(): void
    {
        $app = self::app(self::config()->withSecureCookie());
        $app->page('/', fn (Context $ctx) => null);
        [$res, $ctxId, $sid] = self::openPage($app);
        $cookies = self::setCookies($res);
        self::assertSame(['__Host-via_session_id'], array_keys($cookies));
        self::assertStringContainsString('Secure', $cookies['__Host-via_session_id']['attributes']);
        self::assertStringContainsString('SameSite=Lax', $cookies['__Host-via_session_id']['attributes']);

        // An HTTP → HTTPS migration: the plain cookie is still honoured.
        [, , $kept] = self::openPage($app, '/', $sid, 'via_session_id');
        self::assertSame($sid, $kept);
        [, , $same] = self::openPage($app, '/', $sid, '__Host-via_session_id');
        self::assertSame($sid, $same);
    }

    public function testEmbeddableCookieAndFrameAncestors(): void
    {
        $app = self::app(self::config()->withEmbeddable(["'self'", 'https://host.example']));
        $app->page('/', fn (Context $ctx) => null);
        [$res] = self::openPage($app);
        $cookie = self::setCookies($res)['__Host-via_session_id'];
        $attributes = array_map('trim', explode(';', $cookie['attributes']));
        self::assertContains('SameSite=None', $attributes);
        self::assertContains('Secure', $attributes);
        self::assertContains('Partitioned', $attributes);
        self::assertSame("frame-ancestors 'self' https://host.example", $res->getHeader('content-security-policy'));
    }

    public function testEmbeddableWithoutPartitionOrAncestors(): void
    {
        $app = self::app(self::config()->withEmbeddable(null, false));
        $app->page('/', fn (Context $ctx) => null);
        [$res] = self::openPage($app);
        $attributes = self::setCookies($res)['__Host-via_session_id']['attributes'];
        self::assertStringContainsString('SameSite=None', $attributes);
        self::assertStringNotContainsString('Partitioned', $attributes);
        self::assertNull($res->getHeader('content-security-policy'));
    }

    public function testCookiesQueuedByThePageAreSent(): void
    {
        $app = self::app();
        $app->page('/', function (Context $ctx): void {
            $ctx->setCookie('theme', 'dark');
        });
        [$res] = self::openPage($app);
        $cookies = self::setCookies($res);
        self::assertSame(['via_session_id', 'theme'], array_keys($cookies), 'the session cookie first');
        self::assertSame('dark', $cookies['theme']['value']);
    }

    public function testAThrowingHandlerAnswers500AndRegistersNothing(): void
    {
        $app = self::app();
        $cleaned = false;
        $app->page('/', function (Context $ctx) use (&$cleaned): void {
            $ctx->onCleanup(function () use (&$cleaned): void {
                $cleaned = true;
            });
            throw new \LogicException('broken page');
        });
        $res = self::get($app, '/');
        self::assertSame(500, $res->getStatus());
        self::assertSame('Internal Server Error', $res->getBody());
        self::assertSame([], $app->contexts);
        self::assertSame([], $app->contextSessions);
        self::assertCount(0, $app->getContextsByScope('tab'));
        self::assertArrayNotHasKey('set-cookie', $res->getHeaders());
        self::assertTrue($cleaned, 'the half-built context is cleaned up');
        self::assertTrue($app->hasLogged('error', 'broken page'));
    }

    public function testAThrowingHandlerLeavesNoScopedState(): void
    {
        $app = self::app();
        $app->page('/rooms/{id}', function (Context $ctx, string $id): void {
            $ctx->signal(0, 'n', 'room:' . $id);
            $ctx->action(fn () => null, 'go', 'room:' . $id);
            if ($id !== 'ok') {
                throw new \InvalidArgumentException('no such room');
            }
        });
        [, $ctxId] = self::openPage($app, '/rooms/ok');
        self::assertSame(500, self::get($app, '/rooms/x1')->getStatus());
        self::assertSame([], $app->getScopedSignals('room:x1'));
        self::assertNull($app->getScopedAction('room:x1', 'go'));
        self::assertCount(1, $app->getScopedSignals('room:ok'));

        // A failing tab of a scope in use leaves the scope alone.
        $app->page('/fail/{id}', function (Context $ctx, string $id): void {
            $ctx->signal(0, 'n', 'room:' . $id);
            throw new \RuntimeException('x');
        });
        self::assertSame(500, self::get($app, '/fail/ok')->getStatus());
        self::assertCount(1, $app->getScopedSignals('room:ok'));
        self::assertNotNull($app->getScopedAction('room:ok', 'go'));
        self::assertSame([$app->contexts[$ctxId]], $app->getContextsByScope('room:ok'));
    }

    public function testAThrowingViewAnswers500(): void
    {
        $app = self::app();
        $app->page('/', fn (Context $ctx) => $ctx->view(function (): string {
            throw new \TypeError('bad view');
        }));
        self::assertSame(500, self::get($app, '/')->getStatus());
        self::assertSame([], $app->contexts);
    }

    public function testAViewWithItsOwnDocumentIsSentUnchanged(): void
    {
        $app = self::app();
        $doc = '<!doctype html><html><body id="own">mine</body></html>';
        $app->page('/', fn (Context $ctx) => $ctx->view(fn () => $doc));
        $res = self::get($app, '/');
        self::assertSame($doc, $res->getBody());
        self::assertCount(1, $app->contexts);
    }

    public function testAnyMethodRendersThePage(): void
    {
        $app = self::app();
        $app->page('/form', fn (Context $ctx) => $ctx->view(fn () => '<main id="f">form</main>'));
        $res = self::send($app, self::request('POST', '/form'));
        self::assertSame(200, $res->getStatus());
        self::assertStringContainsString('<main id="f">form</main>', $res->getBody());
    }

    public function testUnknownPathIs404(): void
    {
        $app = self::app();
        $res = self::get($app, '/nope');
        self::assertSame(404, $res->getStatus());
        self::assertSame('Not Found', $res->getBody());
    }

    public function testCustomNotFoundHandler(): void
    {
        $app = self::app();
        $app->notFound(function (\Via\Request $req, \Via\Response $res): void {
            $res->status(410);
            $res->end('gone: ' . $req->path());
        });
        $res = self::get($app, '/old');
        self::assertSame(410, $res->getStatus());
        self::assertSame('gone: /old', $res->getBody());

        $app->notFound(fn (\Via\Request $req, \Via\Response $res) => $res->status(404));
        $lazy = self::get($app, '/x');
        self::assertSame(404, $lazy->getStatus());
        self::assertTrue($lazy->isEnded(), 'a handler that forgets end() is ended for it');
    }

    public function testGlobalAndContextHeadAndFoot(): void
    {
        $app = self::app();
        $app->appendToHead('<meta name="global">');
        $app->appendToFoot('<script src="/global.js"></script>');
        $app->page('/', function (Context $ctx): void {
            $ctx->appendToHead('<meta name="page">');
            $ctx->view(fn () => '<main id="m"></main>');
        });
        [$res] = self::openPage($app);
        $html = $res->getBody();
        self::assertLessThan(strpos($html, '</head>'), strpos($html, '<meta name="global">'));
        self::assertLessThan(strpos($html, '</head>'), strpos($html, '<meta name="page">'));
        self::assertLessThan(strpos($html, '<meta name="page">'), strpos($html, '<meta name="global">'));
        self::assertGreaterThan(strpos($html, '<main id="m">'), strpos($html, '<script src="/global.js">'));
    }

    public function testUnreadableShellTemplateAnswers500(): void
    {
        $app = self::app(self::config()->withShellTemplate('/nonexistent/shell.html'));
        $app->page('/', fn (Context $ctx) => null);
        self::assertSame(500, self::get($app, '/')->getStatus());
    }
}
