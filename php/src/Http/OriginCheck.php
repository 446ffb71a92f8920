<?php

declare(strict_types=1);

namespace Via\Framework\Http;

/**
 * The CSRF check of actions (php-via §2.10). With an allowlist: no Origin passes (not a
 * browser), a present one must be listed exactly. Without: the Origin, scheme stripped,
 * must equal the Host header; a missing Origin or Host passes only in dev mode.
 */
final class OriginCheck
{
    /** @param list<string>|null $trusted */
    public static function allows(?string $origin, ?string $host, ?array $trusted, bool $devMode): bool
    {
        if ($trusted !== null) {
            return $origin === null || in_array($origin, $trusted, true);
        }
        if ($origin === null || $origin === '') {
            return $devMode;
        }
        if ($host === null || $host === '') {
            return $devMode;
        }
        foreach (['https://', 'http://'] as $scheme) {
            if (str_starts_with($origin, $scheme)) {
                return substr($origin, strlen($scheme)) === $host;
            }
        }
        return false;
    }
}
