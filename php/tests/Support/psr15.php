<?php

declare(strict_types=1);

// The two interfaces of PSR-15 (https://www.php-fig.org/psr/psr-15/), word for word, for
// machines that have PSR-7 but no PSR-15 package. Loaded by bootstrap.php only when
// neither the psr extension nor psr/http-server-middleware provides them.

namespace Psr\Http\Server;

use Psr\Http\Message\ResponseInterface;
use Psr\Http\Message\ServerRequestInterface;

interface RequestHandlerInterface
{
    public function handle(ServerRequestInterface $request): ResponseInterface;
}

interface MiddlewareInterface
{
    public function process(ServerRequestInterface $request, RequestHandlerInterface $handler): ResponseInterface;
}
