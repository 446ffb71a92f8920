<?php

declare(strict_types=1);

namespace Via\Framework\Tests;

use Via\Framework\Config;
use Via\Framework\Context;
use Via\Framework\Scope;
use Via\Framework\Tests\Support\AppTestCase;
use Via\Framework\Tests\Support\TestVia;

/** Context destruction, cleanup scheduling and revival. */
final class ViaLifecycleTest extends AppTestCase
{
    /** @var list<string> */
    private array $events = [];
    private int $handlerRuns = 0;

    private function app2(?Config $config = null): TestVia
    {
        $app = self::app($config);
        $app->page('/items/{id}', function (Context $ctx, int $id): void {
            $this->handlerRuns++;
            $ctx->scope('room:' . $id);
            $note = $ctx->signal('', 'note', Scope::TAB);
            $ctx->signal(0, 'shared', 'room:' . $id);
            $ctx->action(fn () => null, 'save');
            $ctx->onCleanup(function (Context $c): void {
                $this->events[] = 'cleanup ' . $c->getId();
            });
            $ctx->setInterval(function (): void {
                $this->events[] = 'tick';
            }, 5);
            $ctx->view(fn () => '<main id="item">' . $id . ' ' . htmlspecialchars($note->string()) . '</main>');
        });
        return $app;
    }

    public function testDestroyContextRunsCleanupClearsTimersAndUnregistersScopes(): void
    {
        $app = $this->app2();
        [, $ctxId] = self::openPage($app, '/items/7');
        $ctx = $app->contexts[$ctxId];
        self::assertSame([$ctx], $app->getContextsByScope('room:7'));
        self::assertCount(1, $app->getScopedSignals('room:7'));
        self::assertNotNull($app->getScopedAction('room:7', 'save'));

        $app->destroyContext($ctx);
        self::assertSame(["cleanup $ctxId"], $this->events);
        self::assertArrayNotHasKey($ctxId, $app->contexts);
        self::assertArrayNotHasKey($ctxId, $app->contextSessions);
        self::assertArrayNotHasKey($ctxId, $app->cleanupTimers, 'the attach grace timer is cleared');
        self::assertCount(0, $app->getContextsByScope('room:7'));
        self::assertCount(0, $app->getContextsByScope('tab'));
        self::assertSame([], $app->getScopedSignals('room:7'), 'the last context of a scope takes its state');
        self::assertNull($app->getScopedAction('room:7', 'save'));
        self::assertTrue($ctx->isDestroyed());
        \Via\sleep(0.03);
        self::assertNotContains('tick', $this->events, 'the interval was cleared');

        $app->destroyContext($ctx);
        self::assertCount(1, $this->events, 'destroying twice does nothing');
        self::assertSame(1, $app->getStats()['contexts_destroyed']);
    }

    public function testScopedStateStaysWhileAnotherContextIsInTheScope(): void
    {
        $app = $this->app2();
        [, $a, $sid] = self::openPage($app, '/items/7');
        [, $b] = self::openPage($app, '/items/7', $sid);
        $app->destroyContext($app->contexts[$a]);
        self::assertCount(1, $app->getScopedSignals('room:7'));
        self::assertSame([$app->contexts[$b]], $app->getContextsByScope('room:7'));
    }

    public function testAPageWithoutAStreamIsReclaimedAfterTheAttachTimeout(): void
    {
        $app = $this->app2(self::config()->withContextCleanupDelay(0));
        [, $ctxId] = self::openPage($app, '/items/1');
        self::assertArrayHasKey($ctxId, $app->cleanupTimers);
        \Via\sleep(0.05);
        self::assertArrayHasKey($ctxId, $app->contexts, 'the attach timeout (30 s), not the cleanup delay');

        $quick = $this->app2(self::config()->withContextAttachTimeout(10));
        [, $gone] = self::openPage($quick, '/items/1');
        [, $kept, $sid] = self::openPage($quick, '/items/2');
        self::openStream($quick, $kept, $sid);
        \Via\sleep(0.05);
        self::assertArrayNotHasKey($gone, $quick->contexts);
        self::assertArrayHasKey($kept, $quick->contexts, 'its stream attached');
    }

