--TEST--
Via\ChannelState: an enum with Closed and Timeout
--FILE--
<?php
var_dump(Via\ChannelState::Closed instanceof UnitEnum, Via\ChannelState::cases());
?>
--EXPECT--
bool(true)
array(2) {
  [0]=>
  enum(Via\ChannelState::Closed)
  [1]=>
  enum(Via\ChannelState::Timeout)
}
