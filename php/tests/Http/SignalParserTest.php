<?php

declare(strict_types=1);

namespace Via\Framework\Tests\Http;

use PHPUnit\Framework\TestCase;
use Via\Framework\Http\SignalError;
use Via\Framework\Http\SignalParser;

final class SignalParserTest extends TestCase
{
    private static function parse(array $init): array
    {
        return SignalParser::fromRequest(new \Via\Request($init));
    }

    public function testQueryParameterFirst(): void
    {
        self::assertSame(['from' => 'query'], self::parse([
            'method' => 'POST',
            'uri' => '/x?datastar=' . rawurlencode('{"from":"query"}'),
            'headers' => ['Content-Type' => 'application/json'],
            'body' => '{"from":"body"}',
        ]));
    }

    public function testJsonBody(): void
    {
        self::assertSame(['a' => ['b' => 1]], self::parse(['method' => 'POST', 'headers' => ['Content-Type' => 'application/json; charset=utf-8'], 'body' => '{"a":{"b":1}}']));
        self::assertSame(['a' => 1], self::parse(['method' => 'POST', 'body' => '{"a":1}']), 'a JSON object without a content type');
    }

    public function testFormField(): void
    {
        self::assertSame(['via_ctx' => 'c'], self::parse([
            'method' => 'POST',
            'headers' => ['Content-Type' => 'application/x-www-form-urlencoded'],
            'body' => 'datastar=' . rawurlencode('{"via_ctx":"c"}') . '&other=1',
        ]));
        self::assertSame(['k' => 'v'], self::parse(['method' => 'POST', 'post' => ['datastar' => '{"k":"v"}']]));
    }

    public function testNothingIsEmpty(): void
    {
        self::assertSame([], self::parse(['method' => 'GET', 'uri' => '/x']));
        self::assertSame([], self::parse(['method' => 'POST', 'headers' => ['Content-Type' => 'text/plain'], 'body' => 'hello']));
        self::assertSame([], self::parse(['uri' => '/x?datastar[]=1']), 'an array parameter is not JSON');
    }

    public function testNonObjectJsonIsEmpty(): void
    {
        self::assertSame([], SignalParser::decode('5'));
        self::assertSame([], SignalParser::decode('"x"'));
        self::assertSame([], SignalParser::decode('null'));
    }

    public function testBigIntegersStayExact(): void
    {
        self::assertSame(['n' => '123456789012345678901234567890'], SignalParser::decode('{"n":123456789012345678901234567890}'));
    }

    /** @return iterable<string, array{string, int, string}> */
    public static function errors(): iterable
    {
        yield 'truncated' => ['{"a":', 400, 'Malformed signals'];
        yield 'not json' => ['{nope}', 400, 'Malformed signals'];
        yield 'invalid utf-8' => ["{\"a\":\"\xff\"}", 400, 'Malformed signals'];
        // json_decode's depth: nested levels plus one.
        yield 'too deep' => ['{"a":' . str_repeat('[', SignalParser::MAX_DEPTH - 1) . str_repeat(']', SignalParser::MAX_DEPTH - 1) . '}', 400, 'Malformed signals'];
        yield 'too large' => ['{"a":"' . str_repeat('x', SignalParser::MAX_BYTES) . '"}', 413, 'Signals too large'];
    }

    /** @dataProvider errors */
    public function testErrorsCarryTheirStatus(string $json, int $status, string $message): void
    {
        try {
            SignalParser::decode($json);
            self::fail('decoded');
        } catch (SignalError $e) {
            self::assertSame($status, $e->status);
            self::assertSame($message, $e->getMessage());
        }
    }

    public function testAtTheLimitsItDecodes(): void
    {
        $deep = str_repeat('[', SignalParser::MAX_DEPTH - 2) . str_repeat(']', SignalParser::MAX_DEPTH - 2);
        self::assertIsArray(SignalParser::decode('{"a":' . $deep . '}'));
        $pad = SignalParser::MAX_BYTES - strlen('{"a":""}');
        self::assertSame(['a' => str_repeat('x', $pad)], SignalParser::decode('{"a":"' . str_repeat('x', $pad) . '"}'));
    }
}
