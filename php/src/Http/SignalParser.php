<?php

declare(strict_types=1);

namespace Via\Framework\Http;

/**
 * Reads the Datastar signals of a request: the `datastar` query parameter (GET), else a
 * JSON body, else a `datastar` form field. Bounded in size and depth; malformed input is
 * an error the handler answers with 400, oversized input with 413.
 */
final class SignalParser
{
    /** Bytes of signal JSON accepted from one request. */
    public const MAX_BYTES = 256 * 1024;
    public const MAX_DEPTH = 32;

    /**
     * @return array<string, mixed>
     * @throws SignalError
     */
    public static function fromRequest(\Via\Request $req): array
    {
        $query = $req->query('datastar');
        if (is_string($query)) {
            return self::decode($query);
        }
        $body = $req->body();
        if ($body !== '' && str_contains(strtolower((string) $req->header('content-type')), 'json')) {
            return self::decode($body);
        }
        if ($body !== '' && ($body[0] === '{')) {
            return self::decode($body);
        }
        $form = $req->post('datastar');
        if (is_string($form)) {
            return self::decode($form);
        }
        return [];
    }

    /**
     * @return array<string, mixed>
     * @throws SignalError
     */
    public static function decode(string $json): array
    {
        if (strlen($json) > self::MAX_BYTES) {
            throw new SignalError(413, 'Signals too large');
        }
        try {
            $value = json_decode($json, true, self::MAX_DEPTH, JSON_THROW_ON_ERROR | JSON_BIGINT_AS_STRING);
        } catch (\JsonException) {
            throw new SignalError(400, 'Malformed signals');
        }
        return is_array($value) ? $value : [];
    }
}
