<?php

declare(strict_types=1);

namespace Via\Framework\Rendering;

use Via\Framework\Context;

/**
 * The HTML document around a page: the Datastar client, the `via_ctx` signal, the element
 * that opens the tab's stream (and reopens it within 15 s after it ends), the
 * not-connected banner and the close beacon. A view that already contains `<html` is its
 * own document and is sent unchanged.
 */
final class Shell
{
    /** @var array<string, string> shell templates by path */
    private static array $files = [];

    /**
     * @param list<string> $head
     * @param list<string> $foot
     */
    public static function build(Context $ctx, string $content, string $basePath, array $head, array $foot, ?string $template): string
    {
        if (stripos($content, '<html') !== false) {
            return $content;
        }
        $shell = $template !== null ? self::load($template) : self::DEFAULT;
        $signals = json_encode(
            ['via_ctx' => $ctx->getId(), '_disconnected' => false],
            JSON_UNESCAPED_SLASHES | JSON_HEX_APOS | JSON_HEX_QUOT | JSON_HEX_TAG | JSON_HEX_AMP,
        );
        $replace = [];
        foreach ($ctx->getNamedSignals() as $name => $signal) {
            $replace['{{ ' . $name . '.id }}'] = $signal->id();
            $replace['{{ ' . $name . ' }}'] = htmlspecialchars($signal->string(), ENT_QUOTES);
        }
        // The shell's own placeholders win over signals of the same name (a signal named
        // `content` or `base_path` must not replace them).
        unset($replace['{{ content }}']);
        $replace = [
            '{{ signals_json }}' => htmlspecialchars((string) $signals, ENT_QUOTES),
            '{{ context_id }}' => htmlspecialchars($ctx->getId(), ENT_QUOTES),
            '{{ base_path }}' => htmlspecialchars($basePath, ENT_QUOTES),
            '{{ head_content }}' => implode("\n", $head),
            '{{ foot_content }}' => implode("\n", $foot),
            '{{ styles }}' => '',
        ] + $replace;
        // The content last, so that nothing in it is taken for a placeholder.
        $parts = explode('{{ content }}', strtr($shell, $replace), 2);
        return $parts[0] . $content . ($parts[1] ?? '');
    }

    private static function load(string $path): string
    {
        if (!isset(self::$files[$path])) {
            $text = @file_get_contents($path);
            if ($text === false) {
                throw new \RuntimeException("cannot read the shell template $path");
            }
            self::$files[$path] = $text;
        }
        return self::$files[$path];
    }

    public const DEFAULT = <<<'HTML'
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{{ base_path }}via.css">
<script type="module" src="{{ base_path }}datastar.js"></script>
{{ head_content }}
</head>
<body>
<div data-signals="{{ signals_json }}"></div>
<div data-indicator="_connecting"
     data-on-interval__duration.15s.leading="!$_connecting && @get('{{ base_path }}_sse')"
     data-on:datastar-fetch="['retrying', 'error', 'finished'].includes(evt.detail.type) && evt.detail.el === el && ($_disconnected = true); evt.detail.type === 'started' && evt.detail.el === el && ($_disconnected = false)"></div>
<div class="via-disconnected" data-show="$_disconnected" style="display: none">Not connected — reconnecting…</div>
{{ content }}
<script>addEventListener('beforeunload', () => navigator.sendBeacon('{{ base_path }}_session/close', '{{ context_id }}'));</script>
{{ foot_content }}
</body>
</html>
HTML;
}
