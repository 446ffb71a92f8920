<?php

declare(strict_types=1);

namespace Via\Framework;

/**
 * A value shared by the server and the page: the client sees it as `$id`, binds inputs to
 * it, and the server changes it with setValue(). A scoped signal (ROUTE, SESSION, GLOBAL,
 * custom) is one object shared by every tab in its scope.
 */
final class Signal
{
    private bool $changed = true;

    /** @internal created by Context::signal() */
    public function __construct(
        private readonly string $id,
        private mixed $value,
        private readonly string $scope = Scope::TAB,
        private readonly bool $autoBroadcast = true,
        private readonly bool $clientWritable = false,
        private readonly ?Via $app = null,
    ) {
    }

    public function id(): string
    {
        return $this->id;
    }

    public function getId(): string
    {
        return $this->id;
    }

    public function scope(): string
    {
        return $this->scope;
    }

    public function getValue(): mixed
    {
        return $this->value;
    }

    /**
     * Sets the value. A scoped signal whose value really changed (===) broadcasts its scope
     * when $broadcast and the signal's autoBroadcast allow it.
     */
    public function setValue(mixed $value, bool $markChanged = true, bool $broadcast = true): void
    {
        $old = $this->value;
        $this->value = $value;
        if (!$markChanged) {
            return;
        }
        $this->changed = true;
        if ($broadcast && $this->autoBroadcast && $this->scope !== Scope::TAB && $this->app !== null && $old !== $value) {
            $this->app->broadcast($this->scope);
        }
    }

    public function hasChanged(): bool
    {
        return $this->changed;
    }

    /** @internal */
    public function markSynced(): void
    {
        $this->changed = false;
    }

    /** TAB signals are always writable by their client; scoped ones only when declared so. */
    public function isClientWritable(): bool
    {
        return $this->scope === Scope::TAB || $this->clientWritable;
    }

    public function string(): string
    {
        if (is_array($this->value) || is_object($this->value)) {
            return (string) json_encode($this->value);
        }
        return (string) $this->value;
    }

    public function int(): int
    {
        return is_numeric($this->value) || is_bool($this->value) ? (int) $this->value : 0;
    }

    public function float(): float
    {
        return is_numeric($this->value) || is_bool($this->value) ? (float) $this->value : 0.0;
    }

    public function bool(): bool
    {
        $v = $this->value;
        if (is_array($v)) {
            return $v !== [];
        }
        if (is_string($v)) {
            return in_array(strtolower($v), ['1', 'true', 'yes', 'on'], true);
        }
        return (bool) $v;
    }

    /** @return array<mixed> */
    public function array(): array
    {
        return is_array($this->value) ? $this->value : ($this->value === null ? [] : [$this->value]);
    }

    /** `data-bind="id"` for an input. */
    public function bind(): string
    {
        return 'data-bind="' . $this->id . '"';
    }

    /** A span whose text follows the signal. */
    public function text(): string
    {
        return '<span data-text="$' . $this->id . '"></span>';
    }

    /** `$id`, for Datastar expressions. */
    public function ref(): string
    {
        return '$' . $this->id;
    }

    public function __toString(): string
    {
        return $this->id;
    }
}
