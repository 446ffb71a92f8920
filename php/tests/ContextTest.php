<?php

declare(strict_types=1);

namespace Via\Framework\Tests;

use Via\Framework\Context;
use Via\Framework\Patch;
use Via\Framework\Scope;
use Via\Framework\Tests\Support\AppTestCase;
use Via\Framework\Tests\Support\SpyBroker;
use Via\Framework\Tests\Support\TestVia;

final class ContextTest extends AppTestCase
{
    private const SID = '0123456789abcdef0123456789abcdef';

    private static function context(?TestVia $app = null, string $route = '/counter', ?string $sid = self::SID): Context
    {
        return new Context($route . '_/a1b2c3d4e5f60718', $route, $app ?? self::app(), null, $sid);
    }

    // ---- identity ---------------------------------------------------------------------

    public function testIdentity(): void
    {
        $app = self::app();
        $ctx = self::context($app);
        self::assertSame('/counter_/a1b2c3d4e5f60718', $ctx->getId());
        self::assertSame('/counter', $ctx->getRoute());
        self::assertSame(self::SID, $ctx->getSessionId());
        self::assertNull($ctx->getNamespace());
        self::assertSame($app, $ctx->getApp());
    }

    public function testPathParamsAndAttributes(): void
    {
        $ctx = self::context();
        $ctx->setPathParams(['id' => '7']);
        self::assertSame('7', $ctx->getPathParam('id'));
        self::assertSame('', $ctx->getPathParam('missing'));
        self::assertSame(['id' => '7'], $ctx->getPathParams());
        $ctx->setRequestAttributes(['user' => 'ann']);
        self::assertSame('ann', $ctx->getRequestAttribute('user'));
        self::assertSame('none', $ctx->getRequestAttribute('role', 'none'));
        self::assertSame(['user' => 'ann'], $ctx->getRequestAttributes());
    }

    public function testInputPrefersTheBodyThenTheQuery(): void
    {
        $ctx = self::context();
        self::assertSame('d', $ctx->input('a', 'd'), 'no request');
        $ctx->setRequest(self::request('POST', '/_action/x?a=query&q=1', ['Content-Type' => 'application/x-www-form-urlencoded'], 'a=body'));
        self::assertSame('body', $ctx->input('a'));
        self::assertSame('1', $ctx->input('q'));
        self::assertSame('d', $ctx->input('none', 'd'));
    }

    public function testFileOnlyForASuccessfulUpload(): void
    {
        $tmp = tempnam(sys_get_temp_dir(), 'via');
        file_put_contents($tmp, 'hello');
        $ctx = self::context();
        $ctx->setRequest(self::request('POST', '/_action/x', [], '', ['files' => [
            'ok' => ['name' => 'a.txt', 'type' => 'text/plain', 'tmp_name' => $tmp, 'error' => UPLOAD_ERR_OK, 'size' => 5],
            'failed' => ['name' => 'b.txt', 'type' => 'text/plain', 'tmp_name' => '', 'error' => UPLOAD_ERR_PARTIAL, 'size' => 0],
        ]]));
        $ok = $ctx->file('ok');
        self::assertIsArray($ok);
        self::assertSame('a.txt', $ok['name']);
        self::assertSame(5, $ok['size']);
        self::assertNull($ctx->file('failed'));
        self::assertNull($ctx->file('missing'));
    }

    public function testCookiesAreReadAndQueued(): void
    {
        $ctx = self::context();
        $ctx->setRequest(self::request('GET', '/', ['Cookie' => 'theme=dark']));
        self::assertSame('dark', $ctx->cookie('theme'));
        self::assertNull($ctx->cookie('none'));
        $ctx->setCookie('a', '1', 0, '/p', 'app.test', true, false, 'Strict');
        $ctx->deleteCookie('b');
        $res = new \Via\Response();
        $ctx->writeCookies($res);
        $cookies = self::setCookies($res);
        self::assertSame('1', $cookies['a']['value']);
        self::assertStringContainsString('Path=/p', $cookies['a']['attributes']);
        self::assertStringContainsString('Domain=app.test', $cookies['a']['attributes']);
        self::assertStringContainsString('Secure', $cookies['a']['attributes']);
        self::assertStringNotContainsString('HttpOnly', $cookies['a']['attributes']);
        self::assertStringContainsString('SameSite=Strict', $cookies['a']['attributes']);
        self::assertStringContainsString('Max-Age=0', $cookies['b']['attributes']);
        $again = new \Via\Response();
        $ctx->writeCookies($again);
        self::assertSame([], $again->getHeaders(), 'written cookies are forgotten');
    }

