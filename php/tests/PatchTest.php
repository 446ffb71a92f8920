<?php

declare(strict_types=1);

namespace Via\Framework\Tests;

use PHPUnit\Framework\TestCase;
use Via\Framework\Patch;

final class PatchTest extends TestCase
{
    public function testElementsByRootIdInOuterMode(): void
    {
        $p = Patch::elements('<div id="a">x</div>');
        self::assertSame(Patch::ELEMENTS, $p->event);
        self::assertSame('datastar-patch-elements', $p->event);
        self::assertSame('elements <div id="a">x</div>', $p->data);
    }

    public function testEveryLineIsAnElementsLine(): void
    {
        $p = Patch::elements("\n  <ul id=\"l\">\n<li>1</li>\r\n<li>2</li>\r</ul>\n");
        self::assertSame("elements <ul id=\"l\">\nelements <li>1</li>\nelements <li>2</li>\nelements </ul>", $p->data);
    }

    public function testBlankLinesInsideTheHtmlAreKept(): void
    {
        // Datastar joins the elements lines with "\n": a dropped blank line changes <pre> text.
        $p = Patch::elements("<pre id=\"p\">a\n\nb</pre>");
        self::assertSame("elements <pre id=\"p\">a\nelements \nelements b</pre>", $p->data);
    }

    public function testSelectorModeAndViewTransition(): void
    {
        $p = Patch::elements('<li>x</li>', '#list', 'append', true);
        self::assertSame("selector #list\nmode append\nuseViewTransition true\nelements <li>x</li>", $p->data);
    }

    /** @return iterable<string, array{string}> */
    public static function modes(): iterable
    {
        foreach (['inner', 'replace', 'prepend', 'append', 'before', 'after', 'remove'] as $m) {
            yield $m => [$m];
        }
    }

    /** @dataProvider modes */
    public function testEveryModeButOuterIsWritten(string $mode): void
    {
        self::assertSame("selector #x\nmode $mode\nelements <p>y</p>", Patch::elements('<p>y</p>', '#x', $mode)->data);
    }

    public function testOuterIsTheDefaultAndNotWritten(): void
    {
        self::assertSame("selector #x\nelements <p>y</p>", Patch::elements('<p>y</p>', '#x', 'outer')->data);
        self::assertSame(['outer', 'inner', 'replace', 'prepend', 'append', 'before', 'after', 'remove'], Patch::MODES);
    }

    public function testUnknownModeIsRefused(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('unknown patch mode "morph"');
        Patch::elements('<p></p>', '#x', 'morph');
    }

    public function testSelectorMustBeOneLine(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        Patch::elements('<p></p>', "#x\nmode remove");
    }

    public function testRemove(): void
    {
        $p = Patch::remove('#gone, .old');
        self::assertSame(Patch::ELEMENTS, $p->event);
        self::assertSame("selector #gone, .old\nmode remove", $p->data);
    }

    public function testRemoveSelectorMustBeOneLine(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        Patch::remove("#a\r#b");
    }

    public function testSignalsAsJson(): void
    {
        $p = Patch::signals(['a' => 1, 'b' => ['c' => 'd/é'], 'gone' => null]);
        self::assertSame(Patch::SIGNALS, $p->event);
        self::assertSame('datastar-patch-signals', $p->event);
        self::assertSame('signals {"a":1,"b":{"c":"d/é"},"gone":null}', $p->data);
    }

    public function testEmptySignalsAreAnObject(): void
    {
        self::assertSame('signals {}', Patch::signals([])->data);
    }

    public function testListsStayArrays(): void
    {
        self::assertSame('signals {"items":["a","b"]}', Patch::signals(['items' => ['a', 'b']])->data);
    }

    public function testOnlyIfMissing(): void
    {
        self::assertSame("onlyIfMissing true\nsignals {\"a\":1}", Patch::signals(['a' => 1], true)->data);
    }

    public function testSignalsThatAreNotJsonAreAnError(): void
    {
        $this->expectException(\JsonException::class);
        Patch::signals(['bad' => "\xff"]);
    }