    public function testWaitingContextsAreBoundedTheOldestGoesAndCanBeRevived(): void
    {
        $app = $this->app2(self::config()->withMaxPendingContexts(2));
        [, $attached, $sid] = self::openPage($app, '/items/1');
        self::openStream($app, $attached, $sid);
        [, $oldest, $sid2] = self::openPage($app, '/items/2');
        [, $second] = self::openPage($app, '/items/3');
        self::assertSame(0, $app->getStats()['contexts_evicted'], 'two wait, one attached');
        [, $third] = self::openPage($app, '/items/4');
        self::assertSame(1, $app->getStats()['contexts_evicted']);
        self::assertArrayNotHasKey($oldest, $app->contexts, 'the oldest waiting one went');
        self::assertArrayNotHasKey($oldest, $app->cleanupTimers);
        foreach ([$attached, $second, $third] as $id) {
            self::assertArrayHasKey($id, $app->contexts);
        }
        self::openStream($app, $oldest, $sid2);
        self::assertArrayHasKey($oldest, $app->contexts, 'its tab came late, and revived it');
        self::assertSame(1, $app->getStats()['contexts_revived']);
        self::assertSame(1, $app->getStats()['contexts_evicted'], 'a revival waits for nothing');
        self::assertArrayHasKey($second, $app->contexts);
    }

    /**
     * A tab that opened `$path` and its stream, whose stream then ended: its context waits
     * for a reconnect.
     *
     * @return array{0: string, 1: string} its context id and session id
     */
    private static function tabWhoseStreamEnded(TestVia $app, string $path): array
    {
        [, $id, $sid] = self::openPage($app, $path);
        self::openStream($app, $id, $sid);
        $app->contexts[$id]->getStream()->close();
        self::drain();
        return [$id, $sid];
    }

    public function testContextsWhoseLastStreamEndedCountAmongTheWaitingOnes(): void
    {
        $app = $this->app2(self::config()->withMaxPendingContexts(2)->withContextCleanupDelay(60_000));
        $ids = [];
        foreach ([1, 2, 3] as $n) {
            [$ids[]] = self::tabWhoseStreamEnded($app, "/items/$n");
        }
        self::assertSame(1, $app->getStats()['contexts_evicted'], 'three streams ended; two may wait');
        self::assertArrayNotHasKey($ids[0], $app->contexts, 'the oldest went');
        self::assertArrayHasKey($ids[1], $app->contexts);
        self::assertArrayHasKey($ids[2], $app->contexts);
        [, $page] = self::openPage($app, '/items/9');
        self::assertSame(2, $app->getStats()['contexts_evicted'], 'a page served waits among them');
        self::assertArrayNotHasKey($ids[1], $app->contexts);
        self::assertArrayHasKey($page, $app->contexts);
    }

    public function testAFloodOfPagesDoesNotEvictATabWaitingForItsReconnect(): void
    {
        $app = $this->app2(self::config()->withMaxPendingContexts(3)->withContextCleanupDelay(60_000));
        [$tab, $sid] = self::tabWhoseStreamEnded($app, '/items/1');
        $pages = [];
        for ($n = 0; $n < 20; $n++) {
            [, $pages[]] = self::openPage($app, '/items/' . (2 + $n % 3));
        }
        self::assertSame(18, $app->getStats()['contexts_evicted'], 'the tab and two pages may wait');
        self::assertArrayHasKey($tab, $app->contexts, 'the tab that lost its stream stays');
        self::assertArrayHasKey($pages[18], $app->contexts);
        self::assertArrayHasKey($pages[19], $app->contexts);
        self::assertArrayNotHasKey($pages[17], $app->contexts, 'the older pages went, oldest first');
        self::openStream($app, $tab, $sid);
        self::assertSame(0, $app->getStats()['contexts_revived'], 'its context was there, not revived');
    }

    public function testTabsWaitingForTheirReconnectKeepHalfOfTheBoundUnderAFloodOfPages(): void
    {
        $app = $this->app2(self::config()->withMaxPendingContexts(4)->withContextCleanupDelay(60_000));
        $tabs = [];
        foreach ([1, 2, 3] as $n) {
            [$tabs[]] = self::tabWhoseStreamEnded($app, "/items/$n");
        }
        for ($n = 0; $n < 10; $n++) {
            [, $page] = self::openPage($app, '/items/' . (4 + $n % 3));
        }
        self::assertArrayNotHasKey($tabs[0], $app->contexts, 'three tabs waited; the oldest gave way to the pages');
        self::assertArrayHasKey($tabs[1], $app->contexts, 'two tabs keep half of the bound');
        self::assertArrayHasKey($tabs[2], $app->contexts);
        self::assertArrayHasKey($page, $app->contexts);
        self::assertSame(9, $app->getStats()['contexts_evicted'], 'one tab and eight pages');
    }

