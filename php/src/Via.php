<?php

declare(strict_types=1);

namespace Via\Framework;

use Via\Framework\Broker\MessageBroker;
use Via\Framework\Composition\PageMount;
use Via\Framework\Http\Middleware;
use Via\Framework\Http\OriginCheck;
use Via\Framework\Http\SignalError;
use Via\Framework\Http\SignalParser;
use Via\Framework\Rendering\Shell;
use Via\Framework\Rendering\ViewCache;
use Via\Framework\Rendering\ViewRenderer;
use Via\Framework\Routing\RouteDefinition;
use Via\Framework\Routing\RouteGroup;
use Via\Framework\Routing\Router;
use Via\Framework\State\RevivalStore;
use Via\Framework\State\SessionStore;

/**
 * The application: pages, actions and scopes over one Datastar stream per tab, served by
 * the via runtime (`Via\Server`).
 *
 * Requests are answered in this order: `HEAD`, the bundled assets (`/datastar.js`,
 * `/via.css`), `/_sse`, `/_action/{id}`, `/_session/close`, `/_stats` (dev mode),
 * `/_health`, page routes, then the 404 handler. Static files never reach PHP: the runtime
 * serves them first.
 */
class Via
{
    public const VERSION = '0.1.0';

    /** Contexts keep a reload marker this long, so a tab is told to reload at most once. */
    private const RELOAD_MARKER_SECONDS = 300;

    /** Reload markers kept at most (ids sent by clients: bounded). */
    private const MAX_RELOAD_MARKERS = 10_000;

    private readonly Router $router;
    private readonly ViewCache $viewCache;
    private readonly ViewRenderer $renderer;
    private readonly SessionStore $sessions;
    private readonly RevivalStore $revivals;
    private readonly MessageBroker $broker;
    private ?\Via\Server $server = null;

    /** @var array<string, Context> */
    public array $contexts = [];
    /** @var array<string, true> contexts served a page whose stream has not attached yet, oldest first */
    private array $pending = [];
    /** @var array<string, true> contexts whose last stream ended, waiting for a reconnect, oldest first */
    private array $reconnecting = [];
    /** @var array<string, int> timer ids of pending cleanups */
    public array $cleanupTimers = [];
    /** @var array<string, int> live streams per context */
    public array $activeSseCount = [];
    /** @var array<string, array<string, mixed>> */
    public array $clients = [];
    /** @var array<string, string> context id → session id */
    public array $contextSessions = [];
    /** @var array<string, array{0: RouteDefinition, 1: array<string, string>}> how each context was made, for revival */
    private array $contextRoutes = [];
    /** @var array<string, array<string, Context>> scope → contexts */
    private array $scopeContexts = [];
    /** @var array<string, array<string, Signal>> */
    private array $scopedSignals = [];
    /** @var array<string, array<string, callable>> */
    private array $scopedActions = [];
    /** @var array<string, mixed> */
    /** Global state, shared by every worker: one row per key, the value serialized. */
    private ?\Via\Table $globalState = null;
    /** @var list<object> */
    private array $middleware = [];
    /** @var callable|null */
    private $notFoundHandler = null;
    /** @var list<callable> */
    private array $startCallbacks = [];
    /** @var list<callable> */
    private array $shutdownCallbacks = [];
    /** @var list<array{0: callable, 1: int}> */
    private array $intervals = [];
    /** @var list<int> */
    private array $intervalIds = [];
    /** @var list<callable> */
    private array $connectCallbacks = [];
    /** @var list<callable> */
    private array $disconnectCallbacks = [];
    /** @var list<string> */
    private array $head = [];
    /** @var list<string> */
    private array $foot = [];
    /** @var array<string, int> context ids told to reload, with when */
    private array $reloadMarkers = [];
    /** @var array<string, array{int, list<float>}> per client IP: where its times still in the window start, and its action times */
    private array $rateBuckets = [];
    /** @var list<Context> tabs whose patches go out when the running task yields (`flushSoon`) */
    private array $unflushed = [];
    private ?\Closure $flushAll = null;
    /** @var array<string, array{body: string, type: string, etag: string}> */
    private array $assets = [];
    private bool $shuttingDown = false;
    private float $startedAt;
    /** @var array<string, int> */
    private array $stats = [
        'renders' => 0,
        'cached_renders' => 0,
        'patches' => 0,
        'patches_dropped' => 0,
        'actions' => 0,
        'actions_failed' => 0,
        'contexts_created' => 0,
        'contexts_destroyed' => 0,
        'contexts_revived' => 0,
        'contexts_evicted' => 0,
        'gc_runs' => 0,
    ];

    public function __construct(private readonly Config $config)
    {
        $this->router = new Router();
        $this->viewCache = new ViewCache();
        $this->renderer = new ViewRenderer($config);
        $this->sessions = new SessionStore();
        $this->revivals = new RevivalStore();
        $this->broker = $config->getBroker();
        $this->startedAt = microtime(true);
        $onError = $config->getBrokerErrorHandler();
        if ($onError !== null && method_exists($this->broker, 'setErrorHandler')) {
            $this->broker->setErrorHandler($onError);
        }
        $this->broker->subscribe(function (string $scope): void {
            if (Scope::isValidWireScope($scope) && $scope !== Scope::TAB) {
                $this->syncLocally($scope);
            }
        });
    }

    // ---- registration ---------------------------------------------------------------

    public function getConfig(): Config
    {
        return $this->config;
    }

    /** Registers a page. Inside group() the prefix is prepended. */
    public function page(string $route, callable $handler): RouteDefinition
    {
        return $this->router->add($route, $handler);
    }

