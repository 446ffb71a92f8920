<?php

declare(strict_types=1);

namespace Via\Framework\Tests\Composition;

use Via\Framework\Attributes\Action;
use Via\Framework\Attributes\Broadcast;
use Via\Framework\Attributes\OnCleanup;
use Via\Framework\Attributes\OnDisconnect;
use Via\Framework\Attributes\Persist;
use Via\Framework\Attributes\Signal;
use Via\Framework\Composition\ClassMetadata;
use Via\Framework\Context;
use Via\Framework\Scope;
use Via\Framework\Tests\Support\AppTestCase;

#[Broadcast(Scope::ROUTE)]
final class PollPage
{
    /** @var list<string> */
    public static array $hooks = [];

    #[Signal(Scope::ROUTE)]
    public int $yes = 0;
    #[Signal]
    public string $name = 'anon';
    #[Persist]
    public int $myVotes = 0;
    public string $topic = '';
    public ?int $id = null;

    #[Action]
    public function vote(Context $ctx): void
    {
        $this->yes++;
        $this->myVotes++;
        $this->name = strtoupper($this->name);
    }

    #[Action('reset-all', 'global')]
    public function reset(Context $ctx): void
    {
        $this->yes = 0;
    }

    #[OnDisconnect]
    public function bye(Context $ctx): void
    {
        self::$hooks[] = 'disconnect';
    }

    #[OnCleanup]
    public function clean(Context $ctx): void
    {
        self::$hooks[] = 'cleanup';
    }

    public function view(Context $ctx, string $topic, int $id): void
    {
        $this->topic = $topic;
        $this->id = $id;
        $ctx->view(fn () => "<main id=\"poll\">{$this->topic} {$this->id} yes={$this->yes} mine={$this->myVotes} {$this->name}</main>");
    }
}

final class ReturnsHtml
{
    #[Signal]
    public int $n = 1;

    public function view(Context $ctx): string
    {
        return "<p id=\"r\">n={$this->n}</p>";
    }
}

final class NoView
{
}

final class TwoCleanups
{
    #[OnCleanup]
    public function a(): void
    {
    }

    #[OnCleanup]
    public function b(): void
    {
    }

    public function view(Context $ctx): void
    {
    }
}

final class CounterComponent
{
    #[Signal]
    public int $count = 0;

    #[Action]
    public function inc(Context $ctx): void
    {
        $this->count++;
    }

    public function view(Context $ctx): void
    {
        $ctx->view(fn () => "<b>{$this->count}</b>");
    }
}

#[Broadcast('room:9')]
final class MixedScopes
{
    #[Signal(Scope::ROUTE)]
    public int $visits = 0;

    #[Action]
    public function visit(Context $ctx): void
    {
        $this->visits++;
    }

    public function view(Context $ctx): void
    {
        $ctx->view(fn () => "<p id=\"v\">{$this->visits}</p>");
    }
}

final class PageMountTest extends AppTestCase
{
    protected function setUp(): void
    {
        PollPage::$hooks = [];
    }

    public function testMetadata(): void
    {
        $m = ClassMetadata::analyze(PollPage::class);
        self::assertSame(['yes' => Scope::ROUTE, 'name' => Scope::TAB], $m->signals);
        self::assertSame(['myVotes'], $m->persist);
        self::assertSame(['vote' => ['name' => 'vote', 'scope' => null], 'reset' => ['name' => 'reset-all', 'scope' => 'global']], $m->actions);
        self::assertSame('bye', $m->onDisconnect);
        self::assertSame('clean', $m->onCleanup);
        self::assertSame(Scope::ROUTE, $m->broadcast);
        self::assertSame(['topic' => 'string', 'id' => 'int'], $m->viewParams);
        self::assertSame($m, ClassMetadata::analyze(PollPage::class), 'analysed once');
    }

    public function testAViewMethodIsRequired(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('view(');
        ClassMetadata::analyze(NoView::class);
    }

    public function testOneHookOfEachKind(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        ClassMetadata::analyze(TwoCleanups::class);
    }

    public function testMountedPage(): void
    {
        $app = self::app();
        $app->mount(PollPage::class, '/poll/{topic}/{id}');
        [$res, $ctxId, $sid] = self::openPage($app, '/poll/lunch/7');
        self::assertStringContainsString('<main id="poll">lunch 7 yes=0 mine=0 anon</main>', $res->getBody(), 'view params cast and injected');
        $ctx = $app->contexts[$ctxId];
        self::assertSame('route:/poll/{topic}/{id}', $ctx->getPrimaryScope(), '#[Broadcast] sets the primary scope');
        self::assertSame(Scope::TAB, $ctx->getSignal('name')->scope());
        self::assertSame('route:/poll/{topic}/{id}', $ctx->getSignal('yes')->scope());
        self::assertNull($ctx->getSignal('myVotes'), '#[Persist] makes no signal');
        self::assertNull($ctx->getSignal('topic'));
        self::assertSame('vote', $ctx->getAction('vote')->id());
        self::assertNotNull($app->getScopedAction('route:/poll/{topic}/{id}', 'vote'), 'an action without a scope takes the broadcast scope');
        self::assertNotNull($app->getScopedAction('global', 'reset-all'));
    }

