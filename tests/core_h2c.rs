//! HTTP/2 with prior knowledge (h2c) on the same port as HTTP/1.1.

mod support;

use std::time::Duration;

use bytes::Bytes;
use http::Request;
use support::*;
use via::http::StreamEvent;

async fn h2_client(addr: std::net::SocketAddr) -> h2::client::SendRequest<Bytes> {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (client, conn) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

async fn get(client: &mut h2::client::SendRequest<Bytes>, path: &str) -> (u16, String) {
    let req = Request::get(format!("http://x{path}")).body(()).unwrap();
    let (resp, _) = client.clone().ready().await.unwrap().send_request(req, true).unwrap();
    let resp = resp.await.unwrap();
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    let mut out = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        let _ = body.flow_control().release_capacity(chunk.len());
        out.extend_from_slice(&chunk);
    }
    (status, String::from_utf8_lossy(&out).into_owned())
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn h2c_prior_knowledge_and_h1_share_the_port() {
    let srv = TestServer::start(|_| {});
    rt().block_on(async {
        let mut c = h2_client(srv.addr()).await;
        assert_eq!(get(&mut c, "/hello").await, (200, "Hello".into()));
        assert_eq!(get(&mut c, "/stream?n=2").await, (200, "chunk0\nchunk1\n".into()));
    });
    let mut s = srv.connect();
    assert_eq!(roundtrip(&mut s, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").unwrap().text(), "Hello");
}

#[test]
fn many_concurrent_streams_on_one_connection() {
    let srv = TestServer::start(|_| {});
    rt().block_on(async {
        let c = h2_client(srv.addr()).await;
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let mut c = c.clone();
            tasks.push(tokio::spawn(async move { get(&mut c, "/slow?ms=50").await }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), (200, "slow".into()));
        }
    });
    assert_eq!(srv.handle.stats().connections_accepted, 1);
}

#[test]
fn h2c_disabled_rejects_the_preface() {
    let srv = TestServer::start(|c| c.h2c = false);
    rt().block_on(async {
        let tcp = tokio::net::TcpStream::connect(srv.addr()).await.unwrap();
        let (client, conn) = h2::client::handshake(tcp).await.unwrap();
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let req = Request::get("http://x/hello").body(()).unwrap();
        let result = async { client.clone().ready().await?.send_request(req, true)?.0.await }.await;
        assert!(result.is_err(), "an h1-only server does not speak h2");
    });
}

#[test]
fn reset_stream_is_reported_as_closed() {
    let srv = TestServer::start(|_| {});
    rt().block_on(async {
        let c = h2_client(srv.addr()).await;
        let req = Request::get("http://x/stream?n=1000&ms=20").body(()).unwrap();
        let (resp, _) = c.ready().await.unwrap().send_request(req, true).unwrap();
        let resp = resp.await.unwrap();
        let mut body = resp.into_body();
        let first = body.data().await.unwrap().unwrap();
        assert_eq!(&first[..], b"chunk0\n");
        drop(body); // sends RST_STREAM(CANCEL)
        tokio::time::sleep(Duration::from_millis(1)).await;
    });
    match srv.seen.next_event(Duration::from_secs(5)) {
        Some(StreamEvent::Closed(_)) => {}
        other => panic!("expected Closed, got {other:?}"),
    }
}

#[test]
fn oversized_h2_headers_are_refused() {
    let srv = TestServer::start(|c| c.limits.max_header_size = 8192);
    rt().block_on(async {
        let c = h2_client(srv.addr()).await;
        let req = Request::get("http://x/hello").header("x-big", "a".repeat(20_000)).body(()).unwrap();
        let result = async { c.ready().await?.send_request(req, true)?.0.await }.await;
        match result {
            Ok(resp) => assert_eq!(resp.status(), 431),
            Err(e) => assert!(e.is_reset() || e.is_go_away(), "{e}"),
        }
    });
}