    public function testWithABoundOfOneAPageNeverEvictsItself(): void
    {
        $app = $this->app2(self::config()->withMaxPendingContexts(1)->withContextCleanupDelay(60_000));
        [$tab, $sid] = self::tabWhoseStreamEnded($app, '/items/1');
        [, $page] = self::openPage($app, '/items/2');
        self::assertArrayHasKey($page, $app->contexts, 'the page just served stays');
        self::assertArrayNotHasKey($tab, $app->contexts);
    }

    public function testSessionCloseBeaconSchedulesTheCleanupOfOwnContextsOnly(): void
    {
        $app = $this->app2(self::config()->withContextCleanupDelay(10));
        [, $ctxId, $sid] = self::openPage($app, '/items/1');
        $res = self::send($app, self::request('POST', '/_session/close', ['Cookie' => 'via_session_id=ffffffffffffffffffffffffffffffff'], $ctxId));
        self::assertSame(200, $res->getStatus());
        self::assertSame('', $res->getBody());
        \Via\sleep(0.05);
        self::assertArrayHasKey($ctxId, $app->contexts, 'another session cannot close it');

        self::send($app, self::request('POST', '/_session/close', ['Cookie' => "via_session_id=$sid"], $ctxId));
        \Via\sleep(0.05);
        self::assertArrayNotHasKey($ctxId, $app->contexts);
    }

    public function testScheduleCleanupWaitsForAttachedStreams(): void
    {
        $app = $this->app2();
        [, $ctxId, $sid] = self::openPage($app, '/items/1');
        self::openStream($app, $ctxId, $sid);
        $app->scheduleCleanup($app->contexts[$ctxId], 0);
        \Via\sleep(0.02);
        self::assertArrayHasKey($ctxId, $app->contexts, 'a stream is attached');
    }

    public function testRevivalRebuildsTheSameIdForTheSameSession(): void
    {
        $app = $this->app2();
        [, $ctxId, $sid] = self::openPage($app, '/items/42');
        $old = $app->contexts[$ctxId];
        $noteId = $old->getSignal('note')->id();
        $old->getSignal('note')->setValue('server');
        $app->destroyContext($old);
        self::assertSame(1, $app->getStats()['revival_records']);

        // A retried stream resends the values the tab had when it first connected: the
        // server's last values win.
        $res = self::openStream($app, $ctxId, $sid, [$noteId => 'stale']);
        self::assertSame(200, $res->getStatus());
        self::assertArrayHasKey($ctxId, $app->contexts);
        $revived = $app->contexts[$ctxId];
        self::assertNotSame($old, $revived);
        self::assertSame($noteId, $revived->getSignal('note')->id(), 'byte-identical signal ids');
        self::assertSame('server', $revived->getSignal('note')->getValue());
        self::assertSame('42', $revived->getPathParam('id'));
        self::assertSame($sid, $app->contextSessions[$ctxId]);
        self::assertSame(2, $this->handlerRuns);
        self::assertStringContainsString('<main id="item">42 server</main>', $res->getBody());
        self::assertSame('server', self::patchedSignals($res->getBody())[$noteId]);
        self::assertCount(1, $app->getContextsByScope('room:42'));
        self::assertSame(1, $app->getStats()['contexts_revived']);
        self::assertSame(0, $app->getStats()['revival_records']);
        self::assertSame(200, self::postAction($app, 'save', $ctxId, $sid)->getStatus(), 'its actions answer again');
    }

