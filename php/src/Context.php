<?php

declare(strict_types=1);

namespace Via\Framework;

use Via\Framework\Rendering\ViewCache;
use Via\Framework\Rendering\ViewRenderer;

/**
 * One browser tab's server-side state: its signals, actions, view, scopes, components,
 * timers and cleanup callbacks, and the tab's event stream.
 *
 * Patches are written to the stream when they are queued (no poll loop): a tab's pending
 * signal patches coalesce (the latest value of each signal wins), element patches are
 * bounded (the oldest is dropped past MAX_PENDING_ELEMENTS, counted in getStats()), and
 * everything pending goes out in one task once the code that queued it yields.
 */
class Context
{
    /** Element patches kept for a tab whose stream is behind; older ones are dropped. */
    public const MAX_PENDING_ELEMENTS = 50;

    /** @var list<string> */
    private array $scopes = [Scope::TAB];
    /** @var array<string, Signal> TAB signals by id */
    private array $signals = [];
    /** @var array<string, Signal> every signal this context made, by name */
    private array $namedSignals = [];
    /** @var array<string, callable> TAB actions by id */
    private array $actions = [];
    /** @var array<string, Action> */
    private array $namedActions = [];
    private int $signalSeq = 0;
    private int $actionSeq = 0;
    /** @var callable|string|null */
    private $view = null;
    /** @var array<string, mixed> */
    private array $viewData = [];
    private ?string $viewBlock = null;
    private bool $cacheUpdates = true;
    /** @var list<callable(): void> run before each render of the view */
    private array $beforeRender = [];
    private bool $updating = false;
    /** @var array<string, string> */
    private array $pathParams = [];
    /** @var array<string, mixed> */
    private array $requestAttributes = [];
    /** @var array<string, Context> components by id */
    private array $components = [];
    private ?Context $parent = null;
    private bool $dirty = false;
    /** @var list<callable> */
    private array $cleanupCallbacks = [];
    /** @var list<int> */
    private array $timers = [];
    /** @var list<string> */
    private array $head = [];
    /** @var list<string> */
    private array $foot = [];
    private ?string $shellTemplate = null;
    private ?\Via\Request $request = null;
    /** @var list<array{0: string, 1: string, 2: array<string, mixed>}> */
    private array $queuedCookies = [];
    private bool $destroyed = false;

    // The tab's stream and what waits to be written to it.
    private ?\Via\SSE $stream = null;
    /** @var list<Patch> */
    private array $pendingElements = [];
    /** @var array<string, mixed> */
    private array $pendingSignals = [];
    private bool $flushScheduled = false;
    /** The task body that writes what is pending, made once (not a closure per flush). */
    private ?\Closure $flusher = null;
    /** This page's key in the view cache (`ViewCache::page`), made once per path parameters. */
    private ?string $pageKey = null;

    public function __construct(
        private readonly string $id,
        private readonly string $route,
        private readonly Via $app,
        private readonly ?string $namespace = null,
        private readonly ?string $sessionId = null,
    ) {
    }

    // ---- identity and request data ------------------------------------------------

    public function getId(): string
    {
        return $this->id;
    }

    public function getRoute(): string
    {
        return $this->route;
    }

    public function getSessionId(): ?string
    {
        return $this->sessionId;
    }

    public function getNamespace(): ?string
    {
        return $this->namespace;
    }

    public function getApp(): Via
    {
        return $this->app;
    }

    public function getPathParam(string $name): string
    {
        return $this->pathParams[$name] ?? '';
    }

    /** @return array<string, string> */
    public function getPathParams(): array
    {
        return $this->pathParams;
    }

    /** @internal @param array<string, string> $params */
    public function setPathParams(array $params): void
    {
        $this->pathParams = $params;
        $this->pageKey = null;
    }

    public function getRequestAttribute(string $name, mixed $default = null): mixed
    {
        return $this->requestAttributes[$name] ?? $default;
    }

    /** @return array<string, mixed> */
    public function getRequestAttributes(): array
    {
        return $this->requestAttributes;
    }

    /** @internal @param array<string, mixed> $attributes */
    public function setRequestAttributes(array $attributes): void
    {
        $this->requestAttributes = $attributes;
    }

    /** @internal the request being handled for this context (page or action) */
    public function setRequest(?\Via\Request $request): void
    {
        $this->request = $request;
    }

    public function getRequest(): ?\Via\Request
    {
        return $this->request;
    }