    public function testTheSameHtmlAgainIsTheSamePatch(): void
    {
        // A broadcast's tabs share one render; the patch is built once for it.
        $html = "<div id=\"r\">\n  <span>1</span>\n</div>\n";
        self::assertSame(Patch::elements($html), Patch::elements($html));
        self::assertNotSame(Patch::elements($html), Patch::elements($html, '#r'));
        self::assertSame("elements <div id=\"r\">\nelements   <span>1</span>\nelements </div>", Patch::elements($html)->data);
        self::assertSame('elements <p id="q">2</p>', Patch::elements('<p id="q">2</p>')->data);
    }

    public function testTheSameSignalsAgainAreTheSamePatch(): void
    {
        $signals = ['room:hits' => 3, 'list' => ['a', 'b']];
        self::assertSame(Patch::signals($signals), Patch::signals(['room:hits' => 3, 'list' => ['a', 'b']]));
        self::assertSame('signals {"room:hits":4,"list":["a","b"]}', Patch::signals(['room:hits' => 4, 'list' => ['a', 'b']])->data);
        self::assertSame("onlyIfMissing true\nsignals {\"room:hits\":4,\"list\":[\"a\",\"b\"]}", Patch::signals(['room:hits' => 4, 'list' => ['a', 'b']], true)->data);
    }

    public function testAnObjectSignalIsEncodedAsItIsNow(): void
    {
        $value = new class () implements \JsonSerializable {
            public int $n = 1;

            public function jsonSerialize(): mixed
            {
                return $this->n;
            }
        };
        self::assertSame('signals {"v":1}', Patch::signals(['v' => $value])->data);
        $value->n = 2;
        self::assertSame('signals {"v":2}', Patch::signals(['v' => $value])->data);
        self::assertSame('signals {"w":{"v":2}}', Patch::signals(['w' => ['v' => $value]])->data);
        $value->n = 3;
        self::assertSame('signals {"w":{"v":3}}', Patch::signals(['w' => ['v' => $value]])->data);
    }

    public function testASignalWrittenThroughAReferenceIsEncodedAsItIsNow(): void
    {
        $signals = ['x' => 1, 'y' => 2];
        foreach ($signals as &$value) {
        }
        self::assertSame('signals {"x":1,"y":2}', Patch::signals($signals)->data);
        $value = 99; // $signals['y'] is that reference
        self::assertSame('signals {"x":1,"y":99}', Patch::signals($signals)->data);
        $nested = ['n' => ['a' => 1]];
        $inner = &$nested['n']['a'];
        self::assertSame('signals {"n":{"a":1}}', Patch::signals($nested)->data);
        $inner = 5;
        self::assertSame('signals {"n":{"a":5}}', Patch::signals($nested)->data);
        unset($value, $inner);
    }

    public function testNegativeZeroIsNotTakenForZero(): void
    {
        self::assertSame('signals {"x":0}', Patch::signals(['x' => 0.0])->data);
        self::assertSame('signals {"x":-0}', Patch::signals(['x' => -0.0])->data);
    }

    public function testScriptIsAppendedToBodyAndRemovesItself(): void
    {
        $p = Patch::script('console.log(1)');
        self::assertSame(Patch::ELEMENTS, $p->event);
        self::assertSame("selector body\nmode append\nelements <script data-effect=\"el.remove()\">console.log(1)</script>", $p->data);
    }

    public function testScriptCannotCloseItsElement(): void
    {
        $p = Patch::script('x = "</script><img src=x onerror=alert(1)>"');
        self::assertStringNotContainsString('</script><img', $p->data);
        self::assertStringContainsString('<\/script><img', $p->data);
        self::assertStringEndsWith('</script>', $p->data);
    }

    public function testMultiLineScript(): void
    {
        self::assertSame(
            "selector body\nmode append\nelements <script data-effect=\"el.remove()\">a();\nelements b();</script>",
            Patch::script("a();\nb();")->data,
        );
    }
}
