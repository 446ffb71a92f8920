<?php

declare(strict_types=1);

namespace Via\Framework\Tests;

use Via\Framework\Context;
use Via\Framework\Http\SignalParser;
use Via\Framework\Scope;
use Via\Framework\Tests\Support\AppTestCase;
use Via\Framework\Tests\Support\TestVia;

/** POST /_action/{id} through Via::handle(): every answer of the action endpoint. */
final class ViaActionTest extends AppTestCase
{
    /** @var list<string> */
    private array $calls = [];

    /** @return array{0: TestVia, 1: string, 2: string} an app with a counter page open: app, context id, session id */
    private function counter(?\Via\Framework\Config $config = null): array
    {
        $app = self::app($config);
        $app->page('/', function (Context $ctx): void {
            $count = $ctx->signal(0, 'count');
            $ctx->action(function (Context $ctx) use ($count): void {
                $this->calls[] = 'inc';
                $count->setValue($count->int() + 1);
            }, 'inc');
            $ctx->action(function (): void {
                throw new \DomainException('nope');
            }, 'fail');
            $ctx->action(function (): void {
                throw new \TypeError('type');
            }, 'error');
            $ctx->view(fn () => '<main id="m">' . $count->int() . '</main>');
        });
        [, $ctxId, $sid] = self::openPage($app);
        return [$app, $ctxId, $sid];
    }

    public function testSuccessAnswers200WithAnEmptyBody(): void
    {
        [$app, $ctxId, $sid] = $this->counter();
        $res = self::postAction($app, 'inc', $ctxId, $sid);
        self::assertSame(200, $res->getStatus());
        self::assertSame('', $res->getBody());
        self::assertSame(['inc'], $this->calls);
        self::assertSame(1, $app->contexts[$ctxId]->getSignal('count')->getValue());
        self::assertSame(1, $app->getStats()['actions']);
    }

    public function testTheClientsSignalsAreAppliedBeforeTheAction(): void
    {
        [$app, $ctxId, $sid] = $this->counter();
        $id = $app->contexts[$ctxId]->getSignal('count')->id();
        self::postAction($app, 'inc', $ctxId, $sid, [$id => 41]);
        self::assertSame(42, $app->contexts[$ctxId]->getSignal('count')->getValue());
    }

    public function testGetIs405WithAllow(): void
    {
        [$app, $ctxId] = $this->counter();
        $res = self::get($app, '/_action/inc?datastar=' . rawurlencode(json_encode(['via_ctx' => $ctxId])));
        self::assertSame(405, $res->getStatus());
        self::assertSame('POST', $res->getHeader('allow'));
        self::assertSame('Method Not Allowed', $res->getBody());
        self::assertSame([], $this->calls);
    }

    public function testOtherMethodsRunTheAction(): void
    {
        [$app, $ctxId, $sid] = $this->counter();
        foreach (['PUT', 'PATCH', 'DELETE'] as $method) {
            $res = self::send($app, self::request($method, '/_action/inc', ['Origin' => self::ORIGIN, 'Cookie' => "via_session_id=$sid", 'Content-Type' => 'application/json'], json_encode(['via_ctx' => $ctxId])));
            self::assertSame(200, $res->getStatus(), $method);
        }
        self::assertSame(['inc', 'inc', 'inc'], $this->calls);
    }

    public function testForeignOriginIs403(): void
    {
        [$app, $ctxId, $sid] = $this->counter();
        $res = self::postAction($app, 'inc', $ctxId, $sid, [], ['Origin' => 'https://evil.example']);
        self::assertSame(403, $res->getStatus());
        self::assertSame('Forbidden: untrusted origin', $res->getBody());
        self::assertSame([], $this->calls);
    }

    public function testMissingOriginIs403OutsideDevMode(): void
    {
        [$app, $ctxId, $sid] = $this->counter();
        $req = self::request('POST', '/_action/inc', ['Cookie' => "via_session_id=$sid", 'Content-Type' => 'application/json'], json_encode(['via_ctx' => $ctxId]));
        self::assertSame(403, self::send($app, $req)->getStatus());

        [$dev, $devCtx, $devSid] = $this->counter(self::config()->withDevMode());
        $req = self::request('POST', '/_action/inc', ['Cookie' => "via_session_id=$devSid", 'Content-Type' => 'application/json'], json_encode(['via_ctx' => $devCtx]));
        self::assertSame(200, self::send($dev, $req)->getStatus());
    }

    public function testTrustedOriginsReplaceTheHostCheck(): void
    {
        [$app, $ctxId, $sid] = $this->counter(self::config()->withTrustedOrigins(['https://front.example']));
        self::assertSame(200, self::postAction($app, 'inc', $ctxId, $sid, [], ['Origin' => 'https://front.example'])->getStatus());
        self::assertSame(403, self::postAction($app, 'inc', $ctxId, $sid)->getStatus(), 'the own host is not listed');
    }

