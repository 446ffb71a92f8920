<?php
/**
 * Keeps package.xml true: its <contents> lists the files git tracks that a build of the
 * extension needs, and its <version> is Cargo.toml's.
 *
 * What a build needs: Cargo.toml, Cargo.lock, build.rs, .cargo/config.toml (the link flag
 * that leaves PHP's symbols to the php binary), src/ (src/php/fiber_main.php is read by
 * include_str!), every local crate Cargo.toml points at with `path = ...` (the patched
 * ext-php-rs-derive under vendor/), and the file of every target Cargo.toml declares
 * ([[test]], [[example]]): cargo refuses a manifest whose declared targets are missing, for
 * `cargo build --release` too. For people: README.md, docs/install.md, stubs/ (the PHP
 * stubs for IDEs) and LICENSE when there is one.
 *
 * Usage: php scripts/package-xml.php           rewrite package.xml's <contents> and <version>
 *        php scripts/package-xml.php --check   fail if package.xml is not what this writes
 */
declare(strict_types=1);

const ALWAYS = ['Cargo.toml', 'Cargo.lock', 'build.rs', '.cargo/config.toml', 'README.md', 'docs/install.md'];
const DIRECTORIES = ['src/', 'stubs/'];
const TARGET_DIRS = ['test' => 'tests', 'example' => 'examples', 'bench' => 'benches', 'bin' => 'src/bin'];

function fail(string $message): never
{
    fwrite(STDERR, "package-xml: $message\n");
    exit(1);
}

/**
 * The version, the declared targets and the local crates of a Cargo.toml. A line parser is
 * enough for the keys read here: `version = "…"` in [package], `name`/`path` in [[target]]
 * tables, and `path = "…"` in inline tables of [dependencies], [build-dependencies] and
 * [patch.*] (dev-dependencies are not needed to build).
 *
 * @return array{version: string, targets: list<array{kind: string, name?: string, path?: string}>, crates: list<string>}
 */
function readManifest(string $file): array
{
    $table = '';
    $version = null;
    $targets = [];
    $crates = [];
    foreach (file($file, FILE_IGNORE_NEW_LINES) ?: fail("cannot read $file") as $line) {
        $line = trim($line);
        if ($line === '' || $line[0] === '#') {
            continue;
        }
        if (preg_match('/^\[\[(\w+)\]\]$/', $line, $m)) {
            $table = $m[1];
            $targets[] = ['kind' => $table];
            continue;
        }
        if (preg_match('/^\[([^\]]+)\]$/', $line, $m)) {
            $table = $m[1];
            continue;
        }
        if ($table === 'package' && preg_match('/^version\s*=\s*"([^"]+)"/', $line, $m)) {
            $version = $m[1];
        } elseif (isset(TARGET_DIRS[$table]) && preg_match('/^(name|path)\s*=\s*"([^"]+)"/', $line, $m)) {
            $targets[array_key_last($targets)][$m[1]] = $m[2];
        } elseif (preg_match('/^(dependencies|build-dependencies|patch\..+)$/', $table)
            && preg_match('/\bpath\s*=\s*"([^"]+)"/', $line, $m)) {
            $crates[] = rtrim($m[1], '/') . '/';
        }
    }
    return ['version' => $version ?? fail("no version in [package] of $file"), 'targets' => $targets, 'crates' => $crates];
}

/** @return list<string> the files git tracks (the index: committed or added) */
function trackedFiles(): array
{
    exec('git ls-files -z', $out, $status);
    if ($status !== 0) {
        fail('git ls-files failed: run this in a git checkout');
    }
    return array_values(array_filter(explode("\0", implode("\n", $out)), 'strlen'));
}

