<?php
/**
 * Fails when a public method or function of the via extension has no phpt.
 *
 * Rules (see phpt/README.md):
 * - every method has phpt/<area>/<method>.phpt, every function phpt/functions/<name>.phpt,
 *   every class without methods of its own phpt/<area>/<ShortName>.phpt;
 * - every method or function that takes parameters has an error test: a
 *   phpt/<area>/*_error.phpt whose --TEST-- title names it as "name()".
 *
 * Usage: php -d extension=/abs/path/via.so scripts/check-phpt-coverage.php [phpt dir]
 */
declare(strict_types=1);

$root = $argv[1] ?? dirname(__DIR__) . '/phpt';
if (!extension_loaded('via')) {
    fwrite(STDERR, "the via extension is not loaded\n");
    exit(2);
}
$ext = new ReflectionExtension('via');
$areaOf = static function (string $class): string {
    $short = substr($class, strrpos($class, '\\') + 1);
    return match (true) {
        str_ends_with($short, 'Exception') => 'exception',
        $short === 'ChannelState' => 'channel',
        $short === 'TableIterator' => 'table',
        default => strtolower($short),
    };
};
$errorTitles = static function (string $area) use ($root): string {
    $titles = '';
    foreach (glob("$root/$area/*_error.phpt") ?: [] as $file) {
        $lines = file($file, FILE_IGNORE_NEW_LINES);
        $titles .= ($lines[1] ?? '') . "\n";
    }
    return $titles;
};
$missing = [];
$check = static function (string $area, string $name, bool $hasParams, string $label) use ($root, $errorTitles, &$missing): void {
    if (!is_file("$root/$area/$name.phpt")) {
        $missing[] = "$label: no $area/$name.phpt";
    }
    if ($hasParams && !preg_match('/\b' . preg_quote($name, '/') . '\(\)/', $errorTitles($area))) {
        $missing[] = "$label: no $area/*_error.phpt whose title names $name()";
    }
};
$count = 0;
foreach ($ext->getClasses() as $class) {
    $area = $areaOf($class->getName());
    $own = array_filter($class->getMethods(), fn(ReflectionMethod $m) => $m->getDeclaringClass()->getName() === $class->getName()
        && $m->isPublic() && !in_array($m->getName(), ['cases', 'from', 'tryFrom'], true));
    if ($own === []) {
        $check($area, $class->getShortName(), false, $class->getName());
        $count++;
        continue;
    }
    foreach ($own as $m) {
        $check($area, $m->getName(), $m->getNumberOfParameters() > 0, $class->getName() . '::' . $m->getName() . '()');
        $count++;
    }
}
foreach ($ext->getFunctions() as $fn) {
    $short = substr($fn->getName(), strrpos($fn->getName(), '\\') + 1);
    $check('functions', $short, $fn->getNumberOfParameters() > 0, $fn->getName() . '()');
    $count++;
}
if ($missing) {
    fwrite(STDERR, "phpt coverage: " . count($missing) . " gap(s)\n  " . implode("\n  ", $missing) . "\n");
    exit(1);
}
echo "phpt coverage: all $count public methods, functions and classes have tests\n";
