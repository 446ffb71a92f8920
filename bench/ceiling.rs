//! The pure-Rust ceiling for the benchmarks: the same HTTP core, limits and response
//! path as a PHP server, but the request is answered on the Tokio thread that read it —
//! no hop to the PHP thread, no PHP.
//!
//! Usage: ceiling [port] [io_threads] [cert.pem key.pem]   (prints "listening <port>" once
//! ready; with a certificate and key it serves HTTPS)

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use via::config::ServerConfig;
use via::http::HeaderList;
use via::http::{Dispatcher, IncomingRequest, ResponseStart, ServerHandle, StreamEvent};

struct Hello;

impl Dispatcher for Hello {
    fn dispatch(&self, req: Box<IncomingRequest>) -> Result<(), Box<IncomingRequest>> {
        let mut headers = HeaderList::new();
        headers.insert("content-type", HeaderValue::from_static("text/plain"));
        let status =
            if req.head.method == http::Method::POST { StatusCode::NO_CONTENT } else { StatusCode::OK };
        let body = if status == StatusCode::OK { Bytes::from_static(b"Hello, World!") } else { Bytes::new() };
        req.reply.send(ResponseStart::full(status, headers, body));
        Ok(())
    }
}

impl via::http::StreamEvents for Hello {
    fn stream_event(&self, _: StreamEvent) {}
}

fn main() {
    let mut args = std::env::args().skip(1);
    let port = args.next().and_then(|p| p.parse().ok()).unwrap_or(8081);
    let io_threads = args.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let tls_cert = args.next().map(Into::into);
    let tls_key = args.next().map(Into::into);
    let config = ServerConfig { port, io_threads, tls_cert, tls_key, ..ServerConfig::default() };
    let handle = ServerHandle::start(config, Arc::new(Hello)).expect("listen");
    println!("listening {}", handle.local_addr().port());
    loop {
        std::thread::park();
    }
}
