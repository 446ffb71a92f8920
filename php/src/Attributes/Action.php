<?php

declare(strict_types=1);

namespace Via\Framework\Attributes;

use Attribute;

/** A public method exposed as an action (named after the method unless $name is given). */
#[Attribute(Attribute::TARGET_METHOD)]
final class Action
{
    public function __construct(public readonly ?string $name = null, public readonly ?string $scope = null)
    {
    }
}