    /** A value of the current action request: its body fields first, then its query. */
    public function input(string $name, mixed $default = null): mixed
    {
        if ($this->request === null) {
            return $default;
        }
        return $this->request->post($name) ?? $this->request->query($name) ?? $default;
    }

    /**
     * An uploaded file of the current request in PHP's shape (name, type, tmp_name, error,
     * size), or null when the field is missing or the upload failed.
     *
     * @return array<string, mixed>|null
     */
    public function file(string $name): ?array
    {
        $f = $this->request?->files()[$name] ?? null;
        if (!is_array($f) || ($f['error'] ?? UPLOAD_ERR_NO_FILE) !== UPLOAD_ERR_OK) {
            return null;
        }
        return $f;
    }

    // ---- cookies --------------------------------------------------------------------

    public function cookie(string $name): ?string
    {
        $v = $this->request?->cookie($name);
        return is_string($v) ? $v : null;
    }

    /** Queues a cookie for the page or action response (never sent on the stream). */
    public function setCookie(
        string $name,
        string $value,
        int $expires = 0,
        string $path = '/',
        string $domain = '',
        bool $secure = true,
        bool $httpOnly = true,
        string $sameSite = 'Lax',
    ): void {
        $options = ['path' => $path, 'secure' => $secure, 'httponly' => $httpOnly, 'samesite' => $sameSite];
        if ($expires > 0) {
            $options['expires'] = $expires;
        }
        if ($domain !== '') {
            $options['domain'] = $domain;
        }
        $this->queuedCookies[] = [$name, $value, $options];
    }

    public function deleteCookie(string $name, string $path = '/'): void
    {
        $this->queuedCookies[] = [$name, '', ['path' => $path, 'expires' => 1]];
    }

    /** @internal writes and forgets the queued cookies */
    public function writeCookies(\Via\Response $response): void
    {
        foreach ($this->queuedCookies as [$name, $value, $options]) {
            $response->cookie($name, $value, $options);
        }
        $this->queuedCookies = [];
    }

    // ---- session data -----------------------------------------------------------------

    public function sessionData(string $key, mixed $default = null): mixed
    {
        return $this->sessionId === null ? $default : $this->app->getSessionData($this->sessionId, $key, $default);
    }

    public function setSessionData(string $key, mixed $value): void
    {
        if ($this->sessionId !== null) {
            $this->app->setSessionData($this->sessionId, $key, $value);
        }
    }

    public function clearSessionData(?string $key = null): void
    {
        if ($this->sessionId !== null) {
            $this->app->clearSessionData($this->sessionId, $key);
        }
    }

    // ---- scopes -----------------------------------------------------------------------

    /**
     * Replaces the scope list (TAB stays); ROUTE means this route, SESSION this session.
     * The scopes left behind stop reaching this context.
     */
    public function scope(string $scope): void
    {
        $scope = $this->expandScope($scope);
        $old = $this->scopes;
        $this->scopes = array_values(array_unique($scope === Scope::TAB ? [Scope::TAB] : [$scope, Scope::TAB]));
        foreach (array_diff($old, $this->scopes) as $left) {
            $this->app->unregisterContextScope($this, $left);
        }
        $this->app->registerContextScopes($this);
    }

    /** Adds a scope; a component's scopes are its page's too (the page syncs and receives broadcasts). */
    public function addScope(string $scope): void
    {
        $scope = $this->expandScope($scope);
        if (!in_array($scope, $this->scopes, true)) {
            $this->scopes[] = $scope;
            $this->app->registerContextScopes($this);
        }
        if ($this->parent !== null) {
            $this->topContext()->addScope($scope);
        }
    }

    public function removeScope(string $scope): void
    {
        $scope = $this->expandScope($scope);
        if ($scope === Scope::TAB) {
            return;
        }
        $this->scopes = array_values(array_filter($this->scopes, fn (string $s) => $s !== $scope));
        $this->app->unregisterContextScope($this, $scope);
    }

    /** @return list<string> */
    public function getScopes(): array
    {
        return $this->scopes;
    }

    /** The first scope, the target of broadcast(). */
    public function getPrimaryScope(): string
    {
        return $this->scopes[0] ?? Scope::TAB;
    }

    public function hasScope(string $scope): bool
    {
        return in_array($this->expandScope($scope), $this->scopes, true);
    }