    public function testSessionData(): void
    {
        $app = self::app();
        $ctx = self::context($app);
        $ctx->setSessionData('cart', [1]);
        self::assertSame([1], $ctx->sessionData('cart'));
        self::assertSame([1], $app->getSessionData(self::SID, 'cart'));
        $ctx->clearSessionData('cart');
        self::assertSame('none', $ctx->sessionData('cart', 'none'));

        $anonymous = self::context($app, '/x', null);
        $anonymous->setSessionData('k', 'v');
        self::assertSame('d', $anonymous->sessionData('k', 'd'));
    }

    // ---- scopes -----------------------------------------------------------------------

    public function testScopesStartWithTab(): void
    {
        $ctx = self::context();
        self::assertSame([Scope::TAB], $ctx->getScopes());
        self::assertSame(Scope::TAB, $ctx->getPrimaryScope());
    }

    public function testScopeReplacesAndExpands(): void
    {
        $ctx = self::context();
        $ctx->scope(Scope::ROUTE);
        self::assertSame(['route:/counter', 'tab'], $ctx->getScopes());
        self::assertSame('route:/counter', $ctx->getPrimaryScope());
        $ctx->scope(Scope::SESSION);
        self::assertSame(['session:' . self::SID, 'tab'], $ctx->getScopes());
        self::assertTrue($ctx->hasScope(Scope::SESSION));
        self::assertFalse($ctx->hasScope(Scope::ROUTE));
        $ctx->scope(Scope::TAB);
        self::assertSame(['tab'], $ctx->getScopes());
    }

    public function testAddAndRemoveScope(): void
    {
        $ctx = self::context();
        $ctx->addScope('room:1');
        $ctx->addScope('room:1');
        self::assertSame(['tab', 'room:1'], $ctx->getScopes());
        self::assertSame(Scope::TAB, $ctx->getPrimaryScope());
        $ctx->removeScope('room:1');
        $ctx->removeScope(Scope::TAB);
        self::assertSame(['tab'], $ctx->getScopes());
    }

    public function testSessionScopeNeedsASession(): void
    {
        $this->expectException(\LogicException::class);
        self::context(null, '/x', null)->scope(Scope::SESSION);
    }

    // ---- signals ----------------------------------------------------------------------

    public function testTabSignalIdIsNameAndContextIdSanitized(): void
    {
        $ctx = self::context();
        $s = $ctx->signal(5, 'count');
        self::assertSame('count__counter__a1b2c3d4e5f60718', $s->id());
        self::assertSame(Scope::TAB, $s->scope());
        self::assertSame(1, preg_match('/^[A-Za-z0-9_]+$/', $ctx->signal(1, 'x', null)->id()));
        $p = new Context('/users/{id}_/ff', '/users/{id}', self::app(), null, self::SID);
        self::assertSame('n__users__id___ff', $p->signal(1, 'n')->id());
    }

    public function testAnonymousSignalsAreNumbered(): void
    {
        $ctx = self::context();
        self::assertStringStartsWith('signal1_', $ctx->signal(1)->id());
        self::assertStringStartsWith('signal2_', $ctx->signal(2)->id());
        self::assertNotNull($ctx->getSignal('signal2'));
    }

    public function testScopedSignalIdIsScopeAndNameSanitized(): void
    {
        $ctx = new Context('/_/ab', '/', self::app(), null, self::SID);
        $s = $ctx->signal(0, 'counter', Scope::ROUTE);
        self::assertSame('route___counter', $s->id());
        self::assertSame('route:/', $s->scope());
        self::assertSame('room_4_2_votes', $ctx->signal(0, 'votes', 'room:4.2')->id());
        self::assertSame('session_' . self::SID . '_n', $ctx->signal(0, 'n', Scope::SESSION)->id());
        self::assertSame('global_n', $ctx->signal(0, 'n', Scope::GLOBAL)->id());
    }

