<?php

declare(strict_types=1);

namespace Via\Framework\Tests;

use PHPUnit\Framework\TestCase;
use Via\Framework\Action;

final class ActionTest extends TestCase
{
    public function testUrlIsUnderTheBasePath(): void
    {
        self::assertSame('/_action/save', (new Action('save'))->url());
        self::assertSame('/app/_action/save', (new Action('save', '/app/'))->url());
        self::assertSame('save', (new Action('save'))->id());
    }

    public function testIdIsEncodedInTheUrl(): void
    {
        self::assertSame('/_action/a%2Fb%20c', (new Action('a/b c'))->url());
    }

    public function testPostAndStringForms(): void
    {
        $a = new Action('c1-inc', '/base/');
        self::assertSame("@post('/base/_action/c1-inc')", $a->post());
        self::assertSame('/base/_action/c1-inc', (string) $a);
    }
}