    /** @internal */
    public function expandScope(string $scope): string
    {
        return match ($scope) {
            Scope::ROUTE => Scope::routeScope($this->route),
            Scope::SESSION => $this->sessionId !== null
                ? Scope::build(Scope::SESSION, $this->sessionId)
                : throw new \LogicException('the SESSION scope needs a session (this context has none)'),
            default => $scope,
        };
    }

    // ---- signals ----------------------------------------------------------------------

    /**
     * A signal. TAB signals belong to this tab (re-registering overwrites the value);
     * scoped ones are one object per scope (a later call returns it and ignores $initial).
     * Without $scope a signal takes the primary scope unless that is TAB.
     */
    public function signal(
        mixed $initial,
        ?string $name = null,
        ?string $scope = null,
        bool $autoBroadcast = true,
        bool $clientWritable = false,
    ): Signal {
        $name ??= 'signal' . (++$this->signalSeq);
        $scope = $this->expandScope($scope ?? $this->getPrimaryScope());
        $local = $this->namespace !== null ? $this->namespace . '.' . $name : $name;
        if ($scope === Scope::TAB) {
            $id = self::signalId($local . '_' . $this->topContext()->id);
            $signal = new Signal($id, $initial, Scope::TAB, $autoBroadcast, $clientWritable, $this->app);
            $this->signals[$id] = $signal;
        } else {
            $id = self::signalId($scope . ':' . ($this->namespace !== null ? $this->namespace . '_' : '') . $name);
            $signal = $this->app->scopedSignal($scope, $id, fn () => new Signal(
                $id,
                $initial,
                $scope,
                $autoBroadcast,
                $clientWritable,
                $this->app,
            ));
            $this->addScope($scope);
        }
        $this->namedSignals[$name] = $signal;
        return $signal;
    }

    /** @internal ids carry only [A-Za-z0-9_] (they are JavaScript identifiers on the page) */
    public static function signalId(string $raw): string
    {
        return (string) preg_replace('/[^A-Za-z0-9_]/', '_', $raw);
    }

    public function getSignal(string $name): ?Signal
    {
        return $this->namedSignals[$name] ?? null;
    }

    /** @return array<string, Signal> by name */
    public function getNamedSignals(): array
    {
        return $this->namedSignals;
    }

    /** @return array<string, mixed> the values of this tab's own signals, by id */
    public function tabSignalValues(): array
    {
        return array_map(fn (Signal $s) => $s->getValue(), $this->signals);
    }

    /**
     * @internal sets TAB signals by id (a revived context takes back its last values)
     *
     * @param array<string, mixed> $values
     */
    public function restoreTabSignals(array $values): void
    {
        foreach ($values as $id => $value) {
            ($this->signals[$id] ?? null)?->setValue($value, markChanged: true, broadcast: false);
        }
    }

    /** @return array<string, Signal> TAB signals and the scoped signals of every scope, by id */
    public function getSignals(): array
    {
        $all = $this->signals;
        foreach ($this->scopes as $scope) {
            if ($scope !== Scope::TAB) {
                $all += $this->app->getScopedSignals($scope);
            }
        }
        return $all;
    }

    /**
     * Applies signal values the client sent (a nested array, flattened with dots): TAB
     * signals always, scoped ones only when client-writable, unknown ids ignored. Never
     * broadcasts.
     *
     * @param array<string, mixed> $signals
     */
    public function injectSignals(array $signals): void
    {
        $known = $this->getSignals();
        foreach ($this->components as $component) {
            $known += $component->getSignals();
        }
        foreach (self::flatten($signals) as $id => $value) {
            $signal = $known[$id] ?? null;
            if ($signal !== null && $signal->isClientWritable()) {
                $signal->setValue($value, markChanged: false);
            }
        }
    }

    /**
     * @param array<string|int, mixed> $values
     * @return array<string, mixed>
     */
    private static function flatten(array $values, string $prefix = ''): array
    {
        $out = [];
        foreach ($values as $k => $v) {
            $key = $prefix === '' ? (string) $k : $prefix . '.' . $k;
            if (is_array($v) && $v !== [] && !array_is_list($v)) {
                $out += self::flatten($v, $key);
            } else {
                $out[$key] = $v;
            }
        }
        return $out;
    }

    // ---- actions -----------------------------------------------------------------------

