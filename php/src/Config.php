<?php

declare(strict_types=1);

namespace Via\Framework;

use Via\Framework\Broker\InMemoryBroker;
use Via\Framework\Broker\MessageBroker;

/**
 * Every option of an app, php-via's names and defaults. TLS, HTTP/2, Brotli (pages and
 * streams), static files and heartbeats are the runtime's job: they become `Via\Server`
 * options (serverOptions()). Cross-option checks run in validate(), before anything binds.
 */
final class Config
{
    private string $host = '0.0.0.0';
    private int $port = 3000;
    private bool $devMode = false;
    private string $logLevel = 'info';
    private ?string $templateDir = null;
    private ?string $twigCacheDir = null;
    private ?string $staticDir = null;
    private \Closure|string|null $staticCacheControl = null;
    private ?string $shellTemplate = null;
    private string $basePath = '/';
    private int $ssePollIntervalMs = 100;
    /** @var array<string, mixed> */
    private array $swooleSettings = [];
    /** @var array<string, mixed> */
    private array $serverOptions = [];
    private bool $secureCookie = false;
    private string $sameSite = 'Lax';
    private bool $embeddable = false;
    private bool $partitioned = false;
    /** @var list<string> */
    private array $frameAncestors = [];
    /** @var list<string>|null */
    private ?array $trustedOrigins = null;
    private int $actionRateLimit = 0;
    private int $actionRateWindow = 60;
    private int $gcIntervalMs = 30_000;
    private int $contextCleanupDelayMs = 5_000;
    private int $contextRevivalWindowMs = 600_000;
    private int $contextAttachTimeoutMs = 30_000;
    private int $maxPendingContexts = 10_000;
    private ?string $certFile = null;
    private ?string $keyFile = null;
    private bool $brotli = false;
    private int $brotliDynamicLevel = 4;
    private int $brotliStaticLevel = 11;
    private bool $h2c = false;
    private ?MessageBroker $broker = null;
    /** @var callable|null */
    private $brokerErrorHandler = null;
    private int $workerNum = 1;
    private int $globalStateRows = 1024;
    private int $globalStateValueBytes = 4096;
    private ?bool $tracing = null;
    private ?bool $tracingWrites = null;
    private int $traceBufferSize = 100;
    private int $traceMaxBytes = 16384;

    public function withHost(string $host): self
    {
        $this->host = $host;
        return $this;
    }

    public function withPort(int $port): self
    {
        if ($port < 0 || $port > 65535) {
            throw new \InvalidArgumentException("port must be between 0 and 65535, $port given");
        }
        $this->port = $port;
        return $this;
    }

    public function withDevMode(bool $devMode = true): self
    {
        $this->devMode = $devMode;
        return $this;
    }

    /** debug, info, warn (or warning), error; anything else is info, as in php-via. */
    public function withLogLevel(string $level): self
    {
        $level = strtolower($level);
        $this->logLevel = match ($level) {
            'debug', 'info', 'error' => $level,
            'warn', 'warning' => 'warn',
            default => 'info',
        };
        return $this;
    }

    public function withTemplateDir(string $dir): self
    {
        $this->templateDir = $dir;
        return $this;
    }

    public function withTwigCacheDir(string $dir): self
    {
        $this->twigCacheDir = $dir;
        return $this;
    }

    /** Files served from $dir by the runtime (Rust) before any route; the trailing / is dropped. */
    public function withStaticDir(string $dir): self
    {
        $this->staticDir = rtrim($dir, '/');
        return $this;
    }

    /**
     * Cache-Control of static files: a string used as is, or null for automatic (no-cache
     * in dev mode, else `public, max-age=3600, must-revalidate`). A Closure (php-via calls
     * it per file) is taken for its result on an empty path: the runtime serves files with
     * one policy.
     */
    public function withStaticCacheControl(\Closure|string|null $value): self
    {
        $this->staticCacheControl = $value;
        return $this;
    }

    public function withShellTemplate(string $path): self
    {
        $this->shellTemplate = $path;
        return $this;
    }

