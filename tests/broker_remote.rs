//! `via::broker::Remote` against real Redis and NATS servers: two "nodes" exchange
//! messages on one channel, a node skips its own, a killed broker is noticed and
//! reconnected to, a wrong password is a clear error without the password, messages
//! signed with another secret are refused, the outbox stays bounded while the broker
//! is down, and rediss:// and tls:// (NATS) verify the server against a given CA.

#[path = "support/brokers.rs"]
mod brokers;

use std::sync::atomic::Ordering;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use brokers::{BrokerServer, Kind};
use via::broker::{envelope, Message, Remote, RemoteConfig, RemoteEvent, Sink};

const WAIT: Duration = Duration::from_secs(10);

enum Got {
    Message(Message),
    Error(String),
    State(bool),
}

struct TestSink(Mutex<Sender<Got>>);

impl Sink for TestSink {
    fn event(&self, event: RemoteEvent) {
        let got = match event {
            RemoteEvent::Message(m) => Got::Message(m),
            RemoteEvent::Error(e) => Got::Error(e),
            RemoteEvent::State(up) => Got::State(up),
        };
        let _ = self.0.lock().unwrap().send(got);
    }
}

struct Node {
    remote: Remote,
    events: Receiver<Got>,
}

impl Node {
    fn start(rt: &tokio::runtime::Runtime, dsn: &str) -> Self {
        let config = RemoteConfig::parse(dsn).expect("valid DSN").expect("a remote DSN");
        let (tx, events) = channel();
        let remote =
            Remote::start(rt.handle(), config, envelope::new_origin(), Arc::new(TestSink(Mutex::new(tx))));
        Self { remote, events }
    }

    /// The next message, skipping errors; `None` after `within`.
    fn next_message(&self, within: Duration) -> Option<Message> {
        let deadline = Instant::now() + within;
        loop {
            match self.events.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(Got::Message(m)) => return Some(m),
                Ok(Got::Error(_) | Got::State(_)) => {}
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// The next error text, skipping messages.
    fn next_error(&self) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.events.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(Got::Error(e)) => return e,
                Ok(Got::Message(_) | Got::State(_)) => {}
                Err(e) => panic!("no error reported within {WAIT:?}: {e:?}"),
            }
        }
    }

    /// Returns once the connection is seen down: at once if it is, else at its next
    /// `State(false)` event (an error can be reported before the state changes).
    fn wait_down(&self) {
        let deadline = Instant::now() + WAIT;
        while self.remote.is_connected() {
            match self.events.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(Got::State(false)) => return,
                Ok(_) => {}
                Err(e) => panic!("the connection was not seen down within {WAIT:?}: {e:?}"),
            }
        }
    }

    /// Waits until connected: publishes probes on `topic` until `peer` hears one.
    fn wait_linked(&self, peer: &Node) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if self.remote.is_connected() && peer.remote.is_connected() {
                self.remote.publish(b"probe", b"");
                if peer.next_message(Duration::from_millis(200)).is_some_and(|m| &m.topic[..] == b"probe") {
                    while peer.next_message(Duration::from_millis(50)).is_some() {}
                    return;
                }
            } else {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("the nodes did not reach each other within {WAIT:?}");
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime")
}

fn dsn(kind: Kind, port: u16, auth: &str, query: &str) -> String {
    let scheme = match kind {
        Kind::Redis => "redis",
        Kind::Nats => "nats",
    };
    format!("{scheme}://{auth}127.0.0.1:{port}?{query}")
}

fn two_nodes_exchange_messages_and_skip_their_own(kind: Kind) {
    let server = BrokerServer::start(kind, None);
    let rt = runtime();
    let a = Node::start(&rt, &dsn(kind, server.port, "", "channel=t1"));
    let b = Node::start(&rt, &dsn(kind, server.port, "", "channel=t1"));
    a.wait_linked(&b);
    for i in 0..100u32 {
        assert!(a.remote.publish(b"room:1", &i.to_be_bytes()));
    }
    for i in 0..100u32 {
        let m = b.next_message(WAIT).expect("B gets A's messages");
        assert_eq!((&m.topic[..], &m.payload[..]), (&b"room:1"[..], &i.to_be_bytes()[..]), "in order");
    }
    assert!(a.next_message(Duration::from_millis(300)).is_none(), "A does not get its own messages");
    assert!(a.remote.stats().sent.load(Ordering::Relaxed) >= 100);
    assert!(b.remote.stats().delivered.load(Ordering::Relaxed) >= 100);
    let other = Node::start(&rt, &dsn(kind, server.port, "", "channel=t2"));
    b.wait_linked(&a);
    other.remote.publish(b"room:1", b"elsewhere");
    assert!(a.next_message(Duration::from_millis(300)).is_none(), "another channel is another bus");
}

#[test]
fn redis_two_nodes_exchange_messages_and_skip_their_own() {
    two_nodes_exchange_messages_and_skip_their_own(Kind::Redis);
}

#[test]
fn nats_two_nodes_exchange_messages_and_skip_their_own() {
    two_nodes_exchange_messages_and_skip_their_own(Kind::Nats);
}