    /**
     * An action. A TAB action's id is `[namespace-]name` (or `actionN`), the same on every
     * render so a revived context keeps its URLs; a scoped action needs a name and is
     * registered once per scope.
     */
    public function action(callable $fn, ?string $name = null, ?string $scope = null): Action
    {
        $scope = $this->expandScope($scope ?? $this->getPrimaryScope());
        if ($scope === Scope::TAB) {
            $local = $name ?? 'action' . (++$this->actionSeq);
            $id = ($this->namespace !== null ? $this->namespace . '-' : '') . $local;
            $this->actions[$id] = $fn;
        } else {
            if ($name === null || $name === '') {
                throw new \InvalidArgumentException("an action in scope \"$scope\" needs a name");
            }
            $id = $name;
            $this->app->scopedAction($scope, $id, $fn);
            $this->addScope($scope);
        }
        $action = new Action($id, $this->app->getConfig()->getBasePath());
        $this->namedActions[$name ?? $id] = $action;
        return $action;
    }

    public function getAction(string $name): ?Action
    {
        return $this->namedActions[$name] ?? null;
    }

    /** @return array<string, Action> */
    public function getNamedActions(): array
    {
        return $this->namedActions;
    }

    /** @internal the callable for an action id, looked up as php-via does; null when none */
    public function findAction(string $id): ?callable
    {
        if (isset($this->actions[$id])) {
            return $this->actions[$id];
        }
        $scopes = $this->scopes;
        $scopes[] = Scope::routeScope($this->route);
        $scopes[] = Scope::GLOBAL;
        foreach (array_unique($scopes) as $scope) {
            $fn = $this->app->getScopedAction($scope, $id);
            if ($fn !== null) {
                return $fn;
            }
        }
        foreach ($this->components as $component) {
            $fn = $component->findAction($id);
            if ($fn !== null) {
                return $fn;
            }
        }
        return null;
    }

    /** Runs an action by id with this context. @throws \RuntimeException when there is none */
    public function executeAction(string $id): void
    {
        $fn = $this->findAction($id) ?? throw new \RuntimeException("Action not found: $id");
        $fn($this);
    }

    // ---- view and rendering --------------------------------------------------------

    /**
     * The view: a Twig template name (rendered with the signals and actions as data) or a
     * callable `fn (bool $isUpdate, string $basePath): string`. With $block, updates render
     * only that Twig block; $cacheUpdates=false turns off the shared update render of a
     * scoped page.
     *
     * @param callable|string $view
     * @param array<string, mixed> $data
     */
    public function view(callable|string $view, array $data = [], ?string $block = null, bool $cacheUpdates = true): void
    {
        $this->view = $view;
        $this->viewData = $data;
        $this->viewBlock = $block;
        $this->cacheUpdates = $cacheUpdates;
    }

    /**
     * @internal runs $fn before each render of the view (a mounted class copies its signals'
     * values onto its properties, which another tab's action may have changed)
     */
    public function beforeRender(callable $fn): void
    {
        $this->beforeRender[] = $fn;
    }

    public function hasView(): bool
    {
        return $this->view !== null;
    }

    public function isUpdating(): bool
    {
        return $this->updating;
    }

    /** @internal renders the view: the first render (false) or an update (true) */
    public function renderView(bool $isUpdate): string
    {
        if ($this->view === null) {
            return '';
        }
        $cacheKey = null;
        $scope = $this->scopes[0] ?? Scope::TAB;
        if ($isUpdate && $this->cacheUpdates && $this->parent === null && $scope !== Scope::TAB) {
            // A broadcast renders once per scope and page; every other tab takes that render.
            $cacheKey = [$scope, $this->pageKey ??= ViewCache::page($this->route, $this->pathParams)];
            $cached = $this->app->viewCache()->get($scope, $cacheKey[1]);
            if ($cached !== null) {
                return $cached;
            }
        }
        $this->updating = $isUpdate;
        try {
            foreach ($this->beforeRender as $fn) {
                $fn();
            }
            $html = is_string($this->view)
                ? $this->render($this->view, $this->viewData, $isUpdate ? $this->viewBlock : null)
                : (string) ($this->view)($isUpdate, $this->app->getConfig()->getBasePath());
            if ($cacheKey !== null) {
                $this->app->viewCache()->put($cacheKey[0], $cacheKey[1], $html);
            }
            $this->app->countRender($cacheKey !== null);
            return $html;
        } finally {
            $this->updating = false;
        }
    }

