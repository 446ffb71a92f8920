//! TLS: certificates from PEM files, TLS 1.2 and 1.3, ALPN h2 and http/1.1, clear errors
//! for bad files, and event streams over HTTP/2 with TLS.

mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use via::config::ServerConfig;
use via::http::{Dispatcher, IncomingRequest, ServerHandle, StreamEvent};

struct Certs {
    _dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
    der: CertificateDer<'static>,
}

fn certs() -> Certs {
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.key_pair.serialize_pem()).unwrap();
    Certs { der: ck.cert.der().clone(), _dir: dir, cert, key }
}

fn tls_server(c: &Certs) -> TestServer {
    let (cert, key) = (c.cert.clone(), c.key.clone());
    TestServer::start(move |cfg| {
        cfg.tls_cert = Some(cert);
        cfg.tls_key = Some(key);
    })
}

fn client_config(
    c: &Certs,
    alpn: &[&[u8]],
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(c.der.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(cfg)
}

async fn connect(
    srv: &TestServer,
    cfg: Arc<rustls::ClientConfig>,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpStream::connect(srv.addr()).await.unwrap();
    tokio_rustls::TlsConnector::from(cfg)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

const BOTH: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

#[test]
fn alpn_h2_serves_http2_over_tls() {
    let c = certs();
    let srv = tls_server(&c);
    rt().block_on(async {
        let tls = connect(&srv, client_config(&c, &[b"h2", b"http/1.1"], BOTH)).await;
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        let (client, conn) = h2::client::handshake(tls).await.unwrap();
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut streams = Vec::new();
        for _ in 0..20 {
            let req = http::Request::get("https://localhost/hello").body(()).unwrap();
            let (resp, _) = client.clone().ready().await.unwrap().send_request(req, true).unwrap();
            streams.push(resp);
        }
        for resp in streams {
            let resp = resp.await.unwrap();
            assert_eq!(resp.status(), 200);
            let mut body = resp.into_body();
            let data = body.data().await.unwrap().unwrap();
            assert_eq!(&data[..], b"Hello");
        }
    });
}

#[test]
fn alpn_http11_and_no_alpn_serve_http1() {
    let c = certs();
    let srv = tls_server(&c);
    rt().block_on(async {
        for alpn in [&[&b"http/1.1"[..]][..], &[][..]] {
            let mut tls = connect(&srv, client_config(&c, alpn, BOTH)).await;
            tls.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
            let mut out = String::new();
            tls.read_to_string(&mut out).await.unwrap();
            assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
            assert!(out.ends_with("Hello"));
        }
    });
}

#[test]
fn tls_12_and_13_both_work() {
    let c = certs();
    let srv = tls_server(&c);
    rt().block_on(async {
        for v in [&rustls::version::TLS12, &rustls::version::TLS13] {
            let tls = connect(&srv, client_config(&c, &[b"http/1.1"], &[v])).await;
            assert_eq!(tls.get_ref().1.protocol_version(), Some(v.version));
        }
    });
}

#[test]
fn event_stream_over_tls_h2_with_brotli_and_reset_detection() {
    let c = certs();
    let srv = tls_server(&c);
    rt().block_on(async {
        let tls = connect(&srv, client_config(&c, &[b"h2"], BOTH)).await;
        let (client, conn) = h2::client::handshake(tls).await.unwrap();
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let req = http::Request::get("https://localhost/sse?n=3&ms=50")
            .header("accept-encoding", "br")
            .body(())
            .unwrap();
        let (resp, _) = client.clone().ready().await.unwrap().send_request(req, true).unwrap();
        let resp = resp.await.unwrap();
        assert_eq!(resp.headers()["content-encoding"], "br");
        let mut body = resp.into_body();
        let mut wire = Vec::new();
        while let Some(chunk) = body.data().await {
            let chunk = chunk.unwrap();
            let _ = body.flow_control().release_capacity(chunk.len());
            wire.extend_from_slice(&chunk);
        }
        let mut text = String::new();
        std::io::Read::read_to_string(&mut brotli::Decompressor::new(&wire[..], 4096), &mut text).unwrap();
        assert_eq!(text, "id: 0\ndata: event 0\n\nid: 1\ndata: event 1\n\nid: 2\ndata: event 2\n\n");

        let req = http::Request::get("https://localhost/sse-idle").body(()).unwrap();
        let (resp, _) = client.ready().await.unwrap().send_request(req, true).unwrap();
        drop(resp.await.unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    });
    match srv.seen.next_event(Duration::from_secs(5)) {
        Some(StreamEvent::Closed(_)) => {}
        other => panic!("expected Closed, got {other:?}"),
    }
}

struct Nobody;

impl Dispatcher for Nobody {
    fn dispatch(&self, req: Box<IncomingRequest>) -> Result<(), Box<IncomingRequest>> {
        Err(req)
    }
}

impl via::http::StreamEvents for Nobody {
    fn stream_event(&self, _: StreamEvent) {}
}

fn start_error(cert: PathBuf, key: PathBuf) -> String {
    let cfg = ServerConfig { port: 0, tls_cert: Some(cert), tls_key: Some(key), ..ServerConfig::default() };
    match ServerHandle::start(cfg, Arc::new(Nobody)) {
        Ok(_) => panic!("started with bad TLS files"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_certificate_files_fail_start_with_the_cause() {
    let c = certs();
    let other = certs();
    let missing = start_error(c.cert.with_file_name("nope.pem"), c.key.clone());
    assert!(missing.contains("cannot read tls_cert") && missing.contains("nope.pem"), "{missing}");
    let empty = c.cert.with_file_name("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let e = start_error(empty.clone(), c.key.clone());
    assert!(e.contains("contains no certificate"), "{e}");
    let e = start_error(c.cert.clone(), empty);
    assert!(e.contains("contains no private key"), "{e}");
    let e = start_error(c.cert.clone(), other.key.clone());
    assert!(e.contains("does not match the certificate"), "{e}");
    let garbage = c.cert.with_file_name("garbage.pem");
    std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n")
        .unwrap();
    let e = start_error(garbage, c.key.clone());
    assert!(e.contains("tls_cert") && e.contains("garbage.pem"), "{e}");
}