    public function testRateLimitIs429WithRetryAfter(): void
    {
        [$app, $ctxId, $sid] = $this->counter(self::config()->withActionRateLimit(2, 30));
        self::assertSame(200, self::postAction($app, 'inc', $ctxId, $sid)->getStatus());
        self::assertSame(200, self::postAction($app, 'inc', $ctxId, $sid)->getStatus());
        $res = self::postAction($app, 'inc', $ctxId, $sid);
        self::assertSame(429, $res->getStatus());
        self::assertSame('30', $res->getHeader('retry-after'));
        self::assertSame('Too Many Requests', $res->getBody());
        self::assertSame(['inc', 'inc'], $this->calls);
        // Per client IP.
        self::assertSame(200, self::postAction($app, 'inc', $ctxId, $sid, [], [], ['remote_addr' => '10.0.0.9'])->getStatus());
    }

    public function testRateLimitWindowSlides(): void
    {
        [$app, $ctxId, $sid] = $this->counter(self::config()->withActionRateLimit(2, 1));
        self::assertSame(200, self::postAction($app, 'inc', $ctxId, $sid)->getStatus());
        usleep(400_000);
        self::assertSame(200, self::postAction($app, 'inc', $ctxId, $sid)->getStatus());
        self::assertSame(429, self::postAction($app, 'inc', $ctxId, $sid)->getStatus());
        // The first action left the window, the second not yet: room for one.
        usleep(750_000);
        self::assertSame(200, self::postAction($app, 'inc', $ctxId, $sid)->getStatus());
        self::assertSame(429, self::postAction($app, 'inc', $ctxId, $sid)->getStatus());
        // Both left: room for two again.
        usleep(1_050_000);
        self::assertSame(200, self::postAction($app, 'inc', $ctxId, $sid)->getStatus());
        self::assertSame(200, self::postAction($app, 'inc', $ctxId, $sid)->getStatus());
        self::assertSame(429, self::postAction($app, 'inc', $ctxId, $sid)->getStatus());
    }

    public function testRateLimitCountsRightOnceExpiredTimesAreCutOff(): void
    {
        [$app, $ctxId, $sid] = $this->counter(self::config()->withActionRateLimit(152, 1));
        $post = fn () => self::postAction($app, 'inc', $ctxId, $sid)->getStatus();
        for ($i = 0; $i < 100; $i++) {
            self::assertSame(200, $post());
        }
        usleep(700_000);
        for ($i = 0; $i < 50; $i++) {
            self::assertSame(200, $post());
        }
        usleep(400_000);
        // The first 100 left the window (more than 64, over half of those kept: cut off),
        // the last 50 did not: room for 102 more.
        for ($i = 0; $i < 102; $i++) {
            self::assertSame(200, $post(), "action $i after the cut");
        }
        self::assertSame(429, $post());
    }

    public function testUnknownContextIs400(): void
    {
        [$app, , $sid] = $this->counter();
        $res = self::postAction($app, 'inc', '/_/0000000000000000', $sid);
        self::assertSame(400, $res->getStatus());
        self::assertSame('Invalid context', $res->getBody());
    }

    public function testMissingOrNonStringContextIs400(): void
    {
        [$app, , $sid] = $this->counter();
        foreach (['{}', '{"via_ctx":5}', '{"via_ctx":["a"]}', '[1,2]', '"x"'] as $body) {
            $res = self::send($app, self::request('POST', '/_action/inc', ['Origin' => self::ORIGIN, 'Cookie' => "via_session_id=$sid", 'Content-Type' => 'application/json'], $body));
            self::assertSame(400, $res->getStatus(), $body);
            self::assertSame('Invalid context', $res->getBody(), $body);
        }
    }

    public function testAnotherSessionIs403(): void
    {
        [$app, $ctxId] = $this->counter();
        $res = self::postAction($app, 'inc', $ctxId, 'ffffffffffffffffffffffffffffffff');
        self::assertSame(403, $res->getStatus());
        self::assertSame('Forbidden', $res->getBody());
        self::assertSame(403, self::postAction($app, 'inc', $ctxId, null)->getStatus(), 'no session cookie at all');
        self::assertSame([], $this->calls);
    }

    public function testUnknownActionIs404(): void
    {
        [$app, $ctxId, $sid] = $this->counter();
        $res = self::postAction($app, 'nope', $ctxId, $sid);
        self::assertSame(404, $res->getStatus());
        self::assertSame('Unknown action', $res->getBody());
    }

    public function testMalformedSignalsAre400(): void
    {
        [$app, $ctxId, $sid] = $this->counter();
        $res = self::send($app, self::request('POST', '/_action/inc', ['Origin' => self::ORIGIN, 'Cookie' => "via_session_id=$sid", 'Content-Type' => 'application/json'], '{"via_ctx":'));
        self::assertSame(400, $res->getStatus());
        self::assertSame('Malformed signals', $res->getBody());
        $query = self::send($app, self::request('POST', '/_action/inc?datastar=%7Bnope', ['Origin' => self::ORIGIN, 'Cookie' => "via_session_id=$sid"]));
        self::assertSame(400, $query->getStatus());
        self::assertSame([], $this->calls);
    }