    /**
     * A page from a class with attributes (#[Signal], #[Action], #[Broadcast],
     * #[OnDisconnect], #[OnCleanup], #[Persist]) and a public view(Context, ...params).
     *
     * @param class-string $class
     */
    public function mount(string $class, string $route, ?callable $factory = null): RouteDefinition
    {
        return $this->page($route, PageMount::buildClosure($class, $factory));
    }

    /** Runs $fn with $prefix on the routes it registers: group('/admin', fn () => …). */
    public function group(callable|string $prefixOrFn, ?callable $fn = null): RouteGroup
    {
        if (is_callable($prefixOrFn) && $fn === null) {
            return $this->router->group('', $prefixOrFn);
        }
        if (!is_string($prefixOrFn) || $fn === null) {
            throw new \InvalidArgumentException('group() takes a prefix and a callable, or a callable');
        }
        return $this->router->group($prefixOrFn, $fn);
    }

    /**
     * Global middleware for pages and actions; on the stream only middleware that
     * implements Http\SseAwareMiddleware runs. PSR-15 middleware when the interfaces are
     * installed, or any object with `process(Via\Request $request, callable $next)`.
     */
    public function middleware(object ...$middleware): void
    {
        foreach ($middleware as $m) {
            Middleware::check($m);
        }
        array_push($this->middleware, ...$middleware);
    }

    /** @param callable(\Via\Request, \Via\Response): void $handler sets the status and ends the response */
    public function notFound(callable $handler): self
    {
        $this->notFoundHandler = $handler;
        return $this;
    }

    public function onStart(callable $cb): void
    {
        $this->startCallbacks[] = $cb;
    }

    public function onShutdown(callable $cb): void
    {
        $this->shutdownCallbacks[] = $cb;
    }

    /** A process-wide repeating timer armed at start; exceptions are logged. */
    public function setInterval(callable $cb, int $ms): void
    {
        $this->intervals[] = [$cb, max(1, $ms)];
        if ($this->server !== null) {
            $this->armInterval($cb, max(1, $ms));
        }
    }

    /** @param callable(Context): void $cb when a tab's stream attaches */
    public function onClientConnect(callable $cb): void
    {
        $this->connectCallbacks[] = $cb;
    }

    /** @param callable(Context): void $cb when a tab's last stream ends */
    public function onClientDisconnect(callable $cb): void
    {
        $this->disconnectCallbacks[] = $cb;
    }

    public function appendToHead(string ...$html): void
    {
        array_push($this->head, ...$html);
    }

    public function appendToFoot(string ...$html): void
    {
        array_push($this->foot, ...$html);
    }

    // ---- state ------------------------------------------------------------------------

    /** A global value (every worker sees it), or $default when none is set. */
    public function globalState(string $key, mixed $default = null): mixed
    {
        $stored = $this->globalTable()->get(self::globalKey($key), 'v');
        return $stored === null ? $default : unserialize($stored);
    }

    /**
     * Sets a global value for every worker; it stays a copy (objects are serialized).
     * @throws \OverflowException when the serialized value is over the table's value size
     *         (`withGlobalStateTableSize()`), or the table has no row left for a new key
     */
    public function setGlobalState(string $key, mixed $value): void
    {
        $serialized = serialize($value);
        $max = $this->config->getGlobalStateValueBytes();
        if (strlen($serialized) > $max) {
            throw new \OverflowException(sprintf(
                'global state "%s" is %d bytes serialized, over the %d bytes of withGlobalStateTableSize()',
                $key,
                strlen($serialized),
                $max,
            ));
        }
        try {
            $this->globalTable()->set(self::globalKey($key), ['v' => $serialized]);
        } catch (\Via\CapacityException $e) {
            throw new \OverflowException(sprintf(
                'global state is full: %d keys (withGlobalStateTableSize())',
                $this->config->getGlobalStateRows(),
            ), 0, $e);
        }
    }

    /** Table keys are at most 64 bytes: a longer key is hashed (keeping a readable head). */
    private static function globalKey(string $key): string
    {
        return strlen($key) <= 64 && $key !== '' ? $key : substr($key, 0, 31) . '#' . substr(hash('sha256', $key), 0, 32);
    }

    /** Made before start() so that every worker forked from this process shares it. */
    private function globalTable(): \Via\Table
    {
        return $this->globalState ??= new \Via\Table(
            $this->config->getGlobalStateRows(),
            ['v' => [\Via\Table::STRING, $this->config->getGlobalStateValueBytes()]],
        );
    }

    public function getSessionData(string $sessionId, string $key, mixed $default = null): mixed
    {
        return $this->sessions->get($sessionId, $key, $default);
    }

    public function setSessionData(string $sessionId, string $key, mixed $value): void
    {
        $this->sessions->set($sessionId, $key, $value);
    }

    public function clearSessionData(string $sessionId, ?string $key = null): void
    {
        $this->sessions->clear($sessionId, $key);
    }

    // ---- scopes and broadcasts -----------------------------------------------------

    /**
     * Re-renders every local context in $scope, then tells the other nodes (never for
     * `tab`). ROUTE scopes are `route:/path`; `route` alone means every route.
     */
    public function broadcast(string $scope): void
    {
        $this->syncLocally($scope);
        if ($scope !== Scope::TAB) {
            try {
                $this->broker->publish($scope);
            } catch (\Throwable $e) {
                $this->log('error', "broker publish of \"$scope\" failed: " . $e->getMessage());
            }
        }
    }

    /**
     * @internal $ctx has patches to write: they go out, with every other tab's, in one task
     * once the running task yields (`Context::flushNow`, which never waits)
     */
    public function flushSoon(Context $ctx): void
    {
        if (!$this->unflushed) {
            \Via\go($this->flushAll ??= function (): void {
                $tabs = $this->unflushed;
                $this->unflushed = [];
                foreach ($tabs as $tab) {
                    try {
                        $tab->flushNow();
                    } catch (\Throwable $e) {
                        // One tab's patch that cannot be written (signals json_encode
                        // refuses) must not stop the others'.
                        $this->log('error', 'a patch could not be written: ' . get_class($e) . ': ' . $e->getMessage(), $tab);
                    }
                }
            });
        }
        $this->unflushed[] = $ctx;
    }