    /**
     * The prefix of generated URLs (actions, the stream, assets). Zero or more `/segment`
     * parts; the stored value ends in `/`. Routes are still matched at the root: a proxy
     * strips the prefix.
     */
    public function withBasePath(string $basePath): self
    {
        if ($basePath === '' || $basePath === '/') {
            $this->basePath = '/';
            return $this;
        }
        if (preg_match('#^(/[A-Za-z0-9][A-Za-z0-9_.\-]*)+/?$#D', $basePath) !== 1) {
            throw new \InvalidArgumentException(
                "base path must be /segment[/segment…] (letters, digits, _ . -), \"$basePath\" given"
            );
        }
        $this->basePath = rtrim($basePath, '/') . '/';
        return $this;
    }

    /** Accepted for php-via apps; there is no poll loop left for it to tune. */
    public function withSsePollIntervalMs(int $ms): self
    {
        $this->ssePollIntervalMs = max(1, $ms);
        return $this;
    }

    /**
     * OpenSwoole settings of a php-via app. The ones with a runtime equivalent are mapped
     * (max_conn, backlog, worker_num, ssl_cert_file/ssl_key_file, open_http2_protocol);
     * the rest are ignored with a warning at start.
     *
     * @param array<string, mixed> $settings
     */
    public function withSwooleSettings(array $settings): self
    {
        $this->swooleSettings = array_merge($this->swooleSettings, $settings);
        return $this;
    }

    /**
     * `Via\Server` options given as they are (docs/configuration.md), over the ones the
     * framework derives; later calls win.
     *
     * @param array<string, mixed> $options
     */
    public function withServerOptions(array $options): self
    {
        $this->serverOptions = array_merge($this->serverOptions, $options);
        return $this;
    }

    /** Secure session cookie, named `__Host-via_session_id`. */
    public function withSecureCookie(bool $secure = true): self
    {
        $this->secureCookie = $secure;
        return $this;
    }

    /**
     * Pages that may be framed by other sites: SameSite=None, Secure, Partitioned (CHIPS)
     * unless $partitioned is false, and `frame-ancestors` when given.
     *
     * @param list<string>|string|null $frameAncestors
     */
    public function withEmbeddable(array|string|null $frameAncestors = null, bool $partitioned = true): self
    {
        $this->embeddable = true;
        $this->sameSite = 'None';
        $this->secureCookie = true;
        $this->partitioned = $partitioned;
        $this->frameAncestors = $frameAncestors === null ? [] : array_values(array_map('strval', (array) $frameAncestors));
        return $this;
    }

    /** @param list<string>|null $origins exact Origin values allowed to call actions */
    public function withTrustedOrigins(?array $origins): self
    {
        $this->trustedOrigins = $origins === null ? null : array_values(array_map('strval', $origins));
        return $this;
    }

    /** At most $max actions per client IP in a sliding window (0 = off). */
    public function withActionRateLimit(int $max, int $windowSeconds = 60): self
    {
        $this->actionRateLimit = max(0, $max);
        $this->actionRateWindow = max(1, $windowSeconds);
        return $this;
    }

    public function withGcInterval(int $ms): self
    {
        $this->gcIntervalMs = max(0, $ms);
        return $this;
    }

    public function withContextCleanupDelay(int $ms): self
    {
        $this->contextCleanupDelayMs = max(0, $ms);
        return $this;
    }

    public function withContextRevivalWindow(int $ms): self
    {
        $this->contextRevivalWindowMs = max(0, $ms);
        return $this;
    }

    /**
     * How long a context whose page was served waits for its stream before it is
     * destroyed (crawlers, curl, a tab closed at once). php-via kept such contexts forever.
     */
    public function withContextAttachTimeout(int $ms): self
    {
        $this->contextAttachTimeoutMs = max(0, $ms);
        return $this;
    }

    /**
     * How many contexts may wait for a stream at once (pages served with no stream
     * attached yet, and contexts whose last stream ended, within the cleanup delay). Past
     * it the oldest waiting one is destroyed, leaving its revival record: a flood of page
     * requests, or of streams that open and close, holds this many contexts, not as many
     * as it made within the attach timeout or the cleanup delay.
     */
    public function withMaxPendingContexts(int $n): self
    {
        $this->maxPendingContexts = max(1, $n);
        return $this;
    }

    /** HTTPS (TLS 1.2/1.3) with HTTP/2 by ALPN; the files are checked at start. */
    public function withCertificate(string $cert, string $key): self
    {
        $this->certFile = $cert;
        $this->keyFile = $key;
        return $this;
    }

