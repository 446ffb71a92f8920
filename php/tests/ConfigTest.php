<?php

declare(strict_types=1);

namespace Via\Framework\Tests;

use PHPUnit\Framework\TestCase;
use Via\Framework\Broker\InMemoryBroker;
use Via\Framework\Config;
use Via\Framework\Tests\Support\SpyBroker;

final class ConfigTest extends TestCase
{
    public function testDefaultsAreThoseOfPhpVia(): void
    {
        $c = new Config();
        self::assertSame('0.0.0.0', $c->getHost());
        self::assertSame(3000, $c->getPort());
        self::assertFalse($c->isDevMode());
        self::assertSame('info', $c->getLogLevel());
        self::assertNull($c->getTemplateDir());
        self::assertNull($c->getTwigCacheDir());
        self::assertNull($c->getStaticDir());
        self::assertNull($c->getShellTemplate());
        self::assertSame('/', $c->getBasePath());
        self::assertSame(100, $c->getSsePollIntervalMs());
        self::assertFalse($c->isSecureCookie());
        self::assertSame('Lax', $c->getSameSite());
        self::assertFalse($c->isEmbeddable());
        self::assertFalse($c->isPartitioned());
        self::assertSame([], $c->getFrameAncestors());
        self::assertNull($c->getTrustedOrigins());
        self::assertSame(0, $c->getActionRateLimit());
        self::assertSame(60, $c->getActionRateWindow());
        self::assertSame(30_000, $c->getGcInterval());
        self::assertSame(5_000, $c->getContextCleanupDelay());
        self::assertSame(600_000, $c->getContextRevivalWindow());
        self::assertSame(30_000, $c->getContextAttachTimeout());
        self::assertNull($c->getCertificate());
        self::assertNull($c->getKey());
        self::assertFalse($c->isHttps());
        self::assertFalse($c->isBrotli());
        self::assertSame(4, $c->getBrotliDynamicLevel());
        self::assertSame(11, $c->getBrotliStaticLevel());
        self::assertFalse($c->isH2c());
        self::assertSame(1, $c->getWorkerNum());
        self::assertSame(1024, $c->getGlobalStateRows());
        self::assertSame(4096, $c->getGlobalStateValueBytes());
        self::assertFalse($c->isTracing());
        self::assertSame(100, $c->getTraceBufferSize());
        self::assertSame(16384, $c->getTraceMaxBytes());
        self::assertNull($c->getBrokerErrorHandler());
    }

    public function testEveryWitherReturnsTheSameConfig(): void
    {
        $c = new Config();
        self::assertSame($c, $c->withHost('127.0.0.1')->withPort(8080)->withDevMode()->withLogLevel('debug')
            ->withTemplateDir('/t')->withTwigCacheDir('/c')->withStaticDir('/s')->withStaticCacheControl('x')
            ->withShellTemplate('/shell.html')->withBasePath('/app')->withSsePollIntervalMs(5)
            ->withSwooleSettings([])->withServerOptions([])->withSecureCookie()->withEmbeddable()
            ->withTrustedOrigins(null)->withActionRateLimit(1)->withGcInterval(1)->withContextCleanupDelay(1)
            ->withContextRevivalWindow(1)->withCertificate('/c.pem', '/k.pem')->withBrotli()->withH2c()
            ->withBroker(new SpyBroker())->onBrokerError(fn () => null)->withWorkerNum(2)
            ->withGlobalStateTableSize(8)->withTracing()->withTracingWrites()->withTraceBufferSize());
        self::assertSame('127.0.0.1', $c->getHost());
        self::assertSame(8080, $c->getPort());
        self::assertSame('/t', $c->getTemplateDir());
        self::assertSame('/c', $c->getTwigCacheDir());
        self::assertSame('/shell.html', $c->getShellTemplate());
        self::assertSame('/app/', $c->getBasePath());
    }

    public function testPortOutsideTheTcpRangeIsRefused(): void
    {
        self::assertSame(0, (new Config())->withPort(0)->getPort());
        self::assertSame(65535, (new Config())->withPort(65535)->getPort());
        $this->expectException(\InvalidArgumentException::class);
        (new Config())->withPort(65536);
    }

    public function testNegativePortIsRefused(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        (new Config())->withPort(-1);
    }

    /** @return iterable<string, array{string, string}> */
    public static function logLevels(): iterable
    {
        yield 'debug' => ['debug', 'debug'];
        yield 'info' => ['info', 'info'];
        yield 'warn' => ['warn', 'warn'];
        yield 'warning' => ['warning', 'warn'];
        yield 'upper case' => ['ERROR', 'error'];
        yield 'unknown is info' => ['verbose', 'info'];
    }