fn a_killed_broker_is_noticed_and_reconnected_to(kind: Kind) {
    let mut server = BrokerServer::start(kind, None);
    let rt = runtime();
    // A gets its own messages back (echo=1): its subscription is in place before it sends
    // what it kept, whereas another node may resubscribe after that (pub/sub keeps nothing).
    let a = Node::start(&rt, &dsn(kind, server.port, "", "echo=1"));
    let b = Node::start(&rt, &dsn(kind, server.port, "", ""));
    a.wait_linked(&b);
    server.kill();
    let error = a.next_error();
    assert!(error.contains(&format!("127.0.0.1:{}", server.port)), "{error}");
    a.wait_down();
    assert!(!a.remote.is_connected());
    // While down, publish never blocks and the message waits in the outbox.
    let started = Instant::now();
    assert!(a.remote.publish(b"while-down", b"kept"));
    assert!(started.elapsed() < Duration::from_millis(50));
    server.restart();
    let deadline = Instant::now() + Duration::from_secs(40);
    let got = loop {
        let m = a
            .next_message(deadline.saturating_duration_since(Instant::now()))
            .expect("delivered after the restart");
        if &m.topic[..] == b"while-down" {
            break m;
        }
    };
    assert_eq!(&got.payload[..], b"kept");
    a.wait_linked(&b);
    assert!(a.remote.stats().reconnects.load(Ordering::Relaxed) >= 1);
}

#[test]
fn redis_a_killed_broker_is_noticed_and_reconnected_to() {
    a_killed_broker_is_noticed_and_reconnected_to(Kind::Redis);
}

#[test]
fn nats_a_killed_broker_is_noticed_and_reconnected_to() {
    a_killed_broker_is_noticed_and_reconnected_to(Kind::Nats);
}

fn a_wrong_password_is_a_clear_error_without_the_password(kind: Kind) {
    let server = BrokerServer::start(kind, Some("right-password"));
    let rt = runtime();
    let user = if kind == Kind::Nats { "via" } else { "default" };
    let node = Node::start(&rt, &dsn(kind, server.port, &format!("{user}:wrong-password@"), ""));
    let error = node.next_error();
    assert!(error.contains(&format!("127.0.0.1:{}", server.port)), "{error}");
    assert!(!error.contains("wrong-password"), "{error}");
    assert!(!node.remote.is_connected());
    let good = Node::start(&rt, &dsn(kind, server.port, &format!("{user}:right-password@"), ""));
    let peer = Node::start(&rt, &dsn(kind, server.port, &format!("{user}:right-password@"), ""));
    good.wait_linked(&peer);
}

#[test]
fn redis_a_wrong_password_is_a_clear_error_without_the_password() {
    a_wrong_password_is_a_clear_error_without_the_password(Kind::Redis);
}

#[test]
fn nats_a_wrong_password_is_a_clear_error_without_the_password() {
    a_wrong_password_is_a_clear_error_without_the_password(Kind::Nats);
}

#[test]
fn messages_signed_with_another_secret_are_refused_and_counted() {
    let server = BrokerServer::start(Kind::Redis, None);
    let rt = runtime();
    let secret = "secret=0123456789abcdef";
    let a = Node::start(&rt, &dsn(Kind::Redis, server.port, "", secret));
    let b = Node::start(&rt, &dsn(Kind::Redis, server.port, "", secret));
    let stranger = Node::start(&rt, &dsn(Kind::Redis, server.port, "", "secret=another-secret-0000"));
    let unsigned = Node::start(&rt, &dsn(Kind::Redis, server.port, "", ""));
    a.wait_linked(&b);
    let deadline = Instant::now() + WAIT;
    while !(stranger.remote.is_connected() && unsigned.remote.is_connected()) {
        assert!(Instant::now() < deadline, "the other nodes did not connect");
        std::thread::sleep(Duration::from_millis(20));
    }
    stranger.remote.publish(b"t", b"forged");
    unsigned.remote.publish(b"t", b"unsigned");
    a.remote.publish(b"t", b"genuine");
    let m = b.next_message(WAIT).expect("the genuine message");
    assert_eq!(&m.payload[..], b"genuine", "nothing forged or unsigned came before it");
    let deadline = Instant::now() + WAIT;
    while b.remote.stats().rejected.load(Ordering::Relaxed) < 2 {
        assert!(Instant::now() < deadline, "refusals not counted");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(b.next_message(Duration::from_millis(200)).is_none());
}

#[test]
fn the_outbox_is_bounded_while_the_broker_is_down() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let rt = runtime();
    let node = Node::start(&rt, &format!("redis://127.0.0.1:{port}?buffer=4096"));
    let _ = node.next_error();
    let mut taken = 0;
    for _ in 0..1000 {
        if node.remote.publish(b"t", &[0u8; 100]) {
            taken += 1;
        }
    }
    assert!(taken > 0 && taken < 40, "{taken} messages of ~140 bytes taken into 4096");
    assert!(node.remote.queued_bytes() <= 4096);
    assert_eq!(node.remote.stats().dropped.load(Ordering::Relaxed), 1000 - taken);
}

/// A CA, and a certificate for 127.0.0.1 it signed, as PEM files in `dir`: (ca, cert, key).
fn tls_files(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let paths = (dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

fn tls_with_a_given_ca(kind: Kind) {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = tls_files(dir.path());
    let server = BrokerServer::start_tls(kind, &cert, &key);
    let scheme = if kind == Kind::Redis { "rediss" } else { "tls" };
    let rt = runtime();
    let with_ca = format!("{scheme}://127.0.0.1:{}?ca={}", server.port, ca.display());
    let a = Node::start(&rt, &with_ca);
    let b = Node::start(&rt, &with_ca);
    a.wait_linked(&b);
    // Without the CA the server's certificate is not trusted: an error, never a connection.
    let untrusting = Node::start(&rt, &format!("{scheme}://127.0.0.1:{}", server.port));
    let error = untrusting.next_error();
    assert!(error.contains(&format!("127.0.0.1:{}", server.port)), "{error}");
    assert!(!untrusting.remote.is_connected());
}

#[test]
fn rediss_verifies_the_server_against_the_given_ca() {
    tls_with_a_given_ca(Kind::Redis);
}

#[test]
fn nats_over_tls_verifies_the_server_against_the_given_ca() {
    tls_with_a_given_ca(Kind::Nats);
}
