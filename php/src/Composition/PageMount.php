<?php

declare(strict_types=1);

namespace Via\Framework\Composition;

use Via\Framework\Context;
use Via\Framework\Routing\Router;
use Via\Framework\Scope;
use Via\Framework\Signal;

/**
 * Turns an attributed class into a page: an instance per tab, its #[Signal] properties
 * made signals (values copied onto the instance before every action and back after it, so
 * a changed scoped signal broadcasts), its #[Action] methods made actions, its hooks
 * registered, then view() called with the route parameters.
 */
final class PageMount
{
    /** @param class-string $class */
    public static function buildClosure(string $class, ?callable $factory = null): \Closure
    {
        $meta = ClassMetadata::analyze($class);
        return static function (Context $ctx) use ($meta, $factory): mixed {
            $instance = $factory !== null ? $factory($ctx) : new ($meta->class)();
            return self::mountInstance($ctx, $meta, $instance, true);
        };
    }

    /**
     * Sets a component up from a class (Context::component(Foo::class)).
     *
     * @param class-string $class
     */
    public static function setUp(Context $ctx, string $class): void
    {
        self::mountInstance($ctx, ClassMetadata::analyze($class), new $class(), false);
    }

    private static function mountInstance(Context $ctx, ClassMetadata $meta, object $instance, bool $page): mixed
    {
        /** @var array<string, Signal> $signals */
        $signals = [];
        foreach ($meta->signals as $prop => $scope) {
            $initial = (new \ReflectionProperty($instance, $prop))->isInitialized($instance) ? $instance->$prop : null;
            $signals[$prop] = $ctx->signal($initial, $prop, $scope === Scope::TAB ? Scope::TAB : $ctx->expandScope($scope));
        }
        if ($meta->broadcast !== null) {
            $ctx->scope($meta->broadcast);
            foreach ($signals as $signal) {
                if ($signal->scope() !== Scope::TAB) {
                    $ctx->addScope($signal->scope());
                }
            }
        }
        $pull = static function () use ($instance, $signals): void {
            foreach ($signals as $prop => $signal) {
                $instance->$prop = $signal->getValue();
            }
        };
        // Every property is written back before any scope is broadcast: a broadcast renders,
        // and a render refreshes the properties from the signals.
        $push = static function () use ($ctx, $instance, $signals): void {
            $changed = [];
            foreach ($signals as $prop => $signal) {
                if ($signal->getValue() !== $instance->$prop) {
                    $signal->setValue($instance->$prop, broadcast: false);
                    $changed[$signal->scope()] = true;
                }
            }
            unset($changed[Scope::TAB]);
            foreach (array_keys($changed) as $scope) {
                $ctx->getApp()->broadcast((string) $scope);
            }
        };
        $pull();
        // A scoped signal changed by another tab's action reaches this tab as a broadcast
        // render: the view reads the properties, so they are refreshed first.
        $ctx->beforeRender($pull);
        foreach ($meta->actions as $method => $action) {
            $ctx->action(static function (Context $ctx) use ($instance, $method, $pull, $push): void {
                $pull();
                $instance->$method($ctx);
                $push();
                $ctx->syncSignals();
            }, $action['name'], $action['scope'] !== null ? $ctx->expandScope($action['scope']) : null);
        }
        foreach ([$meta->onDisconnect, $meta->onCleanup] as $hook) {
            if ($hook !== null) {
                $ctx->onCleanup(static fn (Context $c) => $instance->$hook($c));
            }
        }
        $params = [];
        if ($page) {
            foreach ($meta->viewParams as $name => $type) {
                $params[] = Router::cast($ctx->getPathParam($name), $type);
            }
        }
        // view() either sets the view itself ($ctx->view(...)) or returns the HTML.
        $result = $instance->view($ctx, ...$params);
        if (!$ctx->hasView() && is_string($result)) {
            $ctx->view(static fn () => (string) $instance->view($ctx, ...$params));
        }
        return $result;
    }
}
