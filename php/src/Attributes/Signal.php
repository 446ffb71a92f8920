<?php

declare(strict_types=1);

namespace Via\Framework\Attributes;

use Attribute;
use Via\Framework\Scope;

/** A property that is a signal named after it. TAB signals are client-writable; scoped ones are server-owned and broadcast when they change. */
#[Attribute(Attribute::TARGET_PROPERTY)]
final class Signal
{
    public function __construct(public readonly string $scope = Scope::TAB)
    {
    }
}
