//! The ceiling for the SSE fan-out benchmark: a raw Tokio server on one current-thread
//! runtime (via's I/O thread count on this machine) that writes each event straight to its
//! sockets — no hyper, no PHP, no topics registry, no backpressure accounting, no
//! compression, no chunked framing (the body runs until the connection closes). What is
//! left is the kernel and the runtime: the physical limit of a fan-out on this machine.
//!
//!   GET /events          an event stream fed by the broadcast channel
//!   GET /count           how many streams are subscribed
//!   GET /publish?round=R one event `data: R` to every stream; answers the count
//!
//! Usage: sse_ceiling [port]   (prints "listening <port>" once ready)

use std::net::SocketAddr;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::broadcast;

/// Reads the next request head from `tcp` (bytes past it stay in `buf`); its target, or
/// `None` when the client went away.
async fn request_target(tcp: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head: Vec<u8> = buf.drain(..end + 4).collect();
            let line = head.split(|&b| b == b'\r').next()?;
            let target = line.split(|&b| b == b' ').nth(1)?;
            return Some(String::from_utf8_lossy(target).into_owned());
        }
        if buf.len() > 16 * 1024 {
            return None;
        }
        let n = tcp.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn answer(tcp: &mut TcpStream, body: String) -> bool {
    let msg = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}", body.len());
    tcp.write_all(msg.as_bytes()).await.is_ok()
}

/// Serves one connection: control requests (kept alive) until it asks for an event stream.
async fn serve(mut tcp: TcpStream, tx: broadcast::Sender<Bytes>) {
    let mut buf = Vec::with_capacity(512);
    loop {
        let Some(target) = request_target(&mut tcp, &mut buf).await else { return };
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let ok = match path {
            "/events" => return events(tcp, tx.subscribe()).await,
            "/count" => answer(&mut tcp, tx.receiver_count().to_string()).await,
            "/publish" => {
                let round = query.strip_prefix("round=").unwrap_or("0");
                let n = tx.send(Bytes::from(format!("data: {round}\n\n"))).unwrap_or(0);
                answer(&mut tcp, n.to_string()).await
            }
            _ => tcp.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").await.is_ok(),
        };
        if !ok {
            return;
        }
    }
}

/// An event stream: its head, then every broadcast frame written as it comes.
async fn events(mut tcp: TcpStream, mut rx: broadcast::Receiver<Bytes>) {
    let head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n";
    if tcp.write_all(head).await.is_err() {
        return;
    }
    loop {
        match rx.recv().await {
            Ok(frame) => {
                if tcp.write_all(&frame).await.is_err() {
                    return;
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

fn main() {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(8082);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async move {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_reuseaddr(true).expect("reuseaddr");
        socket.bind(addr).expect("bind");
        let listener = socket.listen(4096).expect("listen");
        println!("listening {}", listener.local_addr().expect("addr").port());
        let (tx, _) = broadcast::channel::<Bytes>(64);
        loop {
            let Ok((tcp, _)) = listener.accept().await else { continue };
            let _ = tcp.set_nodelay(true);
            tokio::spawn(serve(tcp, tx.clone()));
        }
    });
}
