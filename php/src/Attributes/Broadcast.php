<?php

declare(strict_types=1);

namespace Via\Framework\Attributes;

use Attribute;

/** The primary scope of a mounted page: the target of `$ctx->broadcast()`. */
#[Attribute(Attribute::TARGET_CLASS)]
final class Broadcast
{
    public function __construct(public readonly string $scope)
    {
    }
}