    /**
     * Brotli for pages and streams at $dynamicLevel, static files at $staticLevel (levels
     * 0–11). Done by the runtime: no ext-brotli, and streams are flushed per event.
     */
    public function withBrotli(bool $enabled = true, int $dynamicLevel = 4, int $staticLevel = 11): self
    {
        $this->brotli = $enabled;
        $this->brotliDynamicLevel = max(0, min(11, $dynamicLevel));
        $this->brotliStaticLevel = max(0, min(11, $staticLevel));
        return $this;
    }

    /** HTTP/2 with prior knowledge on the plaintext port (behind a TLS-terminating proxy). */
    public function withH2c(bool $enabled = true): self
    {
        $this->h2c = $enabled;
        return $this;
    }

    public function withBroker(MessageBroker $broker): self
    {
        $this->broker = $broker;
        return $this;
    }

    /** @param callable(\Throwable): void $handler */
    public function onBrokerError(callable $handler): self
    {
        $this->brokerErrorHandler = $handler;
        return $this;
    }

    public function withWorkerNum(int $n): self
    {
        $this->workerNum = max(1, $n);
        return $this;
    }

    public function withGlobalStateTableSize(int $rows, int $valueBytes = 4096): self
    {
        $this->globalStateRows = max(1, $rows);
        $this->globalStateValueBytes = max(64, $valueBytes);
        return $this;
    }

    public function withTracing(?bool $enabled = true): self
    {
        $this->tracing = $enabled;
        return $this;
    }

    public function withTracingWrites(?bool $enabled = null): self
    {
        $this->tracingWrites = $enabled;
        return $this;
    }

    public function withTraceBufferSize(int $traces = 100, int $maxTraceBytes = 16384): self
    {
        $this->traceBufferSize = max(1, $traces);
        $this->traceMaxBytes = max(1024, $maxTraceBytes);
        return $this;
    }

    // ---- getters -----------------------------------------------------------------------

    public function getHost(): string
    {
        return $this->host;
    }

    public function getPort(): int
    {
        return $this->port;
    }

    public function isDevMode(): bool
    {
        return $this->devMode;
    }

    public function getLogLevel(): string
    {
        return $this->logLevel;
    }

    public function getTemplateDir(): ?string
    {
        return $this->templateDir;
    }

    public function getTwigCacheDir(): ?string
    {
        return $this->twigCacheDir;
    }

    public function getStaticDir(): ?string
    {
        return $this->staticDir;
    }

    public function getStaticCacheControl(string $path = '', string $mime = ''): string
    {
        $v = $this->staticCacheControl;
        if ($v instanceof \Closure) {
            return (string) $v($path, $mime);
        }
        return $v ?? ($this->devMode ? 'no-cache' : 'public, max-age=3600, must-revalidate');
    }

    public function getShellTemplate(): ?string
    {
        return $this->shellTemplate;
    }

    public function getBasePath(): string
    {
        return $this->basePath;
    }

    public function getSsePollIntervalMs(): int
    {
        return $this->ssePollIntervalMs;
    }

    public function isSecureCookie(): bool
    {
        return $this->secureCookie;
    }

    public function getSameSite(): string
    {
        return $this->sameSite;
    }

    public function isEmbeddable(): bool
    {
        return $this->embeddable;
    }

    public function isPartitioned(): bool
    {
        return $this->partitioned;
    }

    /** @return list<string> */
    public function getFrameAncestors(): array
    {
        return $this->frameAncestors;
    }

    /** @return list<string>|null */
    public function getTrustedOrigins(): ?array
    {
        return $this->trustedOrigins;
    }

    public function getActionRateLimit(): int
    {
        return $this->actionRateLimit;
    }

    public function getActionRateWindow(): int
    {
        return $this->actionRateWindow;
    }

    public function getGcInterval(): int
    {
        return $this->gcIntervalMs;
    }

    public function getContextCleanupDelay(): int
    {
        return $this->contextCleanupDelayMs;
    }

    public function getContextRevivalWindow(): int
    {
        return $this->contextRevivalWindowMs;
    }

    public function getContextAttachTimeout(): int
    {
        return $this->contextAttachTimeoutMs;
    }