    /** @internal */
    public function syncLocally(string $scope): void
    {
        // A tab without a stream gets everything when its stream attaches. The shared
        // render of a context is kept under its primary scope, which may differ from $scope
        // (a page broadcasting on ROOM whose view shows a ROUTE signal): those renders are
        // stale too.
        $contexts = [];
        $stale = [$scope => true];
        foreach ($this->contextsFor($scope) as $ctx) {
            if ($ctx->getStream() !== null) {
                $contexts[] = $ctx;
                $stale[$ctx->getPrimaryScope()] = true;
            }
        }
        foreach (array_keys($stale) as $s) {
            $this->viewCache->invalidate((string) $s);
        }
        foreach ($contexts as $ctx) {
            $ctx->sync();
        }
    }

    /** @return array<string, Context> */
    private function contextsFor(string $scope): array
    {
        if ($scope === Scope::GLOBAL || $scope === Scope::ROUTE) {
            return $this->contexts;
        }
        if (str_starts_with($scope, Scope::ROUTE . ':') && !str_contains($scope, '*')) {
            $route = substr($scope, strlen(Scope::ROUTE) + 1);
            $out = [];
            foreach ($this->contexts as $id => $c) {
                if ($c->getRoute() === $route) {
                    $out[$id] = $c;
                }
            }
            return $out;
        }
        if (!str_contains($scope, '*')) {
            return $this->scopeContexts[$scope] ?? [];
        }
        $out = [];
        foreach ($this->scopeContexts as $s => $contexts) {
            if (Scope::matches((string) $s, $scope)) {
                $out += $contexts;
            }
        }
        return $out;
    }

    /** @return list<Context> */
    public function getContextsByScope(string $scope): array
    {
        return array_values($this->scopeContexts[$scope] ?? []);
    }

    /** @internal */
    public function registerContextScopes(Context $ctx): void
    {
        if (!isset($this->contexts[$ctx->getId()])) {
            return; // registered when its page is served
        }
        foreach ($ctx->getScopes() as $scope) {
            $this->scopeContexts[$scope][$ctx->getId()] = $ctx;
        }
    }

    /** @internal */
    public function unregisterContextScope(Context $ctx, string $scope): void
    {
        unset($this->scopeContexts[$scope][$ctx->getId()]);
        if (($this->scopeContexts[$scope] ?? null) === []) {
            unset($this->scopeContexts[$scope], $this->scopedSignals[$scope], $this->scopedActions[$scope]);
            $this->viewCache->invalidate($scope);
        }
    }

    /** @internal the signal $id of $scope, made by $make the first time */
    public function scopedSignal(string $scope, string $id, callable $make): Signal
    {
        return $this->scopedSignals[$scope][$id] ??= $make();
    }

    /** @return array<string, Signal> */
    public function getScopedSignals(string $scope): array
    {
        return $this->scopedSignals[$scope] ?? [];
    }

    /** @internal registers a scoped action once */
    public function scopedAction(string $scope, string $id, callable $fn): void
    {
        $this->scopedActions[$scope][$id] ??= $fn;
    }

    /** @internal */
    public function getScopedAction(string $scope, string $id): ?callable
    {
        return $this->scopedActions[$scope][$id] ?? null;
    }

    // ---- introspection and utilities -----------------------------------------------

    /** @return array<string, array<string, mixed>> id, identicon, connected_at, ip, context_id per context */
    public function getClients(): array
    {
        // The identicon is made when asked for: 2,000 tabs need not keep 2,000 SVGs.
        return array_map(fn (array $c) => $c + ['identicon' => self::identicon($c['id'])], $this->clients);
    }

    public function getTwig(): object
    {
        return $this->renderer->twig();
    }

    /** @internal */
    public function renderer(): ViewRenderer
    {
        return $this->renderer;
    }

    /** @internal */
    public function viewCache(): ViewCache
    {
        return $this->viewCache;
    }

    /** @internal */
    public function countRender(bool $cachedKey): void
    {
        $this->stats['renders']++;
        if ($cachedKey) {
            $this->stats['cached_renders']++;
        }
    }

    /** @internal */
    public function countPatch(): void
    {
        $this->stats['patches']++;
    }

    /** @internal */
    public function countDroppedPatch(): void
    {
        $this->stats['patches_dropped']++;
    }

    /** @return array<string, int> */
    public function getRenderStats(): array
    {
        return ['renders' => $this->stats['renders'], 'cached_renders' => $this->stats['cached_renders']];
    }

    /** @return array<string, mixed> */
    public function getStats(): array
    {
        return $this->stats + [
            'contexts' => count($this->contexts),
            'sse' => array_sum($this->activeSseCount),
            'sessions' => $this->sessions->count(),
            'revival_records' => $this->revivals->count(),
            'memory' => memory_get_usage(),
            'memory_peak' => memory_get_peak_usage(),
            'uptime' => microtime(true) - $this->startedAt,
            'runtime' => $this->server?->stats() ?? [],
        ];
    }

    public function runGcCycle(): int
    {
        $this->stats['gc_runs']++;
        $n = gc_collect_cycles();
        $this->log('debug', "gc: collected $n cycles, memory " . memory_get_usage());
        return $n;
    }

    private const LEVELS = ['debug' => 0, 'info' => 1, 'warn' => 2, 'warning' => 2, 'error' => 3];

