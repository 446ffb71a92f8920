<?php
/**
 * The framework demo: pages, signals, actions and scopes over one Datastar stream per tab.
 *
 *   php -d extension=/abs/path/libvia.so examples/app.php [port]
 *
 * GET /              a counter per tab (TAB scope) and an input echoed by an action
 * GET /board         a chat and a like button shared by every tab on the page (ROUTE scope)
 * GET /session       a counter shared by the tabs of one browser (SESSION scope)
 * GET /clock         a clock pushed by an app interval to a scope of its own ("clock")
 * GET /upload        a form with a file, posted with Datastar's contentType: 'form'
 * GET /hello/{name}  a page with a path parameter
 * GET /twig          a Twig view (templates/twig.html.twig)
 * GET /_health       the framework's health answer
 *
 * Environment (for tests and deployments): PORT (when no argument is given), VIA_HOST,
 * VIA_CLEANUP_MS and VIA_REVIVAL_MS (context cleanup delay and revival window),
 * VIA_CLOCK_MS (clock period), VIA_TLS_CERT and VIA_TLS_KEY (HTTPS and HTTP/2),
 * VIA_BROTLI=1, VIA_LOG_LEVEL.
 */
declare(strict_types=1);

require __DIR__ . '/bootstrap.php';

use Via\Framework\Config;
use Via\Framework\Context;
use Via\Framework\Scope;
use Via\Framework\Via;

/** An integer from the environment, or $default. */
function envInt(string $name, int $default): int
{
    $v = getenv($name);
    return $v === false || $v === '' ? $default : (int) $v;
}

