<?php

declare(strict_types=1);

namespace Via\Framework\Tests\Rendering;

use Via\Framework\Context;
use Via\Framework\Rendering\Shell;
use Via\Framework\Tests\Support\AppTestCase;

final class ShellTest extends AppTestCase
{
    private static function ctx(string $id = '/_/abc'): Context
    {
        return new Context($id, '/', self::app(), null, null);
    }

    public function testDefaultShell(): void
    {
        $html = Shell::build(self::ctx(), '<main id="m">hi</main>', '/', ['<meta h>'], ['<script f></script>'], null);
        self::assertStringStartsWith('<!DOCTYPE html>', $html);
        self::assertStringContainsString("<meta h>\n</head>", $html);
        self::assertStringContainsString("<main id=\"m\">hi</main>\n<script>addEventListener('beforeunload'", $html);
        self::assertStringContainsString("<script f></script>\n</body>", $html);
        self::assertStringNotContainsString('{{', $html, 'every placeholder is filled');
    }

    public function testTheContextIdIsEscapedEverywhere(): void
    {
        $evil = "/x'\"<>&_/1";
        $html = Shell::build(self::ctx($evil), '', '/', [], [], null);
        self::assertStringNotContainsString($evil, $html);
        self::assertSame(1, preg_match('/data-signals="([^"]*)"/', $html, $m));
        self::assertSame($evil, json_decode(html_entity_decode($m[1], ENT_QUOTES), true)['via_ctx']);
        self::assertSame(1, preg_match("/sendBeacon\\('\\/_session\\/close', '([^']*)'\\)/", $html, $b));
        self::assertSame($evil, html_entity_decode($b[1], ENT_QUOTES));
    }

    public function testAViewWithHtmlIsItsOwnDocument(): void
    {
        $doc = "<!doctype html>\n<HTML><body>x</body></HTML>";
        self::assertSame($doc, Shell::build(self::ctx(), $doc, '/', ['<meta>'], [], null));
    }

    public function testContentIsNeverTakenForAPlaceholder(): void
    {
        $html = Shell::build(self::ctx(), '<p>{{ base_path }} {{ content }}</p>', '/b/', [], [], null);
        self::assertStringContainsString('<p>{{ base_path }} {{ content }}</p>', $html);
    }

    public function testCustomShellWithSignalPlaceholders(): void
    {
        $file = tempnam(sys_get_temp_dir(), 'shell');
        file_put_contents($file, '<html><title>{{ title }}</title><i data-text="${{ title.id }}"></i>{{ head_content }}<body data-signals="{{ signals_json }}">{{ content }}{{ foot_content }}{{ styles }}<a href="{{ base_path }}x">{{ context_id }}</a></body></html>');
        try {
            $ctx = self::ctx();
            $title = $ctx->signal('A & B', 'title');
            $html = Shell::build($ctx, 'BODY', '/b/', ['<meta>'], ['<foot>'], $file);
            self::assertSame(
                '<html><title>A &amp; B</title><i data-text="$' . $title->id() . '"></i><meta><body data-signals="'
                . htmlspecialchars((string) json_encode(['via_ctx' => '/_/abc', '_disconnected' => false], JSON_UNESCAPED_SLASHES), ENT_QUOTES)
                . '">BODY<foot><a href="/b/x">/_/abc</a></body></html>',
                $html,
            );
        } finally {
            unlink($file);
        }
    }

    public function testSignalsNamedLikePlaceholdersDoNotReplaceThem(): void
    {
        $ctx = self::ctx();
        foreach (['content', 'base_path', 'head_content', 'foot_content', 'context_id', 'signals_json', 'styles'] as $name) {
            $ctx->signal('SIGNAL-' . $name, $name);
        }
        $html = Shell::build($ctx, '<main id="m">page</main>', '/b/', ['<meta h>'], ['<foot>'], null);
        self::assertStringNotContainsString('SIGNAL-', $html);
        self::assertStringContainsString('<main id="m">page</main>', $html);
        self::assertLessThan(strpos($html, '</body>'), strpos($html, '<main id="m">page</main>'));
        self::assertStringContainsString('href="/b/via.css"', $html);
        self::assertStringContainsString('<meta h>', $html);
    }

    public function testUnreadableTemplateThrows(): void
    {
        $this->expectException(\RuntimeException::class);
        $this->expectExceptionMessage('cannot read the shell template');
        Shell::build(self::ctx(), '', '/', [], [], '/nonexistent/shell.html');
    }
}
