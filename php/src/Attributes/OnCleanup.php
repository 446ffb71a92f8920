<?php

declare(strict_types=1);

namespace Via\Framework\Attributes;

use Attribute;

/** A public method run when the page's context is destroyed (at most one per class). */
#[Attribute(Attribute::TARGET_METHOD)]
final class OnCleanup
{
}
