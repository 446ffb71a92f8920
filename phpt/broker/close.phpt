--TEST--
Via\Broker::close(): subscriptions and callbacks are released at once
--FILE--
<?php
final class Tracker { public function __destruct() { echo "callback released\n"; } }
$b = new Via\Broker('memory://');
$t = new Tracker();
$b->subscribe('t', function () use ($t) {});
unset($t);
echo "closing\n";
$b->close();
echo "closed\n";
$b->close();
?>
--EXPECT--
closing
callback released
closed
