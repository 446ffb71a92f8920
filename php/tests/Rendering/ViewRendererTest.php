<?php

declare(strict_types=1);

namespace Via\Framework\Tests\Rendering;

use Via\Framework\Context;
use Via\Framework\Rendering\ViewRenderer;
use Via\Framework\Scope;
use Via\Framework\Tests\Support\AppTestCase;

final class ViewRendererTest extends AppTestCase
{
    protected function setUp(): void
    {
        if (!ViewRenderer::twigAvailable()) {
            self::markTestSkipped('Twig is not installed (Debian: php-twig)');
        }
    }

    public function testCamel(): void
    {
        self::assertSame('addItem', ViewRenderer::camel('add-item'));
        self::assertSame('addItem', ViewRenderer::camel('add_item'));
        self::assertSame('save', ViewRenderer::camel('save'));
        self::assertSame('c12Inc', ViewRenderer::camel('c12-inc'));
    }

    public function testTemplatesGetSignalsActionsAndGlobals(): void
    {
        $app = self::app(self::config()->withBasePath('/app'));
        $app->renderer()->addTemplate('page.twig', '<main id="p">{{ count.int }} {{ count.id }} {{ addItem.url }} {{ contextId }} {{ currentRoute }} {{ basePath }} {{ _via.signals|length }} {{ extra }}</main>');
        $app->page('/todo', function (Context $ctx): void {
            $ctx->signal(3, 'count');
            $ctx->action(fn () => null, 'add-item');
            $ctx->view('page.twig', ['extra' => 'E']);
        });
        [$res, $ctxId] = self::openPage($app, '/todo');
        $count = $app->contexts[$ctxId]->getSignal('count')->id();
        self::assertStringContainsString("<main id=\"p\">3 $count /app/_action/add-item $ctxId /todo /app/ 1 E</main>", $res->getBody());
    }

    public function testExplicitDataWins(): void
    {
        $ctx = new Context('/_/x', '/', self::app(), null, null);
        $ctx->signal(1, 'count');
        self::assertSame('mine /', $ctx->renderString('{{ count }} {{ currentRoute }}', ['count' => 'mine']));
    }

    public function testAutoescape(): void
    {
        $ctx = new Context('/_/x', '/', self::app(), null, null);
        self::assertSame('&lt;b&gt;', $ctx->renderString('{{ v }}', ['v' => '<b>']));
    }

    public function testBlockRendersOnUpdatesOnly(): void
    {
        $app = self::app();
        $app->renderer()->addTemplate('board.twig', '<section id="board"><h1>Board</h1>{% block notes %}<ul id="notes">{% for n in notes.array %}<li>{{ n }}</li>{% endfor %}</ul>{% endblock %}</section>');
        $app->page('/board', function (Context $ctx): void {
            $ctx->scope(Scope::ROUTE);
            $notes = $ctx->signal(['a'], 'notes');
            $ctx->action(fn () => $notes->setValue([...$notes->array(), 'b']), 'add');
            $ctx->view('board.twig', block: 'notes');
        });
        [$res, $ctxId, $sid] = self::openPage($app, '/board');
        self::assertStringContainsString('<section id="board"><h1>Board</h1><ul id="notes"><li>a</li></ul></section>', $res->getBody(), 'the first render is the whole template');
        $stream = self::openStream($app, $ctxId, $sid);
        self::assertSame(['<ul id="notes"><li>a</li></ul>'], self::patchedElements($stream->getBody()));
        $before = strlen($stream->getBody());
        self::postAction($app, 'add', $ctxId, $sid);
        self::drain();
        self::assertSame(['<ul id="notes"><li>a</li><li>b</li></ul>'], self::patchedElements(substr($stream->getBody(), $before)));
    }

    public function testTemplateDirectory(): void
    {
        $dir = sys_get_temp_dir() . '/via-twig-' . bin2hex(random_bytes(4));
        mkdir($dir);
        file_put_contents("$dir/hello.twig", 'Hello {{ name }}');
        try {
            $ctx = new Context('/_/x', '/', self::app(self::config()->withTemplateDir($dir)), null, null);
            self::assertSame('Hello Ann', $ctx->render('hello.twig', ['name' => 'Ann']));
        } finally {
            unlink("$dir/hello.twig");
            rmdir($dir);
        }
    }

    public function testGetTwigIsTheEnvironment(): void
    {
        self::assertInstanceOf(\Twig\Environment::class, self::app()->getTwig());
    }

    public function testUnknownTemplateFailsThePage(): void
    {
        $app = self::app();
        $app->page('/', fn (Context $ctx) => $ctx->view('missing.twig'));
        self::assertSame(500, self::get($app, '/')->getStatus());
        self::assertSame([], $app->contexts);
    }
}