    public function testAScopedSignalIsOneObjectPerScope(): void
    {
        $app = self::app();
        $a = self::context($app);
        $b = new Context('/counter_/other', '/counter', $app, null, self::SID);
        $sa = $a->signal(1, 'n', Scope::ROUTE);
        $sb = $b->signal(99, 'n', Scope::ROUTE);
        self::assertSame($sa, $sb);
        self::assertSame(1, $sb->getValue(), 'a later registration ignores its initial value');
        self::assertTrue($a->hasScope('route:/counter'), 'a scoped signal adds its scope');
    }

    public function testATabReRegistrationOverwritesTheValue(): void
    {
        $ctx = self::context();
        $ctx->signal(1, 'n');
        $s = $ctx->signal(2, 'n');
        self::assertSame(2, $s->getValue());
        self::assertSame($s, $ctx->getSignal('n'));
    }

    public function testWithoutAScopeASignalTakesThePrimaryScopeUnlessTab(): void
    {
        $ctx = self::context();
        self::assertSame(Scope::TAB, $ctx->signal(1, 'a')->scope());
        $ctx->scope('room:9');
        self::assertSame('room:9', $ctx->signal(1, 'b')->scope());
        self::assertSame(Scope::TAB, $ctx->signal(1, 'c', Scope::TAB)->scope());
    }

    public function testGetSignalsHasTabAndScopedSignals(): void
    {
        $ctx = self::context();
        $tab = $ctx->signal(1, 'a');
        $scoped = $ctx->signal(2, 'b', 'room:1');
        self::assertSame([$tab->id() => $tab, $scoped->id() => $scoped], $ctx->getSignals());
        self::assertSame(['a' => $tab, 'b' => $scoped], $ctx->getNamedSignals());
        self::assertNull($ctx->getSignal('zzz'));
    }

    // ---- client injection ----------------------------------------------------------

    public function testInjectionWritesTabSignalsWithoutMarkingThemChanged(): void
    {
        $ctx = self::context();
        $s = $ctx->signal('', 'name');
        $s->markSynced();
        $ctx->injectSignals([$s->id() => 'Ann']);
        self::assertSame('Ann', $s->getValue());
        self::assertFalse($s->hasChanged(), 'the client already has its own value');
    }

    public function testInjectionWritesScopedSignalsOnlyWhenClientWritable(): void
    {
        $broker = new SpyBroker();
        $app = self::app(self::config()->withBroker($broker));
        $ctx = self::context($app);
        $locked = $ctx->signal(1, 'locked', 'room:1');
        $open = $ctx->signal(1, 'open', 'room:1', clientWritable: true);
        $ctx->injectSignals([$locked->id() => 666, $open->id() => 2]);
        self::assertSame(1, $locked->getValue());
        self::assertSame(2, $open->getValue());
        self::assertSame([], $broker->published, 'client writes never broadcast');
    }

    public function testInjectionIgnoresUnknownIds(): void
    {
        $ctx = self::context();
        $s = $ctx->signal(1, 'a');
        $ctx->injectSignals(['via_ctx' => 'x', 'nope' => 2, 'a' => 3]);
        self::assertSame(1, $s->getValue());
        self::assertCount(1, $ctx->getSignals());
    }

    public function testInjectionFlattensNestedObjectsButKeepsLists(): void
    {
        $ctx = self::context();
        $items = $ctx->signal([], 'items');
        $ctx->injectSignals([$items->id() => ['a', 'b']]);
        self::assertSame(['a', 'b'], $items->getValue());

        // A nested object names a dotted path; no sanitized signal id contains a dot, so
        // the nested value matches nothing (php-via's rule).
        $ctx->injectSignals(['form' => [$items->id() => ['x']]]);
        self::assertSame(['a', 'b'], $items->getValue());
    }

    public function testInjectionReachesComponentSignals(): void
    {
        $app = self::app();
        $page = self::context($app);
        $signal = null;
        $page->component(function (Context $c) use (&$signal): void {
            $signal = $c->signal('', 'q');
        });
        $page->injectSignals([$signal->id() => 'typed']);
        self::assertSame('typed', $signal->getValue());
    }

    // ---- actions -----------------------------------------------------------------------

