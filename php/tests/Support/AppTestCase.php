<?php

declare(strict_types=1);

namespace Via\Framework\Tests\Support;

use PHPUnit\Framework\TestCase;
use Via\Framework\Config;

/**
 * Drives the app without a socket: requests are `Via\Request`s built from arrays, answers
 * are detached `Via\Response`s, and an event stream is the detached response's body.
 * Tasks (`Via\go`) run at drain(); timers are cleared after every test.
 */
abstract class AppTestCase extends TestCase
{
    protected const HOST = 'app.test';
    protected const ORIGIN = 'http://app.test';

    protected function tearDown(): void
    {
        self::drain();
        \Via\Timer::clearAll();
        self::drain();
    }

    /** Runs the tasks that are ready (patch flushes, stream close callbacks). */
    protected static function drain(): void
    {
        for ($i = 0; $i < 3; $i++) {
            \Via\sleep(0);
        }
    }

    protected static function config(): Config
    {
        return new Config();
    }

    protected static function app(?Config $config = null): TestVia
    {
        return new TestVia($config ?? self::config());
    }

    /**
     * @param array<string, string|list<string>> $headers
     * @param array<string, mixed> $extra other Via\Request keys (post, files, remote_addr…)
     */
    protected static function request(string $method, string $uri, array $headers = [], string $body = '', array $extra = []): \Via\Request
    {
        return new \Via\Request(['method' => $method, 'uri' => $uri, 'headers' => $headers + ['Host' => self::HOST], 'body' => $body] + $extra);
    }

    protected static function send(TestVia $app, \Via\Request $request): \Via\Response
    {
        $response = new \Via\Response();
        $app->handle($request, $response);
        return $response;
    }

    /** @param array<string, string|list<string>> $headers */
    protected static function get(TestVia $app, string $uri, array $headers = []): \Via\Response
    {
        return self::send($app, self::request('GET', $uri, $headers));
    }

    /**
     * GETs a page that must answer 200.
     *
     * @return array{0: \Via\Response, 1: string, 2: string} the response, the context id, the session id
     */
    protected static function openPage(TestVia $app, string $path = '/', ?string $sid = null, string $cookieName = 'via_session_id'): array
    {
        $res = self::get($app, $path, $sid !== null ? ['Cookie' => "$cookieName=$sid"] : []);
        self::assertSame(200, $res->getStatus(), $res->getBody());
        $ctxId = self::contextIdIn($res->getBody());
        $cookies = self::setCookies($res);
        $name = array_key_first(array_filter($cookies, fn (string $n) => str_ends_with($n, 'via_session_id'), ARRAY_FILTER_USE_KEY));
        self::assertNotNull($name, 'the page sets the session cookie');
        return [$res, $ctxId, $cookies[$name]['value']];
    }

    /** The via_ctx seeded in a page's data-signals. */
    protected static function contextIdIn(string $html): string
    {
        self::assertSame(1, preg_match('/data-signals="([^"]*)"/', $html, $m), 'the shell has a data-signals element');
        $signals = json_decode(html_entity_decode($m[1], ENT_QUOTES), true);
        self::assertIsArray($signals);
        self::assertIsString($signals['via_ctx'] ?? null);
        return $signals['via_ctx'];
    }

    /** @return array<string, array{value: string, attributes: string}> Set-Cookie headers by cookie name */
    protected static function setCookies(\Via\Response $res): array
    {
        $out = [];
        foreach ($res->getHeaders()['set-cookie'] ?? [] as $line) {
            [$pair, $attributes] = array_pad(explode(';', $line, 2), 2, '');
            [$name, $value] = explode('=', $pair, 2);
            $out[$name] = ['value' => urldecode($value), 'attributes' => trim($attributes)];
        }
        return $out;
    }

    /**
     * POSTs an action as Datastar does: the tab's signals as a JSON body.
     *
     * @param array<string, mixed> $signals
     * @param array<string, string> $headers
     */
    protected static function postAction(TestVia $app, string $actionId, string $ctxId, ?string $sid, array $signals = [], array $headers = [], array $extra = []): \Via\Response
    {
        $headers += ['Content-Type' => 'application/json', 'Origin' => self::ORIGIN];
        if ($sid !== null) {
            $headers += ['Cookie' => "via_session_id=$sid"];
        }
        $body = json_encode(['via_ctx' => $ctxId] + $signals, JSON_THROW_ON_ERROR);
        return self::send($app, self::request('POST', '/_action/' . rawurlencode($actionId), $headers, $body, $extra));
    }

    /**
     * Opens the tab's event stream (GET /_sse) and runs the flush of its first sync.
     *
     * @param array<string, mixed> $signals
     */
    protected static function openStream(TestVia $app, string $ctxId, ?string $sid, array $signals = []): \Via\Response
    {
        $query = rawurlencode(json_encode(['via_ctx' => $ctxId] + $signals, JSON_THROW_ON_ERROR));
        $res = self::get($app, '/_sse?datastar=' . $query, $sid !== null ? ['Cookie' => "via_session_id=$sid"] : []);
        self::drain();
        return $res;
    }

    /**
     * The events of an event-stream body.
     *
     * @return list<array{event: string, data: string}> data lines joined with "\n"
     */
    protected static function events(string $body): array
    {
        $out = [];
        foreach (preg_split('/\n\n/', $body, -1, PREG_SPLIT_NO_EMPTY) ?: [] as $block) {
            $event = '';
            $data = [];
            foreach (explode("\n", $block) as $line) {
                if (str_starts_with($line, 'event: ')) {
                    $event = substr($line, 7);
                } elseif (str_starts_with($line, 'data: ')) {
                    $data[] = substr($line, 6);
                } elseif ($line === 'data:') {
                    $data[] = '';
                }
            }
            $out[] = ['event' => $event, 'data' => implode("\n", $data)];
        }
        return $out;
    }

    /**
     * The signals patched on a stream, merged in order; the shell's own connection flag
     * (`_disconnected`) is left out.
     *
     * @return array<string, mixed>
     */
    protected static function patchedSignals(string $body): array
    {
        $signals = [];
        foreach (self::events($body) as $e) {
            if ($e['event'] === 'datastar-patch-signals' && str_starts_with($e['data'], 'signals ')) {
                $signals = array_replace_recursive($signals, json_decode(substr($e['data'], 8), true, 512, JSON_THROW_ON_ERROR));
            }
        }
        unset($signals['_disconnected']);
        return $signals;
    }

    /** @return list<string> the `elements` HTML of each element patch on a stream */
    protected static function patchedElements(string $body): array
    {
        $out = [];
        foreach (self::events($body) as $e) {
            if ($e['event'] !== 'datastar-patch-elements') {
                continue;
            }
            $lines = [];
            foreach (explode("\n", $e['data']) as $line) {
                if (str_starts_with($line, 'elements ')) {
                    $lines[] = substr($line, 9);
                }
            }
            $out[] = implode("\n", $lines);
        }
        return $out;
    }
}