    public function testOversizedSignalsAre413(): void
    {
        [$app, $ctxId, $sid] = $this->counter();
        $res = self::postAction($app, 'inc', $ctxId, $sid, ['big' => str_repeat('x', SignalParser::MAX_BYTES)]);
        self::assertSame(413, $res->getStatus());
        self::assertSame('Signals too large', $res->getBody());
        self::assertSame([], $this->calls);
    }

    public function testAThrowingActionIs500AndLogged(): void
    {
        [$app, $ctxId, $sid] = $this->counter();
        foreach (['fail' => 'nope', 'error' => 'type'] as $action => $message) {
            $res = self::postAction($app, $action, $ctxId, $sid);
            self::assertSame(500, $res->getStatus(), $action);
            self::assertSame('Action failed', $res->getBody());
            self::assertTrue($app->hasLogged('error', $message), $action);
        }
        self::assertSame(2, $app->getStats()['actions_failed']);
        self::assertSame(200, self::postAction($app, 'inc', $ctxId, $sid)->getStatus(), 'the context survives');
    }

    public function testBadInputLeavesTheContextCountAtItsBaseline(): void
    {
        [$app, $ctxId, $sid] = $this->counter();
        $baseline = count($app->contexts);
        self::postAction($app, 'inc', '/_/ffffffffffffffff', $sid);
        self::postAction($app, 'inc', $ctxId, 'ffffffffffffffffffffffffffffffff');
        self::postAction($app, 'nope', $ctxId, $sid);
        self::postAction($app, 'fail', $ctxId, $sid);
        self::send($app, self::request('POST', '/_action/inc', ['Origin' => self::ORIGIN], '{bad'));
        self::get($app, '/_action/inc');
        self::get($app, '/_sse');
        self::get($app, '/_sse?datastar=%7B%22via_ctx%22%3A%22%2F_%2Fffff%22%7D');
        self::get($app, '/_sse?datastar=%7B');
        self::send($app, self::request('POST', '/_session/close', [], 'unknown'));
        self::assertCount($baseline, $app->contexts);
        self::assertArrayHasKey($ctxId, $app->contexts);
    }

    public function testActionCookiesAreSent(): void
    {
        $app = self::app();
        $app->page('/', function (Context $ctx): void {
            $ctx->action(fn (Context $c) => $c->setCookie('seen', 'yes'), 'mark');
        });
        [, $ctxId, $sid] = self::openPage($app);
        $res = self::postAction($app, 'mark', $ctxId, $sid);
        self::assertSame('yes', self::setCookies($res)['seen']['value']);
        self::assertArrayNotHasKey('via_session_id', self::setCookies($res), 'the session cookie is set by pages only');
    }

    public function testActionSeesTheRequestThenForgetsIt(): void
    {
        $app = self::app();
        $seen = [];
        $app->page('/', function (Context $ctx) use (&$seen): void {
            $ctx->action(function (Context $c) use (&$seen): void {
                $seen[] = $c->input('note');
                $seen[] = $c->cookie('via_session_id') !== null;
            }, 'note');
        });
        [, $ctxId, $sid] = self::openPage($app);
        self::postAction($app, 'note', $ctxId, $sid, [], [], []);
        $form = self::send($app, self::request('POST', '/_action/note?note=hi', ['Origin' => self::ORIGIN, 'Cookie' => "via_session_id=$sid", 'Content-Type' => 'application/x-www-form-urlencoded'], 'via_ctx=' . rawurlencode($ctxId)));
        self::assertSame(200, $form->getStatus(), 'via_ctx from a form field');
        self::assertSame([null, true, 'hi', true], $seen);
        self::assertNull($app->contexts[$ctxId]->getRequest());
    }

    public function testScopedActionsAndRouteBroadcast(): void
    {
        $app = self::app();
        $app->page('/poll', function (Context $ctx): void {
            $ctx->scope(Scope::ROUTE);
            $votes = $ctx->signal(0, 'votes');
            $ctx->action(fn () => $votes->setValue($votes->int() + 1), 'vote');
            $ctx->view(fn () => '<main id="poll">' . $votes->int() . '</main>');
        });
        [, $a, $sid] = self::openPage($app, '/poll');
        [, $b] = self::openPage($app, '/poll', $sid);
        $streamA = self::openStream($app, $a, $sid);
        $streamB = self::openStream($app, $b, $sid);
        $before = strlen($streamB->getBody());
        self::assertSame(200, self::postAction($app, 'vote', $a, $sid)->getStatus());
        self::drain();
        $tail = substr($streamB->getBody(), $before);
        self::assertSame(['<main id="poll">1</main>'], self::patchedElements($tail), 'the other tab got the broadcast');
        self::assertSame(['route__poll_votes' => 1], self::patchedSignals($tail));
        self::assertStringContainsString('<main id="poll">1</main>', $streamA->getBody());
    }
}