    public function log(string $level, string $message, ?Context $ctx = null): void
    {
        $level = strtolower($level);
        if ((self::LEVELS[$level] ?? 1) < (self::LEVELS[$this->config->getLogLevel()] ?? 1)) {
            return;
        }
        $line = sprintf('%s [%s] %s%s', date('H:i:s'), $level, $ctx !== null ? '[' . $ctx->getId() . '] ' : '', $message);
        file_put_contents('php://stderr', $line . "\n");
    }

    public function getServer(): ?\Via\Server
    {
        return $this->server;
    }

    public function isShuttingDown(): bool
    {
        return $this->shuttingDown;
    }

    // ---- the server ---------------------------------------------------------------

    /**
     * The runtime answers `health_path` and `metrics_path` on the public port itself: a page
     * or an endpoint of the app at the same path would never be reached.
     * @throws \RuntimeException when one of them is also a path of the app
     */
    private function checkRuntimePaths(): void
    {
        $options = $this->config->serverOptions();
        if (($options['metrics_listen'] ?? '') !== '') {
            return; // on their own port: no clash
        }
        $own = ['/_sse', '/_session/close', '/_stats', '/_health', '/datastar.js', '/via.css'];
        foreach (['health_path', 'metrics_path'] as $option) {
            $path = $options[$option] ?? '';
            if (!is_string($path) || $path === '') {
                continue;
            }
            if ($this->router->match($path) !== null || in_array($path, $own, true) || str_starts_with($path, '/_action/')) {
                throw new \RuntimeException("server option $option \"$path\" is also a path of the app; choose another or use metrics_listen");
            }
        }
    }

    /**
     * Checks the configuration, starts the runtime and serves until SIGTERM/SIGINT (or
     * stop()). @throws \RuntimeException for a configuration that cannot work
     */
    public function start(): void
    {
        $this->config->validate();
        $this->checkRuntimePaths();
        $this->globalTable();
        foreach ($this->config->ignoredSwooleSettings() as $key) {
            $this->log('warn', "withSwooleSettings(): \"$key\" has no meaning on the via runtime; ignored");
        }
        $server = new \Via\Server($this->config->getHost(), $this->config->getPort(), $this->config->serverOptions());
        $this->server = $server;
        $server->onRequest(fn (\Via\Request $req, \Via\Response $res) => $this->handle($req, $res));
        $boot = function (): void {
            try {
                $this->broker->connect();
            } catch (\Throwable $e) {
                $this->log('error', 'broker connect failed: ' . $e->getMessage());
                ($this->config->getBrokerErrorHandler())?->__invoke($e);
            }
            foreach ($this->startCallbacks as $cb) {
                $cb($this);
            }
            foreach ($this->intervals as [$cb, $ms]) {
                $this->armInterval($cb, $ms);
            }
            if ($this->config->getGcInterval() > 0) {
                $this->intervalIds[] = \Via\Timer::tick($this->config->getGcInterval() / 1000, fn () => $this->runGcCycle());
            }
            $scheme = $this->config->isHttps() ? 'https' : 'http';
            $this->log('info', "via listening on $scheme://{$this->config->getHost()}:{$this->server?->port()}");
        };
        if ($this->config->getWorkerNum() > 1) {
            $server->onWorkerStart($boot);
        } else {
            $server->onStart($boot);
        }
        $server->onShutdown(function (): void {
            $this->shuttingDown = true;
            foreach ($this->intervalIds as $id) {
                \Via\Timer::clear($id);
            }
            foreach ($this->shutdownCallbacks as $cb) {
                try {
                    $cb($this);
                } catch (\Throwable $e) {
                    $this->log('error', 'onShutdown callback failed: ' . $e->getMessage());
                }
            }
            try {
                $this->broker->disconnect();
            } catch (\Throwable $e) {
                $this->log('error', 'broker disconnect failed: ' . $e->getMessage());
            }
        });
        $server->start();
    }

    /** Stops serving (as SIGTERM does). */
    public function stop(): void
    {
        $this->server?->stop();
    }

    private function armInterval(callable $cb, int $ms): void
    {
        $this->intervalIds[] = \Via\Timer::tick($ms / 1000, function () use ($cb): void {
            try {
                $cb($this);
            } catch (\Throwable $e) {
                $this->log('error', 'interval failed: ' . $e->getMessage());
            }
        });
    }

    // ---- request dispatch ----------------------------------------------------------

    /** Answers one request. Public so that tests can drive it without a socket. */
    public function handle(\Via\Request $req, \Via\Response $res): void
    {
        $path = $req->path();
        $method = $req->method();
        try {
            if ($method === 'HEAD') {
                $this->handleHead($path, $res);
                return;
            }
            if ($path === '/datastar.js' || $path === '/via.css') {
                $this->serveAsset($req, $res, $path);
                return;
            }
            if ($path === '/_sse') {
                $this->handleSse($req, $res);
                return;
            }
            if (str_starts_with($path, '/_action/')) {
                $this->handleAction($req, $res, rawurldecode(substr($path, strlen('/_action/'))));
                return;
            }
            if ($path === '/_session/close' && $method === 'POST') {
                $this->handleSessionClose($req, $res);
                return;
            }
            if ($path === '/_stats' && $method === 'GET') {
                $this->handleStats($req, $res);
                return;
            }
            if ($path === '/_health') {
                $this->handleHealth($res);
                return;
            }
            $match = $this->router->match($path);
            if ($match !== null) {
                $this->handlePage($req, $res, $match[0], $match[1]);
                return;
            }
            $this->handleNotFound($req, $res);
        } catch (\Throwable $e) {
            $this->log('error', "$method $path failed: " . get_class($e) . ': ' . $e->getMessage());
            if (!$res->headersSent()) {
                $this->plain($res, 500, 'Internal Server Error');
            }
        }
    }