    public function getMaxPendingContexts(): int
    {
        return $this->maxPendingContexts;
    }

    public function getCertificate(): ?string
    {
        return $this->certFile;
    }

    public function getKey(): ?string
    {
        return $this->keyFile;
    }

    public function isHttps(): bool
    {
        return $this->certFile !== null && $this->keyFile !== null;
    }

    public function isBrotli(): bool
    {
        return $this->brotli;
    }

    public function getBrotliDynamicLevel(): int
    {
        return $this->brotliDynamicLevel;
    }

    public function getBrotliStaticLevel(): int
    {
        return $this->brotliStaticLevel;
    }

    public function isH2c(): bool
    {
        return $this->h2c;
    }

    /** The broker: the configured one, else an InMemoryBroker made once. */
    public function getBroker(): MessageBroker
    {
        return $this->broker ??= new InMemoryBroker();
    }

    public function getBrokerErrorHandler(): ?callable
    {
        return $this->brokerErrorHandler;
    }

    public function getWorkerNum(): int
    {
        return $this->workerNum;
    }

    public function getGlobalStateRows(): int
    {
        return $this->globalStateRows;
    }

    public function getGlobalStateValueBytes(): int
    {
        return $this->globalStateValueBytes;
    }

    public function isTracing(): bool
    {
        return $this->tracing ?? $this->devMode;
    }

    public function isTracingWrites(): bool
    {
        $env = getenv('VIA_DEVBAR_WRITES');
        $writes = $this->tracingWrites ?? in_array($env, ['1', 'true'], true);
        return $writes && $this->devMode && $this->isTracing();
    }

    public function getTraceBufferSize(): int
    {
        return $this->traceBufferSize;
    }

    public function getTraceMaxBytes(): int
    {
        return $this->traceMaxBytes;
    }

    /**
     * The checks php-via makes in start(), before anything binds.
     *
     * @throws \RuntimeException naming what is wrong and how to fix it
     */
    public function validate(): void
    {
        if ($this->workerNum > 1 && $this->getBroker() instanceof InMemoryBroker) {
            throw new \RuntimeException(
                'withWorkerNum(' . $this->workerNum . ') needs a broker that reaches every worker; '
                . 'the in-memory broker reaches one process only'
            );
        }
        if ($this->sameSite === 'None' && !$this->secureCookie) {
            throw new \RuntimeException('SameSite=None (withEmbeddable) needs the Secure cookie flag: do not turn withSecureCookie() off after it');
        }
        if ($this->sameSite === 'None' && !$this->isHttps() && !$this->h2c) {
            throw new \RuntimeException('withEmbeddable() needs HTTPS (withCertificate) or h2c behind a TLS proxy (withH2c)');
        }
        if (($this->certFile === null) !== ($this->keyFile === null)) {
            throw new \RuntimeException('withCertificate() needs both a certificate and a key');
        }
    }

    /**
     * The `Via\Server` options this configuration means.
     *
     * @return array<string, mixed>
     */
    public function serverOptions(): array
    {
        $o = [
            'h2c' => $this->h2c,
            'compression' => $this->brotli,
            'brotli_level' => $this->brotliDynamicLevel,
            'log_level' => $this->logLevel === 'warn' ? 'warn' : $this->logLevel,
            'sse_backpressure' => 'wait',
        ];
        if ($this->isHttps()) {
            $o['tls_cert'] = $this->certFile;
            $o['tls_key'] = $this->keyFile;
        }
        if ($this->staticDir !== null) {
            $o['static_dir'] = $this->staticDir;
            $o['static_cache_control'] = $this->getStaticCacheControl();
        }
        if ($this->workerNum > 1) {
            $o['workers'] = $this->workerNum;
        }
        foreach (['max_conn' => 'max_connections', 'backlog' => 'backlog'] as $from => $to) {
            if (isset($this->swooleSettings[$from])) {
                $o[$to] = (int) $this->swooleSettings[$from];
            }
        }
        return array_merge($o, $this->serverOptions);
    }

    /** @return list<string> OpenSwoole settings given that mean nothing here */
    public function ignoredSwooleSettings(): array
    {
        return array_values(array_diff(array_keys($this->swooleSettings), ['max_conn', 'backlog']));
    }
}