    /**
     * Renders a Twig template with this context's data: named signals by name, named actions
     * by camelCase name, `_via`, `contextId` and `currentRoute`; $data wins.
     *
     * @param array<string, mixed> $data
     */
    public function render(string $template, array $data = [], ?string $block = null): string
    {
        return $this->app->renderer()->renderTemplate($template, array_merge($this->templateData(), $data), $block);
    }

    /** @param array<string, mixed> $data */
    public function renderString(string $template, array $data = []): string
    {
        return $this->app->renderer()->renderString($template, array_merge($this->templateData(), $data));
    }

    /** @return array<string, mixed> */
    private function templateData(): array
    {
        $data = [];
        foreach ($this->namedSignals as $name => $signal) {
            $data[$name] = $signal;
        }
        foreach ($this->namedActions as $name => $action) {
            $data[ViewRenderer::camel($name)] = $action;
        }
        $data['_via'] = ['signals' => $this->namedSignals, 'actions' => $this->namedActions];
        $data['contextId'] = $this->id;
        $data['currentRoute'] = $this->route;
        return $data;
    }

    public function setShellTemplate(string $path): void
    {
        $this->shellTemplate = $path;
    }

    public function getShellTemplate(): ?string
    {
        return $this->shellTemplate;
    }

    public function appendToHead(string ...$html): void
    {
        array_push($this->head, ...$html);
    }

    public function appendToFoot(string ...$html): void
    {
        array_push($this->foot, ...$html);
    }

    /** @return list<string> */
    public function getHead(): array
    {
        return $this->head;
    }

    /** @return list<string> */
    public function getFoot(): array
    {
        return $this->foot;
    }

    // ---- components -----------------------------------------------------------------

    /**
     * A child context sharing this page's route and stream. The setup function runs at
     * once with the child; the returned closure renders it inside `<div id="c-…">`.
     *
     * @param callable|class-string $fn
     */
    public function component(callable|string $fn, ?string $namespace = null): callable
    {
        $id = $this->id . '/_component/' . bin2hex(random_bytes(8));
        $namespace ??= 'c' . substr(md5($id), 0, 8);
        $child = new Context($id, $this->route, $this->app, $namespace, $this->sessionId);
        $child->parent = $this;
        $child->request = $this->request;
        $this->components[$id] = $child;
        if (is_string($fn) && class_exists($fn)) {
            Composition\PageMount::setUp($child, $fn);
        } else {
            $fn($child);
        }
        return fn (): string => '<div id="' . $child->elementId() . '">' . $child->renderView(false) . '</div>';
    }

    /**
     * @internal the DOM id a component renders into, also its patches' `#id` selector: only
     * [A-Za-z0-9-], so that route patterns (`/users/{id}`, `/a.b`) make a valid selector
     */
    public function elementId(): string
    {
        return 'c-' . preg_replace('/[^A-Za-z0-9-]/', '-', $this->id);
    }

    /** @return array<string, Context> */
    public function getComponents(): array
    {
        return $this->components;
    }

    private function topContext(): Context
    {
        $c = $this;
        while ($c->parent !== null) {
            $c = $c->parent;
        }
        return $c;
    }

    // ---- pushing to the tab ---------------------------------------------------------

    /** Queues a full render of the view, then the changed signals, then dirty components. */
    public function sync(): void
    {
        if ($this->destroyed) {
            return;
        }
        if ($this->parent !== null) {
            $this->queue(Patch::elements(
                '<div id="' . $this->elementId() . '">' . $this->renderView(true) . '</div>',
                '#' . $this->elementId(),
            ));
            $this->syncSignals();
            return;
        }
        if ($this->view !== null) {
            $this->queue(Patch::elements($this->renderView(true)));
        }
        $this->syncSignals();
        foreach ($this->components as $component) {
            if ($component->dirty) {
                $component->dirty = false;
                $component->sync();
            }
        }
    }

    /** Queues the changed TAB signals and every signal of this context's other scopes. */
    public function syncSignals(): void
    {
        $out = [];
        foreach ($this->signals as $id => $signal) {
            if ($signal->hasChanged()) {
                $out[$id] = $signal->getValue();
                $signal->markSynced();
            }
        }
        foreach ($this->scopes as $scope) {
            if ($scope === Scope::TAB) {
                continue;
            }
            foreach ($this->app->getScopedSignals($scope) as $id => $signal) {
                $out[$id] = $signal->getValue();
            }
        }
        if ($out !== []) {
            $this->queueSignals($out);
        }
    }