    private function plain(\Via\Response $res, int $status, string $body, array $headers = []): void
    {
        $res->status($status);
        $res->header('Content-Type', 'text/plain; charset=utf-8');
        foreach ($headers as $k => $v) {
            $res->header($k, $v);
        }
        $res->end($body);
    }

    private function handleHead(string $path, \Via\Response $res): void
    {
        $known = $this->router->match($path) !== null || in_array($path, ['/_health', '/datastar.js', '/via.css'], true);
        // HEAD /_health answers what GET would: a probe that uses HEAD sees a degraded node.
        $healthy = $path !== '/_health' || $this->broker->isConnected();
        $res->status($known ? ($healthy ? 200 : 503) : 404);
        if ($known) {
            $res->header('Content-Type', match ($path) {
                '/_health' => 'application/json',
                '/datastar.js' => 'application/javascript',
                '/via.css' => 'text/css; charset=utf-8',
                default => 'text/html; charset=utf-8',
            });
        }
        $res->end();
    }

    private function serveAsset(\Via\Request $req, \Via\Response $res, string $path): void
    {
        if (!isset($this->assets[$path])) {
            $file = dirname(__DIR__) . '/public' . $path;
            $body = (string) file_get_contents($file);
            $this->assets[$path] = [
                'body' => $body,
                'type' => $path === '/datastar.js' ? 'application/javascript' : 'text/css; charset=utf-8',
                'etag' => 'W/"' . substr(md5($body), 0, 16) . '"',
            ];
        }
        $asset = $this->assets[$path];
        $res->header('Cache-Control', $this->config->getStaticCacheControl($path, $asset['type']));
        $res->header('ETag', $asset['etag']);
        $inm = $req->header('if-none-match');
        if ($inm !== null && self::etagMatches($inm, $asset['etag'])) {
            $res->status(304);
            $res->end();
            return;
        }
        $res->header('Content-Type', $asset['type']);
        $res->end($asset['body']);
    }

    private static function etagMatches(string $header, string $etag): bool
    {
        $bare = fn (string $t) => preg_replace('#^W/#', '', trim($t));
        foreach (explode(',', $header) as $t) {
            if (trim($t) === '*' || $bare($t) === $bare($etag)) {
                return true;
            }
        }
        return false;
    }

    private function handleHealth(\Via\Response $res): void
    {
        $connected = $this->broker->isConnected();
        $body = [
            'status' => $connected ? 'ok' : 'degraded',
            'version' => self::VERSION,
            'broker' => ['driver' => (new \ReflectionClass($this->broker))->getShortName(), 'connected' => $connected],
            'connections' => ['contexts' => count($this->contexts), 'sse' => array_sum($this->activeSseCount)],
        ];
        $res->status($connected ? 200 : 503);
        $res->header('Content-Type', 'application/json');
        $res->header('Cache-Control', 'no-store');
        $res->end((string) json_encode($body));
    }

    private function handleStats(\Via\Request $req, \Via\Response $res): void
    {
        if (!$this->config->isDevMode()) {
            $this->plain($res, 404, 'Not Found');
            return;
        }
        $body = [
            'contexts' => count($this->contexts),
            'clients' => count($this->clients),
            'render_stats' => $this->getRenderStats(),
            'memory' => ['current' => memory_get_usage(), 'peak' => memory_get_peak_usage()],
            'uptime' => microtime(true) - $this->startedAt,
            'stats' => $this->getStats(),
        ];
        $res->header('Content-Type', 'application/json');
        $res->end((string) json_encode($body, JSON_PRETTY_PRINT));
    }

    private function handleNotFound(\Via\Request $req, \Via\Response $res): void
    {
        if ($this->notFoundHandler !== null) {
            ($this->notFoundHandler)($req, $res);
            if (!$res->isEnded()) {
                $res->end();
            }
            return;
        }
        $this->plain($res, 404, 'Not Found');
    }

    // ---- sessions --------------------------------------------------------------------

    public function sessionCookieName(): string
    {
        return $this->config->isSecureCookie() ? '__Host-via_session_id' : 'via_session_id';
    }

    /** The caller's session id, or null when it sent none (or a malformed one). */
    public function sessionIdOf(\Via\Request $req): ?string
    {
        $name = $this->sessionCookieName();
        foreach ($name === 'via_session_id' ? [$name] : [$name, 'via_session_id'] as $name) {
            $v = $req->cookie($name);
            // trim() with a range is one pass over a byte mask; strspn() scans its mask per byte.
            if (is_string($v) && strlen($v) === 32 && trim($v, '0..9a..f') === '') {
                return $v;
            }
        }
        return null;
    }

    private function writeSessionCookie(\Via\Response $res, string $sid): void
    {
        $options = [
            'max_age' => 2_592_000,
            'path' => '/',
            'httponly' => true,
            'samesite' => $this->config->getSameSite(),
            'secure' => $this->config->isSecureCookie(),
        ];
        if ($this->config->isPartitioned()) {
            $options['partitioned'] = true;
        }
        $res->cookie($this->sessionCookieName(), $sid, $options);
    }

    // ---- pages ------------------------------------------------------------------------

