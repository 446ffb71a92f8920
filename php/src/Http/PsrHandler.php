<?php

declare(strict_types=1);

namespace Via\Framework\Http;

use Nyholm\Psr7\Factory\Psr17Factory;
use Psr\Http\Message\ResponseInterface;
use Psr\Http\Message\ServerRequestInterface;
use Psr\Http\Server\RequestHandlerInterface;

/**
 * The PSR-15 side of the onion: each PSR middleware in turn, then the framework (which
 * answers on the Via\Response itself; the PSR response returned past it is a placeholder).
 * Loaded only when PSR-15 middleware is registered.
 *
 * @internal
 */
final class PsrHandler implements RequestHandlerInterface
{
    private int $next = 0;
    private bool $inner = false;

    /**
     * @param \Closure(array<string, mixed>, int): void $continue runs the rest of the stack, told how many PSR middleware ran
     * @param list<object> $psr the PSR middleware from here on (until the first non-PSR one)
     */
    public function __construct(private readonly \Closure $continue, private readonly array $psr)
    {
    }

    public function handle(ServerRequestInterface $request): ResponseInterface
    {
        $m = $this->psr[$this->next] ?? null;
        if ($m instanceof \Psr\Http\Server\MiddlewareInterface) {
            $this->next++;
            return $m->process($request, $this);
        }
        $this->inner = true;
        ($this->continue)($request->getAttributes(), $this->next);
        return (new Psr17Factory())->createResponse(200);
    }

    public function reachedInner(): bool
    {
        return $this->inner;
    }

    /** @param array<string, mixed> $attributes */
    public static function request(\Via\Request $req, string $type, array $attributes): ServerRequestInterface
    {
        $f = new Psr17Factory();
        $uri = $f->createUri($req->scheme() . '://' . ($req->host() !== '' ? $req->host() : 'localhost') . $req->target());
        $psr = $f->createServerRequest($req->method(), $uri, $req->server())
            ->withProtocolVersion($req->protocolVersion())
            ->withCookieParams((array) $req->cookie())
            ->withQueryParams((array) $req->query())
            ->withParsedBody($req->post() === [] ? null : (array) $req->post())
            ->withBody($f->createStream($req->body()))
            ->withAttribute('via.request', $req)
            ->withAttribute('via.request_type', $type);
        foreach ($req->headers() as $name => $value) {
            $psr = $psr->withHeader((string) $name, $value);
        }
        foreach ($attributes as $k => $v) {
            $psr = $psr->withAttribute((string) $k, $v);
        }
        return $psr;
    }

    public static function emit(ResponseInterface $response, \Via\Response $res): void
    {
        $res->status($response->getStatusCode());
        foreach ($response->getHeaders() as $name => $values) {
            foreach ($values as $i => $value) {
                $res->header((string) $name, (string) $value, $i === 0);
            }
        }
        $res->end((string) $response->getBody());
    }
}
