<?php

declare(strict_types=1);

namespace Via\Framework\Rendering;

use Via\Framework\Config;

/**
 * Twig views when Twig is installed (composer's twig/twig, or Debian's php-twig found on
 * the include path), with the globals php-via gives templates (`basePath`). Plain PHP
 * callables need none of it.
 */
final class ViewRenderer
{
    private ?object $twig = null;
    /** @var array<string, string> */
    private array $templates = [];

    public function __construct(private readonly Config $config)
    {
    }

    public static function twigAvailable(): bool
    {
        if (class_exists(\Twig\Environment::class)) {
            return true;
        }
        // Debian's php-twig: /usr/share/php/Twig/autoload.php on the default include path.
        $autoload = stream_resolve_include_path('Twig/autoload.php');
        if ($autoload !== false) {
            require_once $autoload;
        }
        return class_exists(\Twig\Environment::class);
    }

    /** The Twig environment, made on first use. @throws \RuntimeException without Twig */
    public function twig(): object
    {
        if ($this->twig !== null) {
            return $this->twig;
        }
        if (!self::twigAvailable()) {
            throw new \RuntimeException('Twig views need Twig: composer require twig/twig, or apt install php-twig');
        }
        $dir = $this->config->getTemplateDir();
        $loader = $dir !== null
            ? new \Twig\Loader\ChainLoader([
                new \Twig\Loader\ArrayLoader($this->templates),
                new \Twig\Loader\FilesystemLoader($dir),
            ])
            : new \Twig\Loader\ArrayLoader($this->templates);
        $this->twig = new \Twig\Environment($loader, [
            'cache' => $this->config->getTwigCacheDir() ?? false,
            'auto_reload' => true,
            'autoescape' => 'html',
        ]);
        $this->twig->addGlobal('basePath', $this->config->getBasePath());
        return $this->twig;
    }

    /** Registers a template by name (used without a template directory, and by tests). */
    public function addTemplate(string $name, string $source): void
    {
        $this->templates[$name] = $source;
        $this->twig = null;
    }

    /** @param array<string, mixed> $data */
    public function renderTemplate(string $template, array $data, ?string $block = null): string
    {
        $twig = $this->twig();
        $t = $twig->load($template);
        return $block !== null ? $t->renderBlock($block, $data) : $t->render($data);
    }

    /** @param array<string, mixed> $data */
    public function renderString(string $source, array $data): string
    {
        return $this->twig()->createTemplate($source)->render($data);
    }

    public static function camel(string $name): string
    {
        return lcfirst(str_replace(' ', '', ucwords(preg_replace('/[^A-Za-z0-9]+/', ' ', $name) ?? $name)));
    }
}