    /** @dataProvider logLevels */
    public function testLogLevelIsNormalised(string $given, string $stored): void
    {
        self::assertSame($stored, (new Config())->withLogLevel($given)->getLogLevel());
    }

    public function testStaticDirLosesItsTrailingSlash(): void
    {
        self::assertSame('/srv/public', (new Config())->withStaticDir('/srv/public/')->getStaticDir());
    }

    public function testStaticCacheControlIsAutomaticStringOrClosure(): void
    {
        self::assertSame('public, max-age=3600, must-revalidate', (new Config())->getStaticCacheControl());
        self::assertSame('no-cache', (new Config())->withDevMode()->getStaticCacheControl());
        self::assertSame('max-age=5', (new Config())->withDevMode()->withStaticCacheControl('max-age=5')->getStaticCacheControl());
        // A string is never called, even when it names a function.
        self::assertSame('strtoupper', (new Config())->withStaticCacheControl('strtoupper')->getStaticCacheControl('/a.css', 'text/css'));
        $c = (new Config())->withStaticCacheControl(fn (string $path, string $mime) => "for $path $mime");
        self::assertSame('for /a.css text/css', $c->getStaticCacheControl('/a.css', 'text/css'));
    }

    /** @return iterable<string, array{string, string}> */
    public static function validBasePaths(): iterable
    {
        yield 'empty' => ['', '/'];
        yield 'root' => ['/', '/'];
        yield 'one segment' => ['/app', '/app/'];
        yield 'trailing slash' => ['/app/', '/app/'];
        yield 'two segments' => ['/a/b-c_d.e', '/a/b-c_d.e/'];
    }

    /** @dataProvider validBasePaths */
    public function testBasePathIsStoredWithATrailingSlash(string $given, string $stored): void
    {
        self::assertSame($stored, (new Config())->withBasePath($given)->getBasePath());
    }

    /** @return iterable<string, array{string}> */
    public static function invalidBasePaths(): iterable
    {
        yield 'relative' => ['app'];
        yield 'protocol-relative' => ['//evil.example'];
        yield 'absolute URL' => ['https://evil.example/app'];
        yield 'backslash' => ['/app\\x'];
        yield 'space' => ['/my app'];
        yield 'empty segment' => ['/a//b'];
        yield 'segment starting with a dot' => ['/..'];
        yield 'control character' => ["/a\tb"];
        yield 'trailing newline' => ["/app\n"];
        yield 'quote' => ['/a"b'];
    }

    /** @dataProvider invalidBasePaths */
    public function testBasePathRejectsAnythingButSegments(string $given): void
    {
        $this->expectException(\InvalidArgumentException::class);
        (new Config())->withBasePath($given);
    }

    public function testNumbersAreClamped(): void
    {
        $c = (new Config())
            ->withSsePollIntervalMs(0)
            ->withActionRateLimit(-5, 0)
            ->withGcInterval(-1)
            ->withContextCleanupDelay(-1)
            ->withContextRevivalWindow(-1)
            ->withContextAttachTimeout(-1)
            ->withMaxPendingContexts(0)
            ->withBrotli(true, 99, -3)
            ->withWorkerNum(0)
            ->withGlobalStateTableSize(0, 1)
            ->withTraceBufferSize(0, 1);
        self::assertSame(1, $c->getSsePollIntervalMs());
        self::assertSame(0, $c->getActionRateLimit());
        self::assertSame(1, $c->getActionRateWindow());
        self::assertSame(0, $c->getGcInterval());
        self::assertSame(1, $c->getMaxPendingContexts());
        self::assertSame(0, $c->getContextCleanupDelay());
        self::assertSame(0, $c->getContextRevivalWindow());
        self::assertSame(0, $c->getContextAttachTimeout());
        self::assertSame(11, $c->getBrotliDynamicLevel());
        self::assertSame(0, $c->getBrotliStaticLevel());
        self::assertSame(1, $c->getWorkerNum());
        self::assertSame(1, $c->getGlobalStateRows());
        self::assertSame(64, $c->getGlobalStateValueBytes());
        self::assertSame(1, $c->getTraceBufferSize());
        self::assertSame(1024, $c->getTraceMaxBytes());
    }

    public function testValuesInsideTheRangesAreKept(): void
    {
        $c = (new Config())->withActionRateLimit(7, 30)->withBrotli(true, 6, 9)->withWorkerNum(4)->withGlobalStateTableSize(10, 128);
        self::assertSame(7, $c->getActionRateLimit());
        self::assertSame(30, $c->getActionRateWindow());
        self::assertTrue($c->isBrotli());
        self::assertSame(6, $c->getBrotliDynamicLevel());
        self::assertSame(9, $c->getBrotliStaticLevel());
        self::assertSame(4, $c->getWorkerNum());
        self::assertSame(10, $c->getGlobalStateRows());
        self::assertSame(128, $c->getGlobalStateValueBytes());
    }

