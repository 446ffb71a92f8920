<?php

declare(strict_types=1);

namespace Via\Framework\Attributes;

use Attribute;

/** Server-only state kept on the page object across actions; no signal is made of it. */
#[Attribute(Attribute::TARGET_PROPERTY)]
final class Persist
{
}
