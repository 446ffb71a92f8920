<?php

declare(strict_types=1);

namespace Via\Framework;

/**
 * One Datastar 1.0 server-sent event: `datastar-patch-elements` or
 * `datastar-patch-signals`, its data lines already composed (the runtime writes one
 * `data:` line per line).
 */
final class Patch
{
    public const ELEMENTS = 'datastar-patch-elements';
    public const SIGNALS = 'datastar-patch-signals';

    /** Modes of an element patch (Datastar 1.0). */
    public const MODES = ['outer', 'inner', 'replace', 'prepend', 'append', 'before', 'after', 'remove'];

    private static ?string $lastHtml = null;
    private static ?self $lastPatch = null;
    /** @var array<string, mixed>|null */
    private static ?array $lastSignals = null;
    private static ?self $lastSignalsPatch = null;

    private function __construct(public readonly string $event, public readonly string $data)
    {
    }

    /**
     * Morphs `$html` into the page: by the id of its root element, or into `$selector` with
     * `$mode` (outer by default).
     */
    public static function elements(
        string $html,
        ?string $selector = null,
        string $mode = 'outer',
        bool $useViewTransition = false,
    ): self {
        // A broadcast sends one cached render to every tab of a scope: build its patch once.
        $plain = $selector === null && $mode === 'outer' && !$useViewTransition;
        if ($plain && self::$lastHtml === $html && self::$lastPatch !== null) {
            return self::$lastPatch;
        }
        if (!in_array($mode, self::MODES, true)) {
            throw new \InvalidArgumentException("unknown patch mode \"$mode\"; one of " . implode(', ', self::MODES));
        }
        $given = $html;
        $lines = [];
        if ($selector !== null) {
            $lines[] = 'selector ' . self::oneLine($selector);
        }
        if ($mode !== 'outer') {
            $lines[] = 'mode ' . $mode;
        }
        if ($useViewTransition) {
            $lines[] = 'useViewTransition true';
        }
        // Blank lines inside stay (`elements ` with nothing after it): Datastar joins the
        // lines with "\n", and a dropped one would change the text of a <pre> or <textarea>.
        $html = trim($html);
        if ($html !== '') {
            // One `elements` line per line of the HTML (CRLF and CR end a line too).
            if (str_contains($html, "\r")) {
                $html = str_replace(["\r\n", "\r"], "\n", $html);
            }
            $lines[] = 'elements ' . str_replace("\n", "\nelements ", $html);
        }
        $patch = new self(self::ELEMENTS, implode("\n", $lines));
        if ($plain) {
            self::$lastHtml = $given;
            self::$lastPatch = $patch;
        }
        return $patch;
    }

    /** Removes the elements matching `$selector`. */
    public static function remove(string $selector): self
    {
        return new self(self::ELEMENTS, 'selector ' . self::oneLine($selector) . "\nmode remove");
    }

    /**
     * Merges `$signals` (a nested array; null deletes) into the page's signals; with
     * `$onlyIfMissing`, only those the page does not have yet.
     *
     * @param array<string, mixed> $signals
     */
    public static function signals(array $signals, bool $onlyIfMissing = false): self
    {
        // A broadcast of scoped signals gives every tab the same values: encode them once.
        if (!$onlyIfMissing && $signals === self::$lastSignals && self::$lastSignalsPatch !== null) {
            return self::$lastSignalsPatch;
        }
        $json = json_encode($signals === [] ? new \stdClass() : $signals, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
        $patch = new self(self::SIGNALS, ($onlyIfMissing ? "onlyIfMissing true\n" : '') . 'signals ' . $json);
        if (!$onlyIfMissing) {
            $kept = self::detached($signals);
            [self::$lastSignals, self::$lastSignalsPatch] = $kept === null ? [null, null] : [$kept, $patch];
        }
        return $patch;
    }

    /**
     * A copy of $values that only `===` arrays encode like, or null: none with an object
     * (`===` compares it by identity, not by what json_encode makes of it now) or a float
     * zero (`-0.0 === 0.0`, but they encode differently). The copy holds no PHP reference
     * of the caller's (written through, it would change the kept copy too).
     *
     * @param array<mixed> $values
     * @return array<mixed>|null
     */
    private static function detached(array $values): ?array
    {
        $copy = [];
        foreach ($values as $k => $v) {
            if (is_object($v) || $v === 0.0) {
                return null;
            }
            if (is_array($v) && ($v = self::detached($v)) === null) {
                return null;
            }
            $copy[$k] = $v;
        }
        return $copy;
    }

    /** Runs `$js` in the page once (a script appended to body that removes itself). */
    public static function script(string $js): self
    {
        $js = str_replace('</script', '<\/script', $js);
        return self::elements('<script data-effect="el.remove()">' . $js . '</script>', 'body', 'append');
    }

    private static function oneLine(string $s): string
    {
        if (preg_match('/[\r\n]/', $s)) {
            throw new \InvalidArgumentException('a selector is one line');
        }
        return $s;
    }
}