    public function testTabActionIdsAreDeterministic(): void
    {
        $app = self::app();
        $ids = [];
        for ($i = 0; $i < 2; $i++) {
            $ctx = self::context($app);
            $ids[] = [
                $ctx->action(fn () => null)->id(),
                $ctx->action(fn () => null, 'save')->id(),
                $ctx->action(fn () => null)->id(),
            ];
        }
        self::assertSame(['action1', 'save', 'action2'], $ids[0]);
        self::assertSame($ids[0], $ids[1]);
    }

    public function testActionUrlsUseTheBasePath(): void
    {
        $ctx = self::context(self::app(self::config()->withBasePath('/app')));
        self::assertSame('/app/_action/save', $ctx->action(fn () => null, 'save')->url());
    }

    public function testScopedActionNeedsAName(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        self::context()->action(fn () => null, null, Scope::ROUTE);
    }

    public function testScopedActionIsRegisteredOncePerScope(): void
    {
        $app = self::app();
        $a = self::context($app);
        $b = new Context('/counter_/bbbb', '/counter', $app, null, self::SID);
        $first = $a->action(fn (Context $c) => 'first', 'vote', Scope::ROUTE);
        $b->action(fn (Context $c) => 'second', 'vote', Scope::ROUTE);
        self::assertSame('vote', $first->id());
        self::assertSame('first', ($b->findAction('vote'))($b));
        self::assertTrue($a->hasScope('route:/counter'));
    }

    public function testActionsInheritThePrimaryScope(): void
    {
        $app = self::app();
        $ctx = self::context($app);
        $ctx->scope('room:1');
        $ctx->action(fn () => 'room', 'go');
        self::assertNotNull($app->getScopedAction('room:1', 'go'));
    }

    public function testNamedActions(): void
    {
        $ctx = self::context();
        $save = $ctx->action(fn () => null, 'save');
        $anon = $ctx->action(fn () => null);
        self::assertSame($save, $ctx->getAction('save'));
        self::assertSame($anon, $ctx->getAction('action1'));
        self::assertNull($ctx->getAction('none'));
        self::assertSame(['save' => $save, 'action1' => $anon], $ctx->getNamedActions());
    }

    public function testLookupOrder(): void
    {
        $app = self::app();
        $ctx = self::context($app);
        $ctx->addScope('room:1');
        $app->scopedAction('global', 'g', fn () => 'global');
        $app->scopedAction('route:/counter', 'r', fn () => 'route');
        $app->scopedAction('room:1', 'r', fn () => 'room');
        $app->scopedAction('room:1', 't', fn () => 'room');
        $ctx->action(fn () => 'tab', 't');
        $app->scopedAction('global', 'c', fn () => 'global');
        $app->scopedAction('room:2', 'other', fn () => 'room 2');
        $ctx->component(function (Context $c): void {
            $c->action(fn () => 'component', 'c');
            $c->action(fn () => 'component only', 'only');
        }, 'k');

        self::assertSame('tab', ($ctx->findAction('t'))($ctx), 'own TAB actions first');
        self::assertSame('room', ($ctx->findAction('r'))($ctx), 'then the scopes the context is in');
        self::assertSame('global', ($ctx->findAction('g'))($ctx), 'then global');
        self::assertSame('global', ($ctx->findAction('c'))($ctx), 'scoped before components');
        self::assertSame('component only', ($ctx->findAction('k-only'))($ctx), 'components last');
        self::assertNull($ctx->findAction('other'), 'not a scope of this context');
        self::assertNull($ctx->findAction('zzz'));

        $plain = new Context('/counter_/cccc', '/counter', $app, null, self::SID);
        self::assertSame('route', ($plain->findAction('r'))($plain), 'route:{route} even when not a scope');
    }

    public function testExecuteAction(): void
    {
        $ctx = self::context();
        $seen = null;
        $ctx->action(function (Context $c) use (&$seen): void {
            $seen = $c;
        }, 'go');
        $ctx->executeAction('go');
        self::assertSame($ctx, $seen);
        $this->expectException(\RuntimeException::class);
        $this->expectExceptionMessage('Action not found');
        $ctx->executeAction('nope');
    }

    // ---- views -------------------------------------------------------------------------

