--TEST--
Via\Request::__construct(): unknown keys and invalid values are ValueErrors
--FILE--
<?php
$cases = [
    ['nope' => 1], ['method' => 'GE T'], ['uri' => 'http://[bad'], ['headers' => 'x'],
    ['headers' => ['Bad Name' => 'x']], ['headers' => ['X' => "a\r\nb"]], ['scheme' => 'ftp'],
    ['remote_addr' => 'nowhere'], ['remote_port' => 70000], ['protocol' => '3'], ['body' => []],
    ['post' => 'x'],
];
foreach ($cases as $init) {
    try {
        new Via\Request($init);
        echo "no error\n";
    } catch (ValueError $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
?>
--EXPECT--
ValueError: Via\Request::__construct(): unknown key "nope"; known keys are method, uri, protocol, headers, body, remote_addr, remote_port, scheme, post, files
ValueError: Via\Request::__construct(): invalid method "GE T"
ValueError: Via\Request::__construct(): invalid uri "http://[bad"
ValueError: Via\Request::__construct(): "headers" must be an array
ValueError: Via\Request::__construct(): invalid header name "Bad Name"
ValueError: Via\Request::__construct(): invalid value for header "X"
ValueError: Via\Request::__construct(): scheme must be "http" or "https", "ftp" given
ValueError: Via\Request::__construct(): invalid remote_addr "nowhere"
ValueError: Via\Request::__construct(): "remote_port" must be an int between 0 and 65535
ValueError: Via\Request::__construct(): unknown protocol "3"
ValueError: Via\Request::__construct(): "body" must be a string, array given
ValueError: Via\Request::__construct(): "post" must be an array