    /** @param array<string, string> $params */
    private function handlePage(\Via\Request $req, \Via\Response $res, RouteDefinition $route, array $params): void
    {
        $middleware = array_merge($this->middleware, $route->getMiddleware());
        Middleware::run($middleware, $req, $res, 'page', function (\Via\Request $req, array $attributes) use ($res, $route, $params): void {
            $sid = $this->sessionIdOf($req) ?? bin2hex(random_bytes(16));
            $id = $route->pattern . '_/' . bin2hex(random_bytes(8));
            $ctx = new Context($id, $route->pattern, $this, null, $sid);
            $ctx->setPathParams($params);
            $ctx->setRequest($req);
            $ctx->setRequestAttributes($attributes);
            try {
                Router::invoke($route->handler(), $ctx, $params);
                $html = $ctx->renderView(false);
            } catch (\Throwable $e) {
                $this->log('error', "page {$route->pattern} failed: " . get_class($e) . ': ' . $e->getMessage());
                $this->discard($ctx);
                $this->plain($res, 500, 'Internal Server Error');
                return;
            }
            $this->register($ctx, $route, $params, $sid);
            // A page whose stream never attaches (a crawler, curl) is reclaimed too.
            $this->awaitStream($ctx, $this->config->getContextAttachTimeout(), false);
            $document = Shell::build(
                $ctx,
                $html,
                $this->config->getBasePath(),
                array_merge($this->head, $ctx->getHead()),
                array_merge($this->foot, $ctx->getFoot()),
                $ctx->getShellTemplate() ?? $this->config->getShellTemplate(),
            );
            $this->writeSessionCookie($res, $sid);
            $ctx->writeCookies($res);
            $ctx->setRequest(null);
            $res->header('Content-Type', 'text/html; charset=utf-8');
            if ($this->config->getFrameAncestors() !== []) {
                $res->header('Content-Security-Policy', 'frame-ancestors ' . implode(' ', $this->config->getFrameAncestors()));
            }
            $res->end($document);
        });
    }

    /**
     * Drops a context whose handler failed before it was registered, with the scoped signals
     * and actions it made in scopes that no context uses (else a page that throws after
     * `signal(…, 'room:' . $id)` would leave one scope's state behind per request).
     */
    private function discard(Context $ctx): void
    {
        $scopes = $ctx->getScopes();
        $ctx->cleanup();
        foreach ($scopes as $scope) {
            if (($this->scopeContexts[$scope] ?? []) === []) {
                unset($this->scopeContexts[$scope], $this->scopedSignals[$scope], $this->scopedActions[$scope]);
                $this->viewCache->invalidate($scope);
            }
        }
    }

    /** @param array<string, string> $params */
    private function register(Context $ctx, RouteDefinition $route, array $params, ?string $sid): void
    {
        $id = $ctx->getId();
        $this->contexts[$id] = $ctx;
        $this->contextRoutes[$id] = [$route, $params];
        if ($sid !== null) {
            $this->contextSessions[$id] = $sid;
        }
        $this->registerContextScopes($ctx);
        $this->stats['contexts_created']++;
    }

    /**
     * $ctx has no stream: a page was served for it (it waits for the attach timeout at
     * most), or its last stream ended (it waits for a reconnect for the cleanup delay).
     * Among `withMaxPendingContexts` at most — past that the oldest waiting one goes (its
     * tab, if it comes, revives it). Pages whose stream never attached lose their own
     * oldest once they are more than half of the bound: a flood of page requests (anyone
     * can send them) churns its own contexts, and the tabs that had a stream and lost it
     * for a moment keep at least the other half (more of them wait while fewer pages do).
     * Streams that attach and end at once hold that many contexts too, not as many as end
     * within the delay.
     */
    private function awaitStream(Context $ctx, int $delayMs, bool $hadStream): void
    {
        $id = $ctx->getId();
        unset($this->pending[$id], $this->reconnecting[$id]); // the newest again
        if ($hadStream) {
            $this->reconnecting[$id] = true;
        } else {
            $this->pending[$id] = true;
        }
        $this->scheduleCleanup($ctx, $delayMs);
        if (count($this->pending) + count($this->reconnecting) > $this->config->getMaxPendingContexts()) {
            // At least one: with a bound of 1 a page never evicts itself.
            $half = max(1, intdiv($this->config->getMaxPendingContexts(), 2));
            $pages = count($this->pending) > $half || $this->reconnecting === [];
            $oldest = (string) array_key_first($pages ? $this->pending : $this->reconnecting);
            unset($this->pending[$oldest], $this->reconnecting[$oldest]);
            if (isset($this->contexts[$oldest])) {
                $this->destroyContext($this->contexts[$oldest]);
                $this->stats['contexts_evicted']++;
            }
        }
    }

    // ---- the stream -----------------------------------------------------------------

    private function handleSse(\Via\Request $req, \Via\Response $res): void
    {
        try {
            $signals = SignalParser::fromRequest($req);
        } catch (SignalError $e) {
            $this->plain($res, $e->status, $e->getMessage());
            return;
        }
        $id = $signals['via_ctx'] ?? null;
        if (!is_string($id) || $id === '') {
            $this->plain($res, 400, 'Invalid context');
            return;
        }
        $sid = $this->sessionIdOf($req);
        $run = function (\Via\Request $req) use ($res, $id, $sid, $signals): void {
            $ctx = $this->contexts[$id] ?? null;
            $revived = false;
            if ($ctx === null) {
                $ctx = $this->revive($id, $sid, $req, $signals);
                $revived = $ctx !== null;
            }
            if ($ctx === null) {
                if (isset($this->reloadMarkers[$id]) && $this->reloadMarkers[$id] > time()) {
                    $res->end();
                    return;
                }
                $this->reloadMarkers = array_filter($this->reloadMarkers, fn (int $t) => $t > time());
                if (count($this->reloadMarkers) >= self::MAX_RELOAD_MARKERS) {
                    array_shift($this->reloadMarkers); // the oldest: it would reload once more at worst
                }
                $this->reloadMarkers[$id] = time() + self::RELOAD_MARKER_SECONDS;
                $sse = $res->sse();
                $reload = Patch::script('window.location.reload()');
                $sse->send($reload->data, $reload->event);
                $sse->close();
                return;
            }
            unset($this->reloadMarkers[$id]);
            $owner = $this->contextSessions[$id] ?? null;
            if ($owner !== null && $owner !== $sid) {
                $this->plain($res, 403, 'Forbidden');
                return;
            }
            if (!$revived) {
                $ctx->injectSignals($signals);
            }
            $this->attach($ctx, $res->sse(), $req);
        };
        Middleware::run(array_values(array_filter($this->middleware, [Middleware::class, 'isSseAware'])), $req, $res, 'sse', fn (\Via\Request $req) => $run($req));
    }

