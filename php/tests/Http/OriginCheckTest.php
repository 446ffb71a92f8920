<?php

declare(strict_types=1);

namespace Via\Framework\Tests\Http;

use PHPUnit\Framework\TestCase;
use Via\Framework\Http\OriginCheck;

/** The CSRF matrix of actions (php-via contract §2.10). */
final class OriginCheckTest extends TestCase
{
    /** @return iterable<string, array{?string, ?string, ?list<string>, bool, bool}> origin, host, allowlist, dev mode, allowed */
    public static function matrix(): iterable
    {
        $list = ['https://app.example', 'http://localhost:3000'];
        // An allowlist: no Origin passes (not a browser), a present one must be listed exactly.
        yield 'list: no origin' => [null, 'app.example', $list, false, true];
        yield 'list: listed' => ['https://app.example', 'other.example', $list, false, true];
        yield 'list: second entry' => ['http://localhost:3000', null, $list, false, true];
        yield 'list: not listed' => ['https://evil.example', 'app.example', $list, false, false];
        yield 'list: same host but unlisted' => ['https://other.example', 'other.example', $list, false, false];
        yield 'list: case differs' => ['https://APP.example', 'app.example', $list, false, false];
        yield 'list: trailing slash' => ['https://app.example/', 'app.example', $list, false, false];
        yield 'list: other scheme' => ['http://app.example', 'app.example', $list, false, false];
        yield 'list: dev mode changes nothing' => ['https://evil.example', 'evil.example', $list, true, false];
        yield 'empty list: a browser is refused' => ['https://app.example', 'app.example', [], false, false];
        yield 'empty list: no origin passes' => [null, 'app.example', [], false, true];
        // No allowlist: the Origin, scheme stripped, must equal Host.
        yield 'same host http' => ['http://app.example', 'app.example', null, false, true];
        yield 'same host https' => ['https://app.example', 'app.example', null, false, true];
        yield 'same host and port' => ['http://localhost:3000', 'localhost:3000', null, false, true];
        yield 'port differs' => ['http://localhost:3001', 'localhost:3000', null, false, false];
        yield 'port missing in origin' => ['http://localhost', 'localhost:3000', null, false, false];
        yield 'other host' => ['https://evil.example', 'app.example', null, false, false];
        yield 'host suffix' => ['https://evil-app.example', 'app.example', null, false, false];
        yield 'host prefix' => ['https://app.example.evil', 'app.example', null, false, false];
        yield 'case differs' => ['https://App.example', 'app.example', null, false, false];
        yield 'opaque origin' => ['null', 'app.example', null, false, false];
        yield 'other scheme' => ['ftp://app.example', 'app.example', null, false, false];
        yield 'no scheme' => ['app.example', 'app.example', null, false, false];
        yield 'no origin' => [null, 'app.example', null, false, false];
        yield 'empty origin' => ['', 'app.example', null, false, false];
        yield 'no origin, dev mode' => [null, 'app.example', null, true, true];
        yield 'no host' => ['http://app.example', null, null, false, false];
        yield 'empty host' => ['http://app.example', '', null, false, false];
        yield 'no host, dev mode' => ['http://app.example', null, null, true, true];
        yield 'foreign origin, dev mode' => ['https://evil.example', 'app.example', null, true, false];
    }

    /**
     * @dataProvider matrix
     * @param list<string>|null $trusted
     */
    public function testMatrix(?string $origin, ?string $host, ?array $trusted, bool $devMode, bool $allowed): void
    {
        self::assertSame($allowed, OriginCheck::allows($origin, $host, $trusted, $devMode));
    }
}
