--TEST--
Via\Broker::publish(): every subscriber runs in its own task with payload, topic and origin; order kept
--FILE--
<?php
$b = new Via\Broker('memory://');
$b->subscribe('news', function (string $payload, string $topic, int $origin) {
    echo "first $payload $topic $origin task ", Via\taskId() > 0 ? 'yes' : 'no', "\n";
});
$b->subscribe('news', function (string $payload) {
    echo "second $payload\n";
});
$b->subscribe('sport', fn () => print("never\n"));
$b->publish('news', "a");
$b->publish('news', "b\0c");
echo "published\n";
Via\run();
?>
--EXPECTF--
published
first a news 0 task yes
second a
first b%0c news 0 task yes
second b%0c
