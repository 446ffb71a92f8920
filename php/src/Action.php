<?php

declare(strict_types=1);

namespace Via\Framework;

/** A server function a page can call: `@post('{{ increment.url }}')`. */
final class Action
{
    public function __construct(
        private readonly string $id,
        private readonly string $basePath = '/',
    ) {
    }

    public function id(): string
    {
        return $this->id;
    }

    /** The URL the client posts to: `{basePath}_action/{id}`. */
    public function url(): string
    {
        return $this->basePath . '_action/' . rawurlencode($this->id);
    }

    /** A Datastar expression that calls the action: `@post('/_action/id')`. */
    public function post(): string
    {
        return "@post('" . $this->url() . "')";
    }

    public function __toString(): string
    {
        return $this->url();
    }
}