    private function attach(Context $ctx, \Via\SSE $sse, \Via\Request $req): void
    {
        $id = $ctx->getId();
        unset($this->pending[$id], $this->reconnecting[$id]);
        if (isset($this->cleanupTimers[$id])) {
            \Via\Timer::clear($this->cleanupTimers[$id]);
            unset($this->cleanupTimers[$id]);
        }
        $this->registerContextScopes($ctx);
        if (!isset($this->clients[$id])) {
            $forwarded = $req->header('x-forwarded-for');
            $ip = $forwarded !== null ? trim(explode(',', $forwarded)[0]) : ($req->header('x-real-ip') ?? $req->remoteAddress());
            $clientId = substr(md5($id), 0, 8);
            $this->clients[$id] = [
                'id' => $clientId,
                'connected_at' => time(),
                'ip' => $ip,
                'context_id' => $id,
            ];
        }
        $this->activeSseCount[$id] = ($this->activeSseCount[$id] ?? 0) + 1;
        $ctx->attachStream($sse);
        $sse->onClose(fn () => $this->detach($ctx, $sse));
        $ctx->sync();
        // A stream re-opened by Datastar's own retry fires no "started" event, so the
        // shell's not-connected banner is cleared from here.
        $ctx->patchSignals(['_disconnected' => false]);
        foreach ($this->connectCallbacks as $cb) {
            try {
                $cb($ctx);
            } catch (\Throwable $e) {
                $this->log('error', 'onClientConnect failed: ' . $e->getMessage(), $ctx);
            }
        }
    }

    private function detach(Context $ctx, \Via\SSE $sse): void
    {
        $id = $ctx->getId();
        $ctx->detachStream($sse);
        $left = max(0, ($this->activeSseCount[$id] ?? 1) - 1);
        if ($left > 0) {
            $this->activeSseCount[$id] = $left;
            return;
        }
        unset($this->activeSseCount[$id], $this->clients[$id]);
        if (!isset($this->contexts[$id])) {
            return;
        }
        // The context stays in its scopes until it is destroyed: broadcasts skip it while it
        // has no stream, and leaving them here would drop a scope's signals and actions when
        // its last tab merely reconnects (a hidden tab does, every time).
        foreach ($this->disconnectCallbacks as $cb) {
            try {
                $cb($ctx);
            } catch (\Throwable $e) {
                $this->log('error', 'onClientDisconnect failed: ' . $e->getMessage(), $ctx);
            }
        }
        $this->awaitStream($ctx, $this->config->getContextCleanupDelay(), true);
    }

    /** Destroys $ctx after $delayMs unless a stream is attached by then. */
    public function scheduleCleanup(Context $ctx, int $delayMs): void
    {
        $id = $ctx->getId();
        if (isset($this->cleanupTimers[$id])) {
            \Via\Timer::clear($this->cleanupTimers[$id]);
        }
        $this->cleanupTimers[$id] = \Via\Timer::after($delayMs / 1000, function () use ($ctx, $id, $delayMs): void {
            unset($this->cleanupTimers[$id]);
            if (($this->activeSseCount[$id] ?? 0) > 0) {
                return; // a stream attached meanwhile; its end schedules again
            }
            $this->destroyContext($ctx);
        });
    }

    /** Destroys a context now: revival record, timers, callbacks, scopes. */
    public function destroyContext(Context $ctx): void
    {
        $id = $ctx->getId();
        if (!isset($this->contexts[$id])) {
            return;
        }
        [$route, $params] = $this->contextRoutes[$id];
        $this->revivals->remember(
            $id,
            $route->pattern,
            $params,
            $this->contextSessions[$id] ?? null,
            $this->config->getContextRevivalWindow(),
            $ctx->tabSignalValues(),
        );
        if (isset($this->cleanupTimers[$id])) {
            \Via\Timer::clear($this->cleanupTimers[$id]);
        }
        $scopes = $ctx->getScopes();
        unset(
            $this->contexts[$id],
            $this->pending[$id],
            $this->reconnecting[$id],
            $this->contextRoutes[$id],
            $this->contextSessions[$id],
            $this->cleanupTimers[$id],
            $this->activeSseCount[$id],
            $this->clients[$id],
        );
        foreach ($scopes as $scope) {
            $this->unregisterContextScope($ctx, $scope);
        }
        $ctx->cleanup();
        $this->stats['contexts_destroyed']++;
    }

    /**
     * Rebuilds a destroyed context for the tab that comes back within the revival window:
     * same id, the page handler run again, the client's signals applied.
     *
     * @param array<string, mixed> $signals
     */
    private function revive(string $id, ?string $sid, \Via\Request $req, array $signals): ?Context
    {
        $record = $this->revivals->take($id);
        if ($record === null) {
            return null;
        }
        if ($record['sessionId'] !== null && $record['sessionId'] !== $sid) {
            $this->log('warn', "revival of $id refused: another session");
            $this->revivals->restore($id, $record);
            return null;
        }
        $route = $this->router->find($record['route']);
        if ($route === null) {
            return null;
        }
        $ctx = new Context($id, $route->pattern, $this, null, $record['sessionId']);
        $ctx->setPathParams($record['params']);
        $ctx->setRequest($req);
        try {
            Router::invoke($route->handler(), $ctx, $record['params']);
        } catch (\Throwable $e) {
            $this->log('error', "revival of $id failed: " . $e->getMessage());
            $this->discard($ctx);
            return null;
        }
        // The client's values first, then the server's last ones over them: a tab whose
        // stream is retried resends the signals it had when the stream first opened.
        $ctx->injectSignals($signals);
        $ctx->restoreTabSignals($record['signals']);
        $ctx->setRequest(null);
        $this->register($ctx, $route, $record['params'], $record['sessionId']);
        $this->stats['contexts_revived']++;
        return $ctx;
    }

