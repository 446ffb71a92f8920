//! The PHP boundary: the only code that touches `ext_php_rs`, zvals, objects and fibers.
//!
//! Each file registers its own classes; this one assembles the module, the INI entries,
//! `php --ri via`, and the request-shutdown hook that releases every PHP value the
//! runtime still holds before the engine frees its objects.
//!
//! Everything here runs on the PHP thread, except the `Dispatcher` implementations that the
//! HTTP core and the worker link call on Tokio threads (`serve::PhpDispatcher`,
//! `response_core::NoEvents`): they touch plain Rust data only and hand it to the PHP
//! thread through the inbox.
//!
//! Layers, each using only those below it (no import cycle):
//! - `global`, `sym`, `fiber`, `runtime` (the scheduler: tasks, timers, wake keys; a
//!   running server is a `runtime::Host` to it), `errors`, `args`, `convert`;
//! - `answers`, `services`, `response_core`, `workers` (identity, link, questions);
//! - the classes and functions: `request`, `response`, `sse`, `channel`, `timer`,
//!   `broker`, `table`;
//! - `serve` (the running server: events, stop sequence), `roles` (the three ways to
//!   start), `server` (the `Via\Server` class).

mod answers;
mod args;
mod broker;
mod channel;
mod convert;
mod errors;
mod fiber;
mod field_cache;
mod global;
mod memory;
mod remotes;
mod request;
mod response;
mod response_core;
mod roles;
mod runtime;
mod serve;
mod server;
mod services;
mod sse;
mod sym;
mod table;
mod timer;
mod workers;

use ext_php_rs::flags::IniEntryPermission;
use ext_php_rs::prelude::*;
use ext_php_rs::zend::{IniEntryDef, IniEntryDefs, ModuleEntry};
use ext_php_rs::{info_table_end, info_table_row, info_table_start};

static INI: IniEntryDefs<2> = IniEntryDefs::new([
    // Default log level of servers (off, error, warn, info, debug); the log_level
    // option of Via\Server overrides it.
    IniEntryDef::new(c"via.log_level", c"info", IniEntryPermission::All),
    IniEntryDef::end(),
]);

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

fn startup(_ty: i32, module_number: i32) -> i32 {
    IniEntryDef::register(INI.as_slice(), module_number);
    errors::register_classes();
    0
}

extern "C" fn request_shutdown(_ty: i32, _module_number: i32) -> i32 {
    // Release fibers, callables and timers while the engine's objects still exist.
    sse::shutdown();
    broker::shutdown();
    remotes::shutdown();
    runtime::shutdown();
    answers::shutdown();
    0
}

extern "C" fn module_info(module: *mut ModuleEntry) {
    info_table_start!();
    info_table_row!("via support", "enabled");
    info_table_row!("version", VERSION);
    info_table_row!("git commit", env!("VIA_GIT_COMMIT"));
    info_table_row!("build", env!("VIA_BUILD_PROFILE"));
    info_table_row!("rustc", env!("VIA_RUSTC_VERSION"));
    info_table_row!("protocols", "HTTP/1.1, HTTP/2 (h2c prior knowledge)");
    info_table_end!();
    sym::display_ini_entries(module);
}

#[php_module]
#[php(startup = "startup")]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    let module = module
        .name("via")
        .version(VERSION)
        .request_shutdown_function(request_shutdown)
        .info_function(module_info)
        .class::<server::Server>()
        .class::<request::Request>()
        .class::<response::Response>()
        .class::<sse::Sse>()
        .class::<channel::Channel>()
        .enumeration::<channel::ChannelState>()
        .class::<timer::Timer>()
        .class::<table::TableIterator>()
        .class::<table::Table>()
        .class::<broker::Broker>();
    timer::register(module)
}