/** @return array<string, string> path => package.xml role */
function packageFiles(array $manifest, array $tracked): array
{
    $isTracked = array_flip($tracked);
    $wanted = [];
    foreach (ALWAYS as $file) {
        isset($isTracked[$file]) or fail("$file is not tracked by git");
        $wanted[] = $file;
    }
    foreach ($manifest['targets'] as $target) {
        if (isset($target['path'])) {
            $candidates = [$target['path']];
        } else {
            $name = $target['name'] ?? fail("a [[{$target['kind']}]] in Cargo.toml has neither name nor path");
            $dir = TARGET_DIRS[$target['kind']];
            $candidates = ["$dir/$name.rs", "$dir/$name/main.rs"];
        }
        $found = array_values(array_filter($candidates, static fn (string $c): bool => isset($isTracked[$c])));
        $found !== [] or fail("Cargo.toml declares a [[{$target['kind']}]] at " . implode(' or ', $candidates) . ', which git does not track');
        $wanted[] = $found[0];
    }
    $prefixes = [...DIRECTORIES, ...$manifest['crates']];
    foreach ($tracked as $file) {
        if (preg_match('/^LICEN[CS]E/', $file)) {
            $wanted[] = $file;
        }
        foreach ($prefixes as $prefix) {
            if (str_starts_with($file, $prefix)) {
                $wanted[] = $file;
            }
        }
    }
    $wanted = array_unique($wanted);
    sort($wanted, SORT_STRING);
    $roles = [];
    foreach ($wanted as $file) {
        $roles[$file] = match (true) {
            str_starts_with($file, 'tests/') => 'test',
            $file === 'README.md', str_starts_with($file, 'docs/'), str_starts_with($file, 'stubs/'),
            (bool) preg_match('/^LICEN[CS]E/', $file) => 'doc',
            default => 'src',
        };
    }
    return $roles;
}

/** package.xml with its <version>, <date> and <contents> replaced. */
function render(string $xml, string $version, string $date, array $roles): string
{
    $lines = [];
    foreach ($roles as $file => $role) {
        $lines[] = sprintf('   <file name="%s" role="%s"/>', htmlspecialchars($file, ENT_XML1 | ENT_QUOTES), $role);
    }
    $contents = " <contents>\n  <dir name=\"/\">\n" . implode("\n", $lines) . "\n  </dir>\n </contents>";
    $count = 0;
    $xml = preg_replace('#^ <contents>.*?^ </contents>#ms', $contents, $xml, -1, $count);
    $count === 1 or fail('package.xml has no " <contents>" … " </contents>" block');
    $xml = preg_replace(
        '#<version>\s*<release>[^<]*</release>\s*<api>[^<]*</api>\s*</version>#',
        "<version>\n  <release>$version</release>\n  <api>$version</api>\n </version>",
        $xml,
        -1,
        $count,
    );
    $count === 1 or fail('package.xml has no <version><release>…</release><api>…</api></version>');
    $xml = preg_replace('#<date>[^<]*</date>#', "<date>$date</date>", $xml, 1, $count);
    $count === 1 or fail('package.xml has no <date>');
    return $xml;
}

chdir(dirname(__DIR__));
$check = ($argv[1] ?? '') === '--check';
$manifest = readManifest('Cargo.toml');
$current = file_get_contents('package.xml');
$current !== false or fail('cannot read package.xml');
// Writing stamps today's date (run it when cutting a release); checking keeps the recorded one,
// since the release date belongs to the release, not to every checkout.
preg_match('#<date>([^<]*)</date>#', $current, $recorded) or fail('package.xml has no <date>');
$date = $check ? $recorded[1] : gmdate('Y-m-d');
$expected = render($current, $manifest['version'], $date, packageFiles($manifest, trackedFiles()));

if (!$check) {
    file_put_contents('package.xml', $expected);
    echo "package-xml: wrote package.xml\n";
    exit(0);
}
if ($expected !== $current) {
    $tmp = tempnam(sys_get_temp_dir(), 'package-xml');
    file_put_contents($tmp, $expected);
    passthru('diff -u package.xml ' . escapeshellarg($tmp));
    unlink($tmp);
    fail('package.xml is out of date (the files git tracks or the version in Cargo.toml changed): run php scripts/package-xml.php and commit package.xml');
}
echo "package-xml: up to date\n";