    private function handleSessionClose(\Via\Request $req, \Via\Response $res): void
    {
        $id = trim($req->body());
        $ctx = $this->contexts[$id] ?? null;
        if ($ctx !== null && ($this->contextSessions[$id] ?? null) === $this->sessionIdOf($req)) {
            $this->scheduleCleanup($ctx, $this->config->getContextCleanupDelay());
        }
        $res->end();
    }

    // ---- actions ----------------------------------------------------------------------

    private function handleAction(\Via\Request $req, \Via\Response $res, string $actionId): void
    {
        if ($req->method() === 'GET') {
            $this->plain($res, 405, 'Method Not Allowed', ['Allow' => 'POST']);
            return;
        }
        // host(): the Host header on HTTP/1, :authority on HTTP/2 (which has no Host header).
        if (!OriginCheck::allows($req->header('origin'), $req->host(), $this->config->getTrustedOrigins(), $this->config->isDevMode())) {
            $this->plain($res, 403, 'Forbidden: untrusted origin');
            return;
        }
        if (!$this->allowRate($req->remoteAddress())) {
            $this->plain($res, 429, 'Too Many Requests', ['Retry-After' => (string) $this->config->getActionRateWindow()]);
            return;
        }
        Middleware::run($this->middleware, $req, $res, 'action', function (\Via\Request $req) use ($res, $actionId): void {
            try {
                $signals = SignalParser::fromRequest($req);
            } catch (SignalError $e) {
                $this->plain($res, $e->status, $e->getMessage());
                return;
            }
            $id = $signals['via_ctx'] ?? $req->post('via_ctx');
            $ctx = is_string($id) ? ($this->contexts[$id] ?? null) : null;
            if ($ctx === null) {
                $this->plain($res, 400, 'Invalid context');
                return;
            }
            $owner = $this->contextSessions[$ctx->getId()] ?? null;
            if ($owner !== null && $owner !== $this->sessionIdOf($req)) {
                $this->plain($res, 403, 'Forbidden');
                return;
            }
            $fn = $ctx->findAction($actionId);
            if ($fn === null) {
                $this->plain($res, 404, 'Unknown action');
                return;
            }
            $this->stats['actions']++;
            $ctx->setRequest($req);
            try {
                $ctx->injectSignals($signals);
                $fn($ctx);
            } catch (\Throwable $e) {
                $this->stats['actions_failed']++;
                $this->log('error', "action $actionId failed: " . get_class($e) . ': ' . $e->getMessage(), $ctx);
                $ctx->setRequest(null);
                $this->plain($res, 500, 'Action failed');
                return;
            }
            $ctx->writeCookies($res);
            $ctx->setRequest(null);
            $res->end();
        });
    }

    private function allowRate(string $ip): bool
    {
        $max = $this->config->getActionRateLimit();
        if ($max <= 0) {
            return true;
        }
        // A monotonic clock: a client's times are in order, oldest first, so the ones that
        // left the window are a prefix, passed over once ($head) and cut off now and then
        // (amortized O(1) an action). The pair is taken out of the map and put back: its
        // list is then this call's alone and takes the new time in place (a copy of every
        // time kept, on every action, before), and the clients seen last come last, so the
        // eviction below drops those seen least recently.
        $now = hrtime(true) / 1e9;
        $cut = $now - $this->config->getActionRateWindow();
        [$head, $times] = $this->rateBuckets[$ip] ?? [0, []];
        unset($this->rateBuckets[$ip]);
        $n = count($times);
        while ($head < $n && $times[$head] <= $cut) {
            $head++;
        }
        if ($head === $n) {
            [$head, $times, $n] = [0, [], 0];
        } elseif ($head > 64 && $head * 2 > $n) {
            $times = array_slice($times, $head);
            [$head, $n] = [0, $n - $head];
        }
        $allowed = $n - $head < $max;
        if ($allowed) {
            $times[] = $now;
        }
        $this->rateBuckets[$ip] = [$head, $times];
        if (count($this->rateBuckets) > 10_000) {
            $this->rateBuckets = array_slice($this->rateBuckets, 100, null, true);
        }
        return $allowed;
    }

    /** A 5×5 symmetric identicon for a client id, as an SVG data URI. */
    private static function identicon(string $hex): string
    {
        $bits = hexdec(substr($hex, 0, 6));
        $color = '#' . substr($hex, 2, 6);
        $rects = '';
        for ($y = 0; $y < 5; $y++) {
            for ($x = 0; $x < 3; $x++) {
                if ((($bits >> ($y * 3 + $x)) & 1) === 1) {
                    $rects .= "<rect x='$x' y='$y' width='1' height='1'/>";
                    if ($x < 2) {
                        $rects .= "<rect x='" . (4 - $x) . "' y='$y' width='1' height='1'/>";
                    }
                }
            }
        }
        $svg = "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 5 5' fill='$color'>$rects</svg>";
        return 'data:image/svg+xml;base64,' . base64_encode($svg);
    }

    /**
     * Datastar signals of a request (php-via's static helper).
     *
     * @return array<string, mixed>
     */
    public static function readSignals(\Via\Request $req): array
    {
        try {
            return SignalParser::fromRequest($req);
        } catch (SignalError) {
            return [];
        }
    }
}