    public function testSecureCookieAndEmbeddable(): void
    {
        $c = (new Config())->withSecureCookie();
        self::assertTrue($c->isSecureCookie());
        self::assertSame('Lax', $c->getSameSite());
        self::assertFalse($c->isPartitioned());

        $e = (new Config())->withEmbeddable(['https://a.example', 'https://b.example']);
        self::assertTrue($e->isEmbeddable());
        self::assertTrue($e->isSecureCookie());
        self::assertSame('None', $e->getSameSite());
        self::assertTrue($e->isPartitioned());
        self::assertSame(['https://a.example', 'https://b.example'], $e->getFrameAncestors());

        $one = (new Config())->withEmbeddable("'self'", false);
        self::assertFalse($one->isPartitioned());
        self::assertSame(["'self'"], $one->getFrameAncestors());
    }

    public function testTrustedOriginsAreAList(): void
    {
        self::assertSame(['https://a.example'], (new Config())->withTrustedOrigins(['x' => 'https://a.example'])->getTrustedOrigins());
        self::assertSame([], (new Config())->withTrustedOrigins([])->getTrustedOrigins());
    }

    public function testHttpsNeedsBothFiles(): void
    {
        $c = (new Config())->withCertificate('/c.pem', '/k.pem');
        self::assertTrue($c->isHttps());
        self::assertSame('/c.pem', $c->getCertificate());
        self::assertSame('/k.pem', $c->getKey());
    }

    public function testTheBrokerIsMadeOnceAndCanBeReplaced(): void
    {
        $c = new Config();
        self::assertInstanceOf(InMemoryBroker::class, $c->getBroker());
        self::assertSame($c->getBroker(), $c->getBroker());
        $spy = new SpyBroker();
        self::assertSame($spy, $c->withBroker($spy)->getBroker());
        $handler = fn (\Throwable $e) => null;
        self::assertSame($handler, $c->onBrokerError($handler)->getBrokerErrorHandler());
    }

    public function testTracingFollowsDevModeUnlessSet(): void
    {
        self::assertTrue((new Config())->withDevMode()->isTracing());
        self::assertFalse((new Config())->withDevMode()->withTracing(false)->isTracing());
        self::assertTrue((new Config())->withTracing()->isTracing());
        self::assertTrue((new Config())->withDevMode()->withTracing(null)->isTracing());
    }

    public function testTracingWritesNeedDevModeAndTracing(): void
    {
        self::assertTrue((new Config())->withDevMode()->withTracingWrites(true)->isTracingWrites());
        self::assertFalse((new Config())->withTracingWrites(true)->isTracingWrites());
        self::assertFalse((new Config())->withTracing()->withTracingWrites(true)->isTracingWrites());
        self::assertFalse((new Config())->withDevMode()->withTracing(false)->withTracingWrites(true)->isTracingWrites());
        self::assertFalse((new Config())->withDevMode()->withTracingWrites(false)->isTracingWrites());
    }

    public function testTracingWritesDefaultToTheEnvironment(): void
    {
        $before = getenv('VIA_DEVBAR_WRITES');
        try {
            putenv('VIA_DEVBAR_WRITES=1');
            self::assertTrue((new Config())->withDevMode()->isTracingWrites());
            putenv('VIA_DEVBAR_WRITES=true');
            self::assertTrue((new Config())->withDevMode()->isTracingWrites());
            putenv('VIA_DEVBAR_WRITES=yes');
            self::assertFalse((new Config())->withDevMode()->isTracingWrites());
            putenv('VIA_DEVBAR_WRITES');
            self::assertFalse((new Config())->withDevMode()->isTracingWrites());
        } finally {
            putenv($before === false ? 'VIA_DEVBAR_WRITES' : "VIA_DEVBAR_WRITES=$before");
        }
    }

    public function testDefaultConfigValidates(): void
    {
        (new Config())->validate();
        (new Config())->withWorkerNum(4)->withBroker(new SpyBroker())->validate();
        (new Config())->withEmbeddable()->withH2c()->validate();
        (new Config())->withEmbeddable()->withCertificate('/c.pem', '/k.pem')->validate();
        $this->addToAssertionCount(4);
    }