    public function testCallableViewGetsIsUpdateAndBasePath(): void
    {
        $ctx = self::context(self::app(self::config()->withBasePath('/b')));
        self::assertSame('', $ctx->renderView(false), 'no view');
        self::assertFalse($ctx->hasView());
        $ctx->view(fn (bool $update, string $base) => ($update ? 'update' : 'first') . " $base");
        self::assertTrue($ctx->hasView());
        self::assertSame('first /b/', $ctx->renderView(false));
        self::assertSame('update /b/', $ctx->renderView(true));
    }

    public function testIsUpdatingOnlyDuringAnUpdateRender(): void
    {
        $ctx = self::context();
        $seen = [];
        $ctx->view(function () use ($ctx, &$seen): string {
            $seen[] = $ctx->isUpdating();
            return '';
        });
        $ctx->renderView(false);
        $ctx->renderView(true);
        self::assertSame([false, true], $seen);
        self::assertFalse($ctx->isUpdating());
    }

    public function testHeadFootAndShell(): void
    {
        $ctx = self::context();
        $ctx->appendToHead('<meta a>', '<meta b>');
        $ctx->appendToFoot('<script f></script>');
        $ctx->setShellTemplate('/shell.html');
        self::assertSame(['<meta a>', '<meta b>'], $ctx->getHead());
        self::assertSame(['<script f></script>'], $ctx->getFoot());
        self::assertSame('/shell.html', $ctx->getShellTemplate());
    }

    // ---- components -----------------------------------------------------------------

    public function testComponentIdsNamespaceAndWrapper(): void
    {
        $app = self::app();
        $page = self::context($app);
        $child = null;
        $render = $page->component(function (Context $c) use (&$child): void {
            $child = $c;
            $c->view(fn () => '<b>hi</b>');
        });
        self::assertInstanceOf(Context::class, $child);
        self::assertSame(1, preg_match('#^/counter_/a1b2c3d4e5f60718/_component/[0-9a-f]{16}$#', $child->getId()));
        self::assertSame('c' . substr(md5($child->getId()), 0, 8), $child->getNamespace());
        self::assertSame('/counter', $child->getRoute());
        self::assertSame(self::SID, $child->getSessionId());
        self::assertSame([$child->getId() => $child], $page->getComponents());
        $id = 'c-' . str_replace(['/', '_'], '-', $child->getId());
        self::assertSame($id, $child->elementId());
        self::assertSame('<div id="' . $id . '"><b>hi</b></div>', $render());
    }

    public function testComponentElementIdsAreValidCssIdentifiers(): void
    {
        $page = new Context('/users/{id}/a.b_/ffff', '/users/{id}/a.b', self::app(), null, self::SID);
        $child = null;
        $page->component(function (Context $c) use (&$child): void {
            $child = $c;
        });
        // Used as a '#id' selector by the component's patches: no braces, dots or slashes.
        self::assertSame(1, preg_match('/^c-[A-Za-z0-9_-]+$/', $child->elementId()), $child->elementId());
    }

    public function testComponentSignalAndActionIds(): void
    {
        $page = self::context();
        $ids = [];
        $page->component(function (Context $c) use (&$ids): void {
            $ids[] = $c->signal(1, 'n')->id();
            $ids[] = $c->signal(1, 'shared', 'room:1')->id();
            $ids[] = $c->action(fn () => null, 'inc')->id();
            $ids[] = $c->action(fn () => null)->id();
        }, 'cart');
        self::assertSame([
            'cart_n__counter__a1b2c3d4e5f60718',
            'room_1_cart_shared',
            'cart-inc',
            'cart-action1',
        ], $ids);
    }

    public function testTwoComponentsDoNotShareIds(): void
    {
        $page = self::context();
        $a = $b = null;
        $page->component(function (Context $c) use (&$a): void {
            $a = $c->signal(0, 'n')->id();
        });
        $page->component(function (Context $c) use (&$b): void {
            $b = $c->signal(0, 'n')->id();
        });
        self::assertNotSame($a, $b);
    }

    // ---- pending patches ------------------------------------------------------------

