<?php
// The same hello-world for php -S and php-fpm.
header('Content-Type: text/plain');
echo 'Hello, World!';
