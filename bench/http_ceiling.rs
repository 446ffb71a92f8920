//! The physical ceiling of bench/http.py: raw Tokio on one thread, parsing each request
//! head with `httparse`, skipping a `Content-Length` body and writing a canned answer —
//! no via, no hyper, no PHP, no timeouts, no limits. What one core can do with this kernel's
//! TCP path; every server in the run is measured against it.
//!
//! GET answers 200 "Hello, World!", any other method 204 (the JSON action's answer).
//!
//! Usage: http_ceiling [port]   (prints "listening <port>" once ready)

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const HELLO: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\ndate: Mon, 30 Nov 2026 00:00:00 GMT\r\n\r\nHello, World!";
const NO_CONTENT: &[u8] = b"HTTP/1.1 204 No Content\r\ndate: Mon, 30 Nov 2026 00:00:00 GMT\r\n\r\n";

async fn serve(mut tcp: TcpStream) {
    let _ = tcp.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    let mut out = Vec::with_capacity(4096);
    loop {
        // Every complete request in the buffer gets its answer; then one write.
        let mut at = 0;
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut req = httparse::Request::new(&mut headers);
            let Ok(httparse::Status::Complete(n)) = req.parse(&buf[at..]) else { break };
            let len = req
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() - at < n + len {
                break;
            }
            out.extend_from_slice(if req.method == Some("GET") { HELLO } else { NO_CONTENT });
            at += n + len;
        }
        buf.drain(..at);
        if !out.is_empty() {
            if tcp.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
        if buf.capacity() - buf.len() < 1024 {
            buf.reserve(4096);
        }
        match tcp.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

fn main() {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(8080);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("listen");
        println!("listening {}", listener.local_addr().expect("address").port());
        loop {
            if let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(serve(tcp));
            }
        }
    });
}