    /** Marks a component for the next sync() of its page. */
    public function markDirty(): void
    {
        $this->dirty = true;
    }

    /** Runs JavaScript in the tab. */
    public function execScript(string $js): void
    {
        $this->queue(Patch::script($js));
    }

    /**
     * Morphs HTML into the tab (by its root id, or into $selector with $mode).
     */
    public function patchElements(string $html, ?string $selector = null, string $mode = 'outer', bool $useViewTransition = false): void
    {
        $this->queue(Patch::elements($html, $selector, $mode, $useViewTransition));
    }

    public function removeElements(string $selector): void
    {
        $this->queue(Patch::remove($selector));
    }

    /**
     * Sends signal values to the tab (a nested array; null removes one).
     *
     * @param array<string, mixed> $signals
     */
    public function patchSignals(array $signals, bool $onlyIfMissing = false): void
    {
        if ($onlyIfMissing) {
            $this->queue(Patch::signals($signals, true));
            return;
        }
        $this->queueSignals($signals);
    }

    /**
     * Broadcasts this context's primary scope. A TAB context syncs only itself (php-via
     * re-synced every context of the process here).
     */
    public function broadcast(): void
    {
        $scope = $this->getPrimaryScope();
        if ($scope === Scope::TAB) {
            $this->sync();
            return;
        }
        $this->app->broadcast($scope);
    }

    /** @internal queues one patch for the tab */
    public function queue(Patch $patch): void
    {
        if ($this->parent !== null) {
            $this->topContext()->queue($patch);
            return;
        }
        if ($this->stream === null) {
            return; // nobody to tell; attaching a stream syncs everything anyway
        }
        if ($patch->event === Patch::SIGNALS && !str_starts_with($patch->data, 'onlyIfMissing')) {
            // Kept as values so that later ones replace earlier ones.
            $this->queueSignals(json_decode(substr($patch->data, strlen('signals ')), true) ?: []);
            return;
        }
        $this->pendingElements[] = $patch;
        if (count($this->pendingElements) > self::MAX_PENDING_ELEMENTS) {
            array_shift($this->pendingElements);
            $this->app->countDroppedPatch();
        }
        $this->scheduleFlush();
    }

    /** @param array<string, mixed> $signals */
    private function queueSignals(array $signals): void
    {
        if ($this->parent !== null) {
            $this->topContext()->queueSignals($signals);
            return;
        }
        if ($this->stream === null) {
            return;
        }
        $this->pendingSignals = $this->pendingSignals === [] ? $signals : array_replace_recursive($this->pendingSignals, $signals);
        $this->scheduleFlush();
    }

    private function scheduleFlush(): void
    {
        if ($this->flushScheduled || $this->stream === null) {
            return;
        }
        $this->flushScheduled = true;
        $this->app->flushSoon($this);
    }

    /**
     * @internal writes what is pending as far as the client keeps up, with no wait: a tab
     * whose client is behind gets a task of its own that waits for it (`flush`).
     */
    public function flushNow(): void
    {
        $stream = $this->stream;
        while ($stream !== null) {
            try {
                $patch = $this->nextPatch();
            } catch (\JsonException $e) {
                $this->flushScheduled = false;
                throw $e;
            }
            if ($patch === null) {
                break;
            }
            $sent = $stream->trySend($patch->data, $patch->event);
            if ($sent === null) {
                // The client's queue is full: the backpressure policy applies in a task that
                // may wait, not in the loop over every tab. Still scheduled until it ends.
                \Via\go($this->flusher ??= function (): void {
                    try {
                        $this->flush();
                    } finally {
                        $this->flushScheduled = false;
                    }
                    if ($this->pendingElements || $this->pendingSignals) {
                        $this->scheduleFlush(); // queued for a stream attached meanwhile
                    }
                });
                return;
            }
            $this->takePatch();
            if (!$sent) {
                break; // the stream closed
            }
            $this->app->countPatch();
        }
        $this->flushScheduled = false;
    }

