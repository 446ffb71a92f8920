<?php

declare(strict_types=1);

namespace Via\Framework\Tests;

use PHPUnit\Framework\TestCase;
use Via\Framework\Scope;

final class ScopeTest extends TestCase
{
    public function testConstants(): void
    {
        self::assertSame(['tab', 'route', 'session', 'global'], [Scope::TAB, Scope::ROUTE, Scope::SESSION, Scope::GLOBAL]);
    }

    public function testParseAndBuildAreInverse(): void
    {
        self::assertSame(['route', '/users/{id}'], Scope::parse('route:/users/{id}'));
        self::assertSame(['room', '42', 'x'], Scope::parse('room:42:x'));
        self::assertSame(['tab'], Scope::parse('tab'));
        self::assertSame('room:42:x', Scope::build('room', '42', 'x'));
        self::assertSame('room:42', Scope::build(...Scope::parse('room:42')));
    }

    public function testBuiltInScopes(): void
    {
        foreach (['tab', 'route', 'session', 'global'] as $s) {
            self::assertTrue(Scope::isBuiltIn($s), $s);
        }
        foreach (['route:/', 'session:abc', 'room', 'TAB', ''] as $s) {
            self::assertFalse(Scope::isBuiltIn($s), $s);
        }
    }

    public function testRouteBasedScopes(): void
    {
        self::assertTrue(Scope::isRouteBased('route'));
        self::assertTrue(Scope::isRouteBased('route:/x'));
        self::assertFalse(Scope::isRouteBased('routes:/x'));
        self::assertFalse(Scope::isRouteBased('global'));
        self::assertSame('route:/users/{id}', Scope::routeScope('/users/{id}'));
    }

    public function testMatchesIsExactWithoutAStar(): void
    {
        self::assertTrue(Scope::matches('room:1', 'room:1'));
        self::assertFalse(Scope::matches('room:10', 'room:1'));
        self::assertFalse(Scope::matches('room:1', 'room:10'));
    }

    public function testStarIsAWildcardAnchoredAtBothEnds(): void
    {
        self::assertTrue(Scope::matches('room:1', 'room:*'));
        self::assertTrue(Scope::matches('room:', 'room:*'));
        self::assertTrue(Scope::matches('room:a:b', 'room:*'));
        self::assertFalse(Scope::matches('xroom:1', 'room:*'));
        self::assertTrue(Scope::matches('a-mid-z', 'a*z'));
        self::assertFalse(Scope::matches('a-mid-zz-', 'a*z'));
        self::assertFalse(Scope::matches("a-z\n", 'a*z'), 'anchored at the very end');
    }

    public function testOtherPatternCharactersAreLiteral(): void
    {
        self::assertFalse(Scope::matches('roomX1', 'room.*1'));
        self::assertTrue(Scope::matches('room.x1', 'room.*1'));
        self::assertFalse(Scope::matches('route:/a', 'route:/(a|b)*'));
    }

    /** @return iterable<string, array{string, bool}> */
    public static function wireScopes(): iterable
    {
        yield 'tab' => ['tab', true];
        yield 'global' => ['global', true];
        yield 'route path' => ['route:/users/{id}', false];
        yield 'route plain path' => ['route:/users/a_b-c.d', true];
        yield 'session' => ['session:0123456789abcdef0123456789abcdef', true];
        yield 'wildcard' => ['room:*', true];
        yield 'wildcard in the middle' => ['a*b', true];
        yield 'leading star' => ['*', false];
        yield 'leading star pattern' => ['*:x', false];
        yield 'two stars' => ['room:*:*', false];
        yield 'empty' => ['', false];
        yield 'space' => ['room 1', false];
        yield 'json' => ['{"scope":1}', false];
        yield 'newline inside' => ["room:1\nroom:2", false];
        yield 'trailing newline' => ["room:1\n", false];
        yield 'at the limit' => [str_repeat('a', 256), true];
        yield 'over the limit' => [str_repeat('a', 257), false];
        yield 'non-ascii' => ['räume', false];
    }

    /** @dataProvider wireScopes */
    public function testIsValidWireScope(string $scope, bool $valid): void
    {
        self::assertSame($valid, Scope::isValidWireScope($scope));
    }
}