    /** @return array{0: TestVia, 1: Context, 2: \Via\Response} a page whose stream is attached and flushed */
    private function streamingPage(?\Closure $setup = null): array
    {
        $app = self::app();
        $app->page('/', function (Context $ctx) use ($setup): void {
            $ctx->view(fn () => '<main id="m"></main>');
            if ($setup !== null) {
                $setup($ctx);
            }
        });
        [, $ctxId, $sid] = self::openPage($app);
        $stream = self::openStream($app, $ctxId, $sid);
        $ctx = $app->contexts[$ctxId];
        self::assertSame([[], []], $ctx->pending(), 'the first sync was flushed');
        return [$app, $ctx, $stream];
    }

    public function testNothingIsQueuedWithoutAStream(): void
    {
        $ctx = self::context();
        $ctx->view(fn () => '<p id="p"></p>');
        $ctx->signal(1, 'a');
        $ctx->sync();
        $ctx->execScript('x()');
        $ctx->patchSignals(['b' => 2]);
        self::assertSame([[], []], $ctx->pending());
    }

    public function testPendingSignalsCoalesceLatestWins(): void
    {
        [, $ctx, $stream] = $this->streamingPage();
        $before = strlen($stream->getBody());
        $ctx->patchSignals(['a' => 1, 'n' => ['x' => 1, 'y' => 1]]);
        $ctx->patchSignals(['a' => 2, 'n' => ['y' => 2]]);
        $ctx->queue(Patch::signals(['a' => 3, 'b' => 'b']));
        [$elements, $signals] = $ctx->pending();
        self::assertSame([], $elements);
        self::assertSame(['a' => 3, 'n' => ['x' => 1, 'y' => 2], 'b' => 'b'], $signals);
        self::assertSame($before, strlen($stream->getBody()), 'nothing is written before the task yields');
        self::drain();
        self::assertSame([[], []], $ctx->pending());
        $events = self::events(substr($stream->getBody(), $before));
        self::assertCount(1, $events, 'one merged signals event');
        self::assertSame('signals {"a":3,"n":{"x":1,"y":2},"b":"b"}', $events[0]['data']);
    }

    public function testOnlyIfMissingSignalsAreNotMerged(): void
    {
        [, $ctx] = $this->streamingPage();
        $ctx->patchSignals(['a' => 1], true);
        $ctx->patchSignals(['a' => 2]);
        [$elements, $signals] = $ctx->pending();
        self::assertCount(1, $elements);
        self::assertSame("onlyIfMissing true\nsignals {\"a\":1}", $elements[0]->data);
        self::assertSame(['a' => 2], $signals);
    }

    public function testElementsAreFlushedInOrderBeforeTheSignals(): void
    {
        [, $ctx, $stream] = $this->streamingPage();
        $before = strlen($stream->getBody());
        $ctx->patchSignals(['s' => 1]);
        $ctx->patchElements('<p id="one">1</p>');
        $ctx->removeElements('#gone');
        $ctx->execScript('go()');
        self::drain();
        $events = self::events(substr($stream->getBody(), $before));
        self::assertSame([
            'elements <p id="one">1</p>',
            "selector #gone\nmode remove",
            "selector body\nmode append\nelements <script data-effect=\"el.remove()\">go()</script>",
            'signals {"s":1}',
        ], array_column($events, 'data'));
    }

    public function testSignalsJsonCannotCarryAreDroppedAndOtherTabsGoOn(): void
    {
        $app = self::app();
        $app->page('/', fn (Context $ctx) => $ctx->view(fn () => '<main id="m"></main>'));
        $tabs = [];
        foreach ([1, 2] as $_) {
            [, $ctxId, $sid] = self::openPage($app);
            $tabs[] = [$app->contexts[$ctxId], self::openStream($app, $ctxId, $sid)];
        }
        [[$bad, $badStream], [$good, $goodStream]] = $tabs;
        [$badBefore, $goodBefore] = [strlen($badStream->getBody()), strlen($goodStream->getBody())];
        // The bad tab is flushed first in the same round as the good one.
        $bad->patchSignals(['s' => "\xff"]);
        $good->patchSignals(['s' => 'ok']);
        self::drain();
        self::assertTrue($app->hasLogged('error', 'a patch could not be written'));
        self::assertSame('', substr($badStream->getBody(), $badBefore));
        self::assertSame('signals {"s":"ok"}', self::events(substr($goodStream->getBody(), $goodBefore))[0]['data']);
        // The values that could not be encoded are gone; the tab takes patches again.
        self::assertSame([[], []], $bad->pending());
        $bad->patchSignals(['s' => 'fine']);
        self::drain();
        self::assertSame('signals {"s":"fine"}', self::events(substr($badStream->getBody(), $badBefore))[0]['data']);
    }

