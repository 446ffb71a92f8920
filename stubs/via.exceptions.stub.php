<?php

// Stubs for the exception classes of the via extension. They are registered by hand at
// module startup (so PHP code can `new` and extend them), which `cargo php stubs` does not
// see; keep this file in step with src/php/errors.rs.

namespace Via {
    /** Base of every exception the runtime throws. */
    class Exception extends \RuntimeException {}

    /** An operation on something already closed. */
    class ClosedException extends Exception {}

    /** A fixed-size structure is full: a Via\Table has all its declared rows in use. */
    class CapacityException extends Exception {}

    /** A broker cannot do what was asked: not connected, refused by the server. */
    class BrokerException extends Exception {}
}
