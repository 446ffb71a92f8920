<?php

declare(strict_types=1);

namespace Via\Framework\Tests;

use PHPUnit\Framework\TestCase;
use Via\Framework\Config;
use Via\Framework\Scope;
use Via\Framework\Signal;
use Via\Framework\Tests\Support\SpyBroker;
use Via\Framework\Tests\Support\TestVia;

final class SignalTest extends TestCase
{
    private SpyBroker $broker;
    private TestVia $app;

    protected function setUp(): void
    {
        $this->broker = new SpyBroker();
        $this->app = new TestVia((new Config())->withBroker($this->broker));
    }

    public function testIdentityAndValue(): void
    {
        $s = new Signal('count_x', 3, 'room:1');
        self::assertSame('count_x', $s->id());
        self::assertSame('count_x', $s->getId());
        self::assertSame('room:1', $s->scope());
        self::assertSame(3, $s->getValue());
        self::assertSame('count_x', (string) $s);
    }

    public function testStartsChangedSoThatTheInitialValueIsSent(): void
    {
        $s = new Signal('a', 1);
        self::assertTrue($s->hasChanged());
        $s->markSynced();
        self::assertFalse($s->hasChanged());
        $s->setValue(2);
        self::assertTrue($s->hasChanged());
    }

    public function testSetValueWithoutMarkingChanged(): void
    {
        $s = new Signal('a', 1);
        $s->markSynced();
        $s->setValue(5, markChanged: false);
        self::assertSame(5, $s->getValue());
        self::assertFalse($s->hasChanged());
    }

    /** @return iterable<string, array{mixed, string, int, float, bool, array<mixed>}> */
    public static function typedValues(): iterable
    {
        yield 'int' => [42, '42', 42, 42.0, true, [42]];
        yield 'zero' => [0, '0', 0, 0.0, false, [0]];
        yield 'numeric string' => ['3.5', '3.5', 3, 3.5, false, ['3.5']];
        yield 'word' => ['abc', 'abc', 0, 0.0, false, ['abc']];
        yield 'yes' => ['yes', 'yes', 0, 0.0, true, ['yes']];
        yield 'ON' => ['ON', 'ON', 0, 0.0, true, ['ON']];
        yield 'true string' => ['true', 'true', 0, 0.0, true, ['true']];
        yield 'false string' => ['false', 'false', 0, 0.0, false, ['false']];
        yield 'true' => [true, '1', 1, 1.0, true, [true]];
        yield 'false' => [false, '', 0, 0.0, false, [false]];
        yield 'null' => [null, '', 0, 0.0, false, []];
        yield 'list' => [[1, 2], '[1,2]', 0, 0.0, true, [1, 2]];
        yield 'empty list' => [[], '[]', 0, 0.0, false, []];
        yield 'map' => [['a' => 'b'], '{"a":"b"}', 0, 0.0, true, ['a' => 'b']];
        yield 'float' => [2.75, '2.75', 2, 2.75, true, [2.75]];
    }

    /**
     * @dataProvider typedValues
     * @param array<mixed> $array
     */
    public function testTypedReaders(mixed $value, string $string, int $int, float $float, bool $bool, array $array): void
    {
        $s = new Signal('x', $value);
        self::assertSame($string, $s->string());
        self::assertSame($int, $s->int());
        self::assertSame($float, $s->float());
        self::assertSame($bool, $s->bool());
        self::assertSame($array, $s->array());
    }

    public function testObjectsAreJsonInString(): void
    {
        self::assertSame('{"k":1}', (new Signal('x', (object) ['k' => 1]))->string());
    }

    public function testTemplateHelpers(): void
    {
        $s = new Signal('name_ctx', 'v');
        self::assertSame('data-bind="name_ctx"', $s->bind());
        self::assertSame('<span data-text="$name_ctx"></span>', $s->text());
        self::assertSame('$name_ctx', $s->ref());
    }

    public function testClientWritable(): void
    {
        self::assertTrue((new Signal('a', 1, Scope::TAB))->isClientWritable());
        self::assertTrue((new Signal('a', 1, Scope::TAB, true, false))->isClientWritable());
        self::assertFalse((new Signal('a', 1, 'room:1'))->isClientWritable());
        self::assertTrue((new Signal('a', 1, 'room:1', true, true))->isClientWritable());
    }

    public function testAScopedSignalBroadcastsItsScopeWhenItReallyChanges(): void
    {
        $s = new Signal('room_1__n', 1, 'room:1', true, false, $this->app);
        $s->setValue(2);
        self::assertSame(['room:1'], $this->broker->published);
        $s->setValue(2); // the same value
        $s->setValue('2'); // not === 2
        self::assertSame(['room:1', 'room:1'], $this->broker->published);
    }

    public function testNoBroadcastWhenAnyConditionFails(): void
    {
        (new Signal('a', 1, 'room:1', true, false, $this->app))->setValue(2, broadcast: false);
        (new Signal('b', 1, 'room:1', false, false, $this->app))->setValue(2);
        (new Signal('c', 1, 'room:1', true, false, $this->app))->setValue(2, markChanged: false);
        (new Signal('d', 1, Scope::TAB, true, false, $this->app))->setValue(2);
        (new Signal('e', 1, 'room:1'))->setValue(2); // no app
        self::assertSame([], $this->broker->published);
    }
}