    public function testElementPatchesAreBoundedAndDropsCounted(): void
    {
        [$app, $ctx] = $this->streamingPage();
        $dropped = $app->getStats()['patches_dropped'];
        $n = Context::MAX_PENDING_ELEMENTS + 5;
        for ($i = 1; $i <= $n; $i++) {
            $ctx->patchElements("<p id=\"p$i\">$i</p>");
        }
        [$elements] = $ctx->pending();
        self::assertCount(Context::MAX_PENDING_ELEMENTS, $elements);
        self::assertSame('elements <p id="p6">6</p>', $elements[0]->data, 'the oldest are dropped');
        self::assertSame("elements <p id=\"p$n\">$n</p>", $elements[Context::MAX_PENDING_ELEMENTS - 1]->data);
        self::assertSame($dropped + 5, $app->getStats()['patches_dropped']);
    }

    public function testSyncSendsTheViewAndOnlyChangedTabSignals(): void
    {
        $a = $b = null;
        [, $ctx, $stream] = $this->streamingPage(function (Context $ctx) use (&$a, &$b): void {
            $a = $ctx->signal(1, 'a');
            $b = $ctx->signal(1, 'b');
        });
        self::assertSame([$a->id() => 1, $b->id() => 1], self::patchedSignals($stream->getBody()), 'the first sync has every signal');
        $before = strlen($stream->getBody());
        $a->setValue(2);
        $ctx->sync();
        self::drain();
        $tail = substr($stream->getBody(), $before);
        self::assertSame(['<main id="m"></main>'], self::patchedElements($tail));
        self::assertSame([$a->id() => 2], self::patchedSignals($tail));
    }

    public function testScopedSignalsAreAlwaysSent(): void
    {
        $shared = null;
        [, $ctx, $stream] = $this->streamingPage(function (Context $ctx) use (&$shared): void {
            $shared = $ctx->signal(5, 'n', 'room:1');
        });
        $before = strlen($stream->getBody());
        $ctx->syncSignals();
        self::drain();
        self::assertSame([$shared->id() => 5], self::patchedSignals(substr($stream->getBody(), $before)));
    }

    public function testComponentPatchesGoToThePage(): void
    {
        $child = null;
        [, $ctx, $stream] = $this->streamingPage(function (Context $ctx) use (&$child): void {
            $ctx->component(function (Context $c) use (&$child): void {
                $child = $c;
                $c->view(fn () => '<i>c</i>');
            });
        });
        $before = strlen($stream->getBody());
        $child->patchSignals(['x' => 1]);
        $child->execScript('c()');
        self::assertSame([[], []], $child->pending(), 'a component queues nothing of its own');
        self::assertCount(1, $ctx->pending()[0]);
        $child->sync();
        self::drain();
        $events = self::events(substr($stream->getBody(), $before));
        self::assertSame('selector #' . $child->elementId() . "\nelements <div id=\"" . $child->elementId() . '"><i>c</i></div>', $events[1]['data']);
    }

    public function testDirtyComponentsSyncWithTheirPage(): void
    {
        $child = null;
        $renders = 0;
        [, $ctx, $stream] = $this->streamingPage(function (Context $ctx) use (&$child, &$renders): void {
            $ctx->component(function (Context $c) use (&$child, &$renders): void {
                $child = $c;
                $c->view(function () use (&$renders) {
                    $renders++;
                    return '<i>c</i>';
                });
            });
        });
        $ctx->sync();
        self::drain();
        self::assertSame(0, $renders, 'a clean component is not re-rendered');
        $child->markDirty();
        $before = strlen($stream->getBody());
        $ctx->sync();
        self::drain();
        self::assertSame(1, $renders);
        self::assertStringContainsString('selector #' . $child->elementId(), substr($stream->getBody(), $before));
        $ctx->sync();
        self::assertSame(1, $renders, 'dirty is cleared by the sync');
    }