    public function testActionsSyncPropertiesBothWays(): void
    {
        $app = self::app();
        $app->mount(PollPage::class, '/poll/{topic}/{id}');
        [, $a, $sid] = self::openPage($app, '/poll/lunch/7');
        [, $b] = self::openPage($app, '/poll/lunch/7', $sid);
        $streamA = self::openStream($app, $a, $sid);
        $streamB = self::openStream($app, $b, $sid);
        $nameId = $app->contexts[$a]->getSignal('name')->id();
        $beforeB = strlen($streamB->getBody());
        $beforeA = strlen($streamA->getBody());

        self::assertSame(200, self::postAction($app, 'vote', $a, $sid, [$nameId => 'ann'])->getStatus());
        self::drain();
        self::assertSame(1, $app->contexts[$a]->getSignal('yes')->getValue());
        self::assertSame('ANN', $app->contexts[$a]->getSignal('name')->getValue(), 'the client value reached the property, the property the signal');
        self::assertStringContainsString('yes=1 mine=1 ANN', substr($streamA->getBody(), $beforeA));
        self::assertSame(['route__poll__topic___id__yes' => 1], self::patchedSignals(substr($streamB->getBody(), $beforeB)), 'the scoped change was broadcast to the other tab');

        self::postAction($app, 'vote', $a, $sid);
        self::assertStringContainsString('mine=2', $app->contexts[$a]->renderView(false), '#[Persist] state is kept across actions');
        self::assertStringContainsString('yes=2 mine=0', $app->contexts[$b]->renderView(false), 'each tab has its own instance');
    }

    public function testASignalScopeOtherThanTheBroadcastScopeIsShared(): void
    {
        $app = self::app();
        $app->mount(MixedScopes::class, '/m');
        [, $a, $sid] = self::openPage($app, '/m');
        [, $b] = self::openPage($app, '/m', $sid);
        self::assertSame(['room:9', 'tab', 'route:/m'], $app->contexts[$a]->getScopes());
        self::assertSame($app->contexts[$a]->getSignal('visits'), $app->contexts[$b]->getSignal('visits'));
        self::assertCount(1, $app->getScopedSignals('route:/m'));
        self::openStream($app, $a, $sid);
        $streamB = self::openStream($app, $b, $sid);
        $before = strlen($streamB->getBody());
        self::assertSame(200, self::postAction($app, 'visit', $a, $sid)->getStatus());
        self::drain();
        self::assertSame(['route__m_visits' => 1], self::patchedSignals(substr($streamB->getBody(), $before)));
        self::assertStringContainsString('<p id="v">1</p>', substr($streamB->getBody(), $before));
    }

    public function testHooksRunAtDestruction(): void
    {
        $app = self::app();
        $app->mount(PollPage::class, '/poll/{topic}/{id}');
        [, $ctxId] = self::openPage($app, '/poll/x/1');
        self::assertSame([], PollPage::$hooks);
        $app->destroyContext($app->contexts[$ctxId]);
        self::assertSame(['disconnect', 'cleanup'], PollPage::$hooks);
    }

    public function testFactory(): void
    {
        $app = self::app();
        $made = [];
        $app->mount(ReturnsHtml::class, '/r', function (Context $ctx) use (&$made): ReturnsHtml {
            $made[] = $ctx->getRoute();
            $page = new ReturnsHtml();
            $page->n = 5;
            return $page;
        });
        [$res] = self::openPage($app, '/r');
        self::assertSame(['/r'], $made);
        self::assertStringContainsString('<p id="r">n=5</p>', $res->getBody(), 'a view() that returns HTML becomes the view');
    }

    public function testComponentFromAClass(): void
    {
        $app = self::app();
        $render = null;
        $app->page('/', function (Context $ctx) use (&$render): void {
            $render = $ctx->component(CounterComponent::class, 'counter');
            $ctx->view(fn () => '<main id="m">' . $render() . '</main>');
        });
        [$res, $ctxId, $sid] = self::openPage($app);
        $child = array_values($app->contexts[$ctxId]->getComponents())[0];
        self::assertStringContainsString('<div id="' . $child->elementId() . '"><b>0</b></div>', $res->getBody());
        self::assertSame('counter-inc', $child->getAction('inc')->id());
        self::assertSame(200, self::postAction($app, 'counter-inc', $ctxId, $sid)->getStatus(), 'a component action is found through its page');
        self::assertSame(1, $child->getSignal('count')->getValue());
    }
}
