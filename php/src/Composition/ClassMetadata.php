<?php

declare(strict_types=1);

namespace Via\Framework\Composition;

use Via\Framework\Attributes;
use Via\Framework\Context;
use Via\Framework\Scope;

/**
 * What the attributes of a mounted class say, read once per class: signal properties and
 * their scopes, persisted properties, actions, lifecycle hooks, the broadcast scope and the
 * route parameters of view().
 */
final class ClassMetadata
{
    /** @var array<class-string, self> */
    private static array $cache = [];

    /**
     * @param array<string, string> $signals property → scope
     * @param list<string> $persist
     * @param array<string, array{name: string, scope: ?string}> $actions method → action
     * @param array<string, ?string> $viewParams parameter → builtin type
     */
    private function __construct(
        public readonly string $class,
        public readonly array $signals,
        public readonly array $persist,
        public readonly array $actions,
        public readonly ?string $onDisconnect,
        public readonly ?string $onCleanup,
        public readonly ?string $broadcast,
        public readonly array $viewParams,
    ) {
    }

    /** @param class-string $class */
    public static function analyze(string $class): self
    {
        if (isset(self::$cache[$class])) {
            return self::$cache[$class];
        }
        $r = new \ReflectionClass($class);
        if (!$r->hasMethod('view') || !$r->getMethod('view')->isPublic()) {
            throw new \InvalidArgumentException("$class needs a public view(Context \$ctx, …) method to be mounted");
        }
        $signals = [];
        $persist = [];
        foreach ($r->getProperties() as $p) {
            foreach ($p->getAttributes(Attributes\Signal::class) as $a) {
                $signals[$p->getName()] = $a->newInstance()->scope;
            }
            if ($p->getAttributes(Attributes\Persist::class) !== []) {
                $persist[] = $p->getName();
            }
        }
        $actions = [];
        $onDisconnect = $onCleanup = null;
        foreach ($r->getMethods(\ReflectionMethod::IS_PUBLIC) as $m) {
            foreach ($m->getAttributes(Attributes\Action::class) as $a) {
                $action = $a->newInstance();
                $actions[$m->getName()] = ['name' => $action->name ?? $m->getName(), 'scope' => $action->scope];
            }
            if ($m->getAttributes(Attributes\OnDisconnect::class) !== []) {
                if ($onDisconnect !== null) {
                    throw new \InvalidArgumentException("$class has more than one #[OnDisconnect] method");
                }
                $onDisconnect = $m->getName();
            }
            if ($m->getAttributes(Attributes\OnCleanup::class) !== []) {
                if ($onCleanup !== null) {
                    throw new \InvalidArgumentException("$class has more than one #[OnCleanup] method");
                }
                $onCleanup = $m->getName();
            }
        }
        $broadcast = null;
        foreach ($r->getAttributes(Attributes\Broadcast::class) as $a) {
            $broadcast = $a->newInstance()->scope;
        }
        $viewParams = [];
        foreach (array_slice($r->getMethod('view')->getParameters(), 1) as $p) {
            $t = $p->getType();
            $viewParams[$p->getName()] = $t instanceof \ReflectionNamedType && $t->isBuiltin() ? $t->getName() : null;
        }
        return self::$cache[$class] = new self($class, $signals, $persist, $actions, $onDisconnect, $onCleanup, $broadcast, $viewParams);
    }
}