    public function testAComponentsScopedSignalReachesItsPage(): void
    {
        $app = self::app();
        $app->page('/', function (Context $ctx): void {
            $render = $ctx->component(function (Context $c): void {
                $likes = $c->signal(0, 'likes', 'room:1');
                $c->action(fn () => $likes->setValue($likes->int() + 1), 'like', 'room:1');
                $c->view(fn () => '<b>' . $likes->int() . '</b>');
            }, 'likes');
            $ctx->view(fn () => '<main id="m">' . $render() . '</main>');
        });
        [, $a, $sid] = self::openPage($app);
        [, $b] = self::openPage($app, '/', $sid);
        self::assertTrue($app->contexts[$a]->hasScope('room:1'), 'the page joins the scopes of its components');
        self::assertCount(2, $app->getContextsByScope('room:1'));
        self::openStream($app, $a, $sid);
        $streamB = self::openStream($app, $b, $sid);
        self::assertSame(['room_1_likes_likes' => 0], self::patchedSignals($streamB->getBody()));
        $before = strlen($streamB->getBody());
        self::assertSame(200, self::postAction($app, 'like', $a, $sid)->getStatus());
        self::drain();
        self::assertSame(['room_1_likes_likes' => 1], self::patchedSignals(substr($streamB->getBody(), $before)), 'the broadcast reached the other tab');
    }

    public function testTabBroadcastSyncsOnlyThisTab(): void
    {
        $app = self::app(self::config()->withBroker($broker = new SpyBroker()));
        $app->page('/', fn (Context $ctx) => $ctx->view(fn () => '<main id="m"></main>'));
        [, $id1, $sid] = self::openPage($app);
        [, $id2] = self::openPage($app, '/', $sid);
        $s1 = self::openStream($app, $id1, $sid);
        $s2 = self::openStream($app, $id2, $sid);
        $len2 = strlen($s2->getBody());
        $before = strlen($s1->getBody());
        $app->contexts[$id1]->broadcast();
        self::drain();
        self::assertNotSame($before, strlen($s1->getBody()));
        self::assertSame($len2, strlen($s2->getBody()));
        self::assertSame([], $broker->published);
    }

    // ---- lifecycle ------------------------------------------------------------------

    public function testCleanupRunsCallbacksOnceAndDropsState(): void
    {
        $app = self::app();
        $ctx = self::context($app);
        $ctx->signal(1, 'a');
        $ctx->action(fn () => null, 'go');
        $ctx->view(fn () => 'x');
        $calls = [];
        $ctx->onDisconnect(function (Context $c) use (&$calls): void {
            $calls[] = 'disconnect';
        });
        $ctx->onCleanup(function () {
            throw new \RuntimeException('boom');
        });
        $ctx->onCleanup(function (Context $c) use (&$calls, $ctx): void {
            $calls[] = $c === $ctx ? 'cleanup' : 'other';
        });
        $ctx->cleanup();
        $ctx->cleanup();
        self::assertSame(['disconnect', 'cleanup'], $calls, 'in order, once, a throwing one does not stop the rest');
        self::assertTrue($app->hasLogged('error', 'boom'));
        self::assertTrue($ctx->isDestroyed());
        self::assertSame([], $ctx->getSignals());
        self::assertNull($ctx->findAction('go'));
        self::assertFalse($ctx->hasView());
    }

    public function testIntervalsRunAndAreClearedWithTheContext(): void
    {
        $app = self::app();
        $ctx = self::context($app);
        $ticks = 0;
        $ctx->setInterval(function (Context $c) use (&$ticks): void {
            $ticks++;
            throw new \RuntimeException('tick failed');
        }, 5);
        \Via\sleep(0.05);
        self::assertGreaterThan(0, $ticks);
        self::assertTrue($app->hasLogged('error', 'tick failed'), 'exceptions are logged');
        $ctx->cleanup();
        $seen = $ticks;
        \Via\sleep(0.03);
        self::assertSame($seen, $ticks);
    }

    public function testClearInterval(): void
    {
        $ctx = self::context();
        $ticks = 0;
        $id = $ctx->interval(5, function () use (&$ticks): void {
            $ticks++;
        });
        $ctx->clearInterval($id);
        \Via\sleep(0.03);
        self::assertSame(0, $ticks);
        self::assertFalse(\Via\Timer::clear($id), 'no such timer any more');
    }
}