    /** @return iterable<string, array{\Closure(): Config, string}> */
    public static function invalidConfigs(): iterable
    {
        yield 'several workers, in-memory broker' => [fn () => (new Config())->withWorkerNum(2), 'withWorkerNum(2)'];
        yield 'SameSite=None without Secure' => [fn () => (new Config())->withEmbeddable()->withH2c()->withSecureCookie(false), 'Secure'];
        yield 'embeddable without HTTPS or h2c' => [fn () => (new Config())->withEmbeddable(), 'HTTPS'];
    }

    /** @dataProvider invalidConfigs */
    public function testValidateRefusesWhatCannotWork(\Closure $make, string $mentions): void
    {
        try {
            $make()->validate();
            self::fail('validate() accepted it');
        } catch (\RuntimeException $e) {
            self::assertStringContainsString($mentions, $e->getMessage());
        }
    }

    public function testServerOptionsOfTheDefaults(): void
    {
        self::assertSame(
            ['h2c' => false, 'compression' => false, 'brotli_level' => 4, 'log_level' => 'info', 'sse_backpressure' => 'wait'],
            (new Config())->serverOptions(),
        );
    }

    public function testServerOptionsMapEveryRuntimeSetting(): void
    {
        $o = (new Config())
            ->withBrotli(true, 7)
            ->withH2c()
            ->withLogLevel('warning')
            ->withCertificate('/c.pem', '/k.pem')
            ->withStaticDir('/srv/static/')
            ->withDevMode()
            ->withWorkerNum(3)
            ->withSwooleSettings(['max_conn' => '500', 'backlog' => 64, 'reactor_num' => 2])
            ->serverOptions();
        self::assertTrue($o['h2c']);
        self::assertTrue($o['compression']);
        self::assertSame(7, $o['brotli_level']);
        self::assertSame('warn', $o['log_level']);
        self::assertSame('/c.pem', $o['tls_cert']);
        self::assertSame('/k.pem', $o['tls_key']);
        self::assertSame('/srv/static', $o['static_dir']);
        self::assertSame('no-cache', $o['static_cache_control']);
        self::assertSame(3, $o['workers']);
        self::assertSame(500, $o['max_connections']);
        self::assertSame(64, $o['backlog']);
        self::assertArrayNotHasKey('reactor_num', $o);
        self::assertArrayNotHasKey('max_conn', $o);
        // static_dir must come before the other static_* options (docs/configuration.md).
        $keys = array_keys($o);
        self::assertLessThan(array_search('static_cache_control', $keys, true), array_search('static_dir', $keys, true));
    }

    public function testServerOptionsLeaveOutWhatIsNotConfigured(): void
    {
        $o = (new Config())->withStaticCacheControl('max-age=1')->serverOptions();
        foreach (['tls_cert', 'tls_key', 'static_dir', 'static_cache_control', 'workers', 'max_connections', 'backlog'] as $key) {
            self::assertArrayNotHasKey($key, $o);
        }
    }

    public function testExplicitServerOptionsWinAndLaterCallsWin(): void
    {
        $o = (new Config())
            ->withBrotli(true, 3)
            ->withServerOptions(['brotli_level' => 9, 'sse_heartbeat' => 5])
            ->withServerOptions(['sse_heartbeat' => 7])
            ->serverOptions();
        self::assertSame(9, $o['brotli_level']);
        self::assertSame(7, $o['sse_heartbeat']);
    }

    public function testSwooleSettingsMergeAndTheUnmappedAreReported(): void
    {
        $c = (new Config())->withSwooleSettings(['max_conn' => 1, 'reactor_num' => 2])->withSwooleSettings(['max_conn' => 9, 'enable_coroutine' => true]);
        self::assertSame(9, $c->serverOptions()['max_connections']);
        self::assertSame(['reactor_num', 'enable_coroutine'], $c->ignoredSwooleSettings());
    }

    /** @return iterable<string, array{Config}> */
    public static function configsForTheRuntime(): iterable
    {
        yield 'defaults' => [new Config()];
        yield 'everything' => [(new Config())->withBrotli(true, 11)->withH2c()->withLogLevel('debug')->withStaticDir(sys_get_temp_dir())
            ->withCertificate('/c.pem', '/k.pem')->withWorkerNum(2)->withSwooleSettings(['max_conn' => 10, 'backlog' => 16])];
        yield 'warn' => [(new Config())->withLogLevel('warning')];
        yield 'error' => [(new Config())->withLogLevel('error')];
    }

    /**
     * Every option serverOptions() produces is one Via\Server knows (it throws ValueError for
     * an unknown option or a bad value; nothing binds before start()).
     *
     * @dataProvider configsForTheRuntime
     */
    public function testTheRuntimeAcceptsTheServerOptions(Config $c): void
    {
        $server = new \Via\Server('127.0.0.1', 0, $c->serverOptions());
        self::assertFalse($server->isRunning());
    }
}
