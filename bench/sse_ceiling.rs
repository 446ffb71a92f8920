//! The pure-Rust ceiling for the SSE fan-out benchmark: hyper and a `tokio::sync::broadcast`
//! channel on one current-thread runtime (via's I/O thread count on this machine), no
//! PHP, no topics registry, no backpressure accounting, no compression.
//!
//!   GET /events          an event stream fed by the broadcast channel
//!   GET /count           how many streams are subscribed
//!   GET /publish?round=R one event `data: R` to every stream; answers the count
//!
//! Usage: sse_ceiling [port]   (prints "listening <port>" once ready)

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use futures_util::stream;
use http::{Request, Response};
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::broadcast;

type Body = BoxBody<Bytes, Infallible>;

fn respond(req: Request<Incoming>, tx: &broadcast::Sender<Bytes>) -> Response<Body> {
    let text = |s: String| Response::new(Full::new(Bytes::from(s)).boxed());
    match req.uri().path() {
        "/events" => {
            let rx = tx.subscribe();
            let events = stream::unfold(rx, |mut rx| async move {
                loop {
                    match rx.recv().await {
                        Ok(b) => return Some((Ok(Frame::data(b)), rx)),
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            });
            Response::builder()
                .header("content-type", "text/event-stream")
                .header("cache-control", "no-cache")
                .body(StreamBody::new(events).boxed())
                .expect("static response")
        }
        "/count" => text(tx.receiver_count().to_string()),
        "/publish" => {
            let round = req.uri().query().and_then(|q| q.strip_prefix("round=")).unwrap_or("0");
            let frame = Bytes::from(format!("data: {round}\n\n"));
            let n = tx.send(frame).unwrap_or(0);
            text(n.to_string())
        }
        _ => Response::builder().status(404).body(Full::new(Bytes::new()).boxed()).expect("static"),
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
            let tx = tx.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let res = respond(req, &tx);
                    async move { Ok::<_, Infallible>(res) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
}