    /**
     * @internal writes what is pending, in order: elements, then the merged signals; waits
     * for a slow client as the backpressure policy says (what is queued meanwhile waits
     * here, coalesced), until the stream is another one
     */
    public function flush(): void
    {
        $stream = $this->stream;
        while ($stream !== null && $stream === $this->stream && ($patch = $this->nextPatch()) !== null) {
            // Taken before the send, which may wait: what is queued meanwhile stays pending.
            $this->takePatch();
            if (!$stream->send($patch->data, $patch->event)) {
                if (!$stream->isOpen()) {
                    return;
                }
                $this->app->countDroppedPatch();
            }
            $this->app->countPatch();
        }
    }

    /**
     * The patch to write next, not taken yet: the oldest element patch, else the merged
     * signals. Signals JSON cannot carry (invalid UTF-8, NAN) are dropped as it throws, or
     * every later flush of the tab would fail on them again.
     */
    private function nextPatch(): ?Patch
    {
        if ($this->pendingElements) {
            return $this->pendingElements[0];
        }
        if (!$this->pendingSignals) {
            return null;
        }
        try {
            return Patch::signals($this->pendingSignals);
        } catch (\JsonException $e) {
            $this->pendingSignals = [];
            throw $e;
        }
    }

    /** Drops the patch `nextPatch` gave. */
    private function takePatch(): void
    {
        if ($this->pendingElements) {
            array_shift($this->pendingElements);
        } else {
            $this->pendingSignals = [];
        }
    }

    /** @internal the tab's stream attached (the previous one, if any, is closed) */
    public function attachStream(\Via\SSE $stream): void
    {
        $old = $this->stream;
        $this->stream = $stream;
        $this->pendingElements = [];
        $this->pendingSignals = [];
        foreach ($this->signals as $signal) {
            $signal->setValue($signal->getValue(), markChanged: true, broadcast: false);
        }
        if ($old !== null && $old !== $stream) {
            $old->close();
        }
    }

    /** @internal */
    public function detachStream(\Via\SSE $stream): bool
    {
        if ($this->stream !== $stream) {
            return false;
        }
        $this->stream = null;
        $this->pendingElements = [];
        $this->pendingSignals = [];
        return true;
    }

    public function getStream(): ?\Via\SSE
    {
        return $this->stream;
    }

    /** @internal pending patches, for tests: [elements, signals] */
    public function pending(): array
    {
        return [$this->pendingElements, $this->pendingSignals];
    }

    // ---- lifecycle ------------------------------------------------------------------

    /** Runs $cb(Context) when the context is destroyed. */
    public function onDisconnect(callable $cb): void
    {
        $this->cleanupCallbacks[] = $cb;
    }

    /** The same queue as onDisconnect(). */
    public function onCleanup(callable $cb): void
    {
        $this->cleanupCallbacks[] = $cb;
    }

    /** A timer cleared with the context. Exceptions are logged; the timer keeps running. */
    public function setInterval(callable $cb, int $ms): int
    {
        $id = \Via\Timer::tick(max(1, $ms) / 1000, function () use ($cb): void {
            try {
                $cb($this);
            } catch (\Throwable $e) {
                $this->app->log('error', 'context interval failed: ' . $e->getMessage(), $this);
            }
        });
        $this->timers[] = $id;
        return $id;
    }

    /** @deprecated use setInterval() */
    public function interval(int $ms, callable $cb): int
    {
        return $this->setInterval($cb, $ms);
    }

    public function clearInterval(int $id): void
    {
        \Via\Timer::clear($id);
        $this->timers = array_values(array_filter($this->timers, fn (int $t) => $t !== $id));
    }

    public function isDestroyed(): bool
    {
        return $this->destroyed;
    }

    /** @internal timers cleared, callbacks run, state dropped */
    public function cleanup(): void
    {
        if ($this->destroyed) {
            return;
        }
        $this->destroyed = true;
        foreach ($this->timers as $id) {
            \Via\Timer::clear($id);
        }
        $this->timers = [];
        foreach ($this->components as $component) {
            $component->cleanup();
        }
        foreach ($this->cleanupCallbacks as $cb) {
            try {
                $cb($this);
            } catch (\Throwable $e) {
                $this->app->log('error', 'cleanup callback failed: ' . $e->getMessage(), $this);
            }
        }
        $this->cleanupCallbacks = [];
        $this->stream?->close();
        $this->stream = null;
        $this->signals = $this->namedSignals = $this->actions = $this->namedActions = $this->components = [];
        $this->pendingElements = $this->pendingSignals = [];
        $this->view = null;
        $this->beforeRender = [];
        $this->request = null;
        $this->flusher = null; // it holds $this
    }
}