function e(string $s): string
{
    return htmlspecialchars($s, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
}

/** The links to every page. */
function nav(): string
{
    $links = [
        '/' => 'Counter',
        '/board' => 'Board',
        '/session' => 'Session',
        '/clock' => 'Clock',
        '/upload' => 'Upload',
        '/hello/world' => 'Hello',
        '/twig' => 'Twig',
    ];
    $nav = '';
    foreach ($links as $href => $label) {
        $nav .= '<a href="' . e($href) . '">' . e($label) . '</a>';
    }
    return '<nav>' . $nav . '</nav>';
}

/** The page around every view: one root element (Datastar morphs it by its id). */
function layout(string $title, string $body): string
{
    return '<main id="app">' . nav() . '<h1>' . e($title) . '</h1>' . $body . '</main>';
}

$port = (int) ($argv[1] ?? envInt('PORT', 3000));
$config = (new Config())
    ->withHost(getenv('VIA_HOST') ?: '127.0.0.1')
    ->withPort($port)
    ->withLogLevel(getenv('VIA_LOG_LEVEL') ?: 'info')
    ->withTemplateDir(__DIR__ . '/templates')
    ->withContextCleanupDelay(envInt('VIA_CLEANUP_MS', 5_000))
    ->withContextRevivalWindow(envInt('VIA_REVIVAL_MS', 600_000));
if (getenv('VIA_TLS_CERT') && getenv('VIA_TLS_KEY')) {
    $config->withCertificate((string) getenv('VIA_TLS_CERT'), (string) getenv('VIA_TLS_KEY'));
}
if (getenv('VIA_BROTLI') === '1') {
    $config->withBrotli();
}

$app = new Via($config);
$app->appendToHead('<title>via demo</title>', <<<'HTML'
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 42rem; padding: 0 1rem; color: #222; }
  nav { display: flex; gap: 1rem; flex-wrap: wrap; padding-bottom: .5rem; border-bottom: 1px solid #ddd; }
  nav a { color: #0a58ca; text-decoration: none; }
  h1 { font-size: 1.5rem; }
  output, time { font-weight: bold; font-variant-numeric: tabular-nums; }
  button { font: inherit; padding: .2rem .8rem; }
  input { font: inherit; padding: .2rem .4rem; }
  ul.messages { padding-left: 1.2rem; }
  .hint { color: #666; font-size: .9rem; }
</style>
HTML);

// ---- TAB scope: a counter per tab, and a bound input that an action reads -------------

$app->page('/', function (Context $ctx): void {
    $count = $ctx->signal(0, 'count');
    $name = $ctx->signal('', 'name');
    $greeting = '';
    $increment = $ctx->action(function (Context $c) use ($count): void {
        $count->setValue($count->int() + 1);
        $c->sync();
    }, 'increment');
    $echo = $ctx->action(function (Context $c) use ($name, &$greeting): void {
        $greeting = 'Hello, ' . $name->string() . '!';
        $c->sync();
    }, 'echo');
    $ctx->view(function () use ($count, $name, $increment, $echo, &$greeting): string {
        $said = e($greeting);
        return layout('A counter per tab', <<<HTML
            <p>Count: <output id="count">{$count->int()}</output>
               <button id="increment" data-on:click="{$increment->post()}">+1</button></p>
            <p class="hint">Each tab has its own count; the value lives on the server.</p>
            <p><input id="name" {$name->bind()} placeholder="Your name">
               <button id="echo" data-on:click="{$echo->post()}">Echo</button>
               <output id="greeting">{$said}</output></p>
            HTML);
    });
});

// ---- ROUTE scope: a chat and likes that every tab on /board shares ----------------------

$app->page('/board', function (Context $ctx) use ($app): void {
    $ctx->scope(Scope::ROUTE);
    $likes = $ctx->signal(0, 'likes');                 // one signal for the whole route
    $draft = $ctx->signal('', 'draft', Scope::TAB);    // each tab types its own message
    // Scoped actions are registered once per scope, so they use the calling context.
    $post = $ctx->action(function (Context $c) use ($app): void {
        $text = trim($c->getSignal('draft')?->string() ?? '');
        if ($text === '') {
            return;
        }
        $messages = $app->globalState('board.messages', []);
        $messages[] = mb_substr($text, 0, 200);
        $app->setGlobalState('board.messages', array_slice($messages, -20));
        $c->getSignal('draft')?->setValue('');
        $c->broadcast();
    }, 'post');
    $like = $ctx->action(function (Context $c): void {
        $signal = $c->getSignal('likes');
        $signal?->setValue($signal->int() + 1);         // a scoped signal broadcasts its scope
    }, 'like');
    // The view holds this tab's draft input, so updates are rendered per tab.
    $ctx->view(function () use ($app, $likes, $draft, $post, $like): string {
        $items = '';
        foreach ($app->globalState('board.messages', []) as $m) {
            $items .= '<li>' . e($m) . '</li>';
        }
        return layout('A board shared by every tab on this page', <<<HTML
            <p>Likes: <output id="likes">{$likes->int()}</output>
               <button id="like" data-on:click="{$like->post()}">♥</button></p>
            <form id="chat" data-on:submit="{$post->post()}">
              <input id="draft" {$draft->bind()} placeholder="Say something" autocomplete="off">
              <button id="send">Send</button>
            </form>
            <ul id="messages" class="messages">{$items}</ul>
            <p class="hint">Open this page in two tabs.</p>
            HTML);
    }, cacheUpdates: false);
});

// ---- SESSION scope: a counter shared by the tabs of one browser -------------------------

$app->page('/session', function (Context $ctx): void {
    $ctx->scope(Scope::SESSION);
    $bump = $ctx->action(function (Context $c): void {
        $c->setSessionData('hits', (int) $c->sessionData('hits', 0) + 1);
        $c->broadcast();
    }, 'bump');
    $ctx->view(fn (): string => layout('A counter per browser session', <<<HTML
        <p>Session hits: <output id="hits">{$ctx->sessionData('hits', 0)}</output>
           <button id="bump" data-on:click="{$bump->post()}">+1</button></p>
        <p class="hint">Every tab of this browser shares it; another browser has its own.</p>
        HTML));
});

// ---- a scope of the app's own, pushed by an interval ------------------------------------

$app->setInterval(function (Via $app): void {
    $app->setGlobalState('clock.ticks', (int) $app->globalState('clock.ticks', 0) + 1);
    $app->broadcast('clock');
}, max(1, envInt('VIA_CLOCK_MS', 1_000)));

$app->page('/clock', function (Context $ctx) use ($app): void {
    $ctx->scope('clock'); // every tab here renders from one cached update per tick
    $ctx->view(fn (): string => layout('A live clock', sprintf(
        '<p>Server time: <time id="now">%s</time> <span class="hint">(tick <output id="ticks">%d</output>)</span></p>',
        date('H:i:s'),
        (int) $app->globalState('clock.ticks', 0),
    )));
});

// ---- a form with a file, posted as multipart by Datastar --------------------------------

$app->page('/upload', function (Context $ctx): void {
    $result = '';
    $upload = $ctx->action(function (Context $c) use (&$result): void {
        $file = $c->file('doc');
        $title = trim((string) $c->input('title', ''));
        if ($file === null) {
            $result = 'No file received.';
        } else {
            $result = sprintf(
                '“%s”: %s, %d bytes, sha256 %s',
                $title,
                $file['name'],
                $file['size'],
                hash_file('sha256', $file['tmp_name']),
            );
        }
        $c->sync();
    }, 'upload');
    $ctx->view(function () use ($ctx, $upload, &$result): string {
        $id = e($ctx->getId());
        $url = e($upload->url());
        $said = e($result);
        return layout('Upload a file', <<<HTML
            <form id="upload-form" enctype="multipart/form-data"
                  data-on:submit="@post('{$url}', {contentType: 'form'})">
              <input type="hidden" name="via_ctx" value="{$id}">
              <p><label>Title <input id="title" name="title" required></label></p>
              <p><input id="doc" type="file" name="doc" required></p>
              <p><button id="send-file">Upload</button></p>
            </form>
            <p id="upload-result">{$said}</p>
            HTML);
    });
});

// ---- a path parameter --------------------------------------------------------------------

$app->page('/hello/{name}', function (Context $ctx, string $name): void {
    $waves = $ctx->signal(0, 'waves');
    $wave = $ctx->action(function (Context $c) use ($waves): void {
        $waves->setValue($waves->int() + 1);
        $c->sync();
    }, 'wave');
    $who = e($name);
    $ctx->view(fn (): string => layout('Hello', <<<HTML
        <p id="hello">Hello, {$who}!</p>
        <p><button id="wave" data-on:click="{$wave->post()}">Wave</button>
           <output id="waves">{$waves->int()}</output> waves</p>
        HTML));
});

// ---- a Twig view -------------------------------------------------------------------------

$app->page('/twig', function (Context $ctx): void {
    $ctx->signal(0, 'stars');
    $ctx->action(function (Context $c): void {
        $stars = $c->getSignal('stars');
        $stars?->setValue($stars->int() + 1);
        $c->sync();
    }, 'star');
    // Updates render only the "content" block of the template.
    $ctx->view('twig.html.twig', ['nav' => nav()], block: 'content');
});

$app->start();