    public function testRevivalIsRefusedForAnotherSessionAndKeptForTheOwner(): void
    {
        $app = $this->app2();
        [, $ctxId, $sid] = self::openPage($app, '/items/1');
        $app->destroyContext($app->contexts[$ctxId]);

        $thief = self::openStream($app, $ctxId, 'ffffffffffffffffffffffffffffffff');
        self::assertStringContainsString('window.location.reload()', $thief->getBody());
        self::assertArrayNotHasKey($ctxId, $app->contexts);
        self::assertTrue($app->hasLogged('warn', 'another session'));

        $owner = self::openStream($app, $ctxId, $sid);
        self::assertArrayHasKey($ctxId, $app->contexts, 'the record was kept for its owner');
        self::assertStringContainsString('<main id="item">', $owner->getBody());
    }

    public function testRevivalDisabledWithAZeroWindow(): void
    {
        $app = $this->app2(self::config()->withContextRevivalWindow(0));
        [, $ctxId, $sid] = self::openPage($app, '/items/1');
        $app->destroyContext($app->contexts[$ctxId]);
        self::assertSame(0, $app->getStats()['revival_records']);
        $res = self::openStream($app, $ctxId, $sid);
        self::assertStringContainsString('window.location.reload()', $res->getBody());
        self::assertArrayNotHasKey($ctxId, $app->contexts);
    }

    public function testRevivalExpires(): void
    {
        $app = $this->app2(self::config()->withContextRevivalWindow(1));
        [, $ctxId, $sid] = self::openPage($app, '/items/1');
        $app->destroyContext($app->contexts[$ctxId]);
        usleep(5_000);
        $res = self::openStream($app, $ctxId, $sid);
        self::assertStringContainsString('window.location.reload()', $res->getBody());
    }

    public function testRevivalGivesUpWhenTheHandlerThrows(): void
    {
        $app = self::app();
        $fail = false;
        $app->page('/', function (Context $ctx) use (&$fail): void {
            if ($fail) {
                throw new \RuntimeException('cannot rebuild');
            }
        });
        [, $ctxId, $sid] = self::openPage($app);
        $app->destroyContext($app->contexts[$ctxId]);
        $fail = true;
        $res = self::openStream($app, $ctxId, $sid);
        self::assertStringContainsString('window.location.reload()', $res->getBody());
        self::assertArrayNotHasKey($ctxId, $app->contexts);
        self::assertTrue($app->hasLogged('error', 'cannot rebuild'));
    }

    public function testAfterDestructionActionsAnswer400(): void
    {
        $app = $this->app2();
        [, $ctxId, $sid] = self::openPage($app, '/items/1');
        $app->destroyContext($app->contexts[$ctxId]);
        self::assertSame(400, self::postAction($app, 'save', $ctxId, $sid)->getStatus());
    }

    public function testDestroyingClosesTheStream(): void
    {
        $app = $this->app2();
        [, $ctxId, $sid] = self::openPage($app, '/items/1');
        self::openStream($app, $ctxId, $sid);
        $stream = $app->contexts[$ctxId]->getStream();
        self::assertTrue($stream->isOpen());
        $app->destroyContext($app->contexts[$ctxId]);
        self::drain();
        self::assertFalse($stream->isOpen());
        self::assertArrayNotHasKey($ctxId, $app->activeSseCount);
        self::assertSame([], $app->getClients());
    }

    public function testScopeChangeLeavesTheOldScope(): void
    {
        $app = self::app();
        $app->page('/', function (Context $ctx): void {
            $ctx->scope('room:1');
            $ctx->action(fn (Context $c) => $c->scope('room:2'), 'move');
        });
        [, $ctxId, $sid] = self::openPage($app);
        self::assertCount(1, $app->getContextsByScope('room:1'));
        self::assertSame(200, self::postAction($app, 'move', $ctxId, $sid)->getStatus());
        self::assertSame(['room:2', 'tab'], $app->contexts[$ctxId]->getScopes());
        self::assertCount(1, $app->getContextsByScope('room:2'));
        self::assertCount(0, $app->getContextsByScope('room:1'), 'no longer receives room:1 broadcasts');
    }

    public function testRemoveScopeUnregisters(): void
    {
        $app = self::app();
        $app->page('/', fn (Context $ctx) => $ctx->addScope('room:1'));
        [, $ctxId] = self::openPage($app);
        $app->contexts[$ctxId]->removeScope('room:1');
        self::assertCount(0, $app->getContextsByScope('room:1'));
        self::assertSame([Scope::TAB], $app->contexts[$ctxId]->getScopes());
    }
}
