//! Cross-node publish → deliver latency of via's shared brokers (`via::broker::Remote`),
//! next to the same broker driven by its client library directly (the ceiling), in one
//! run on one machine: two "nodes" (two connections) on a real redis-server and a real
//! nats-server started here on loopback; node A publishes at a fixed rate, node B
//! receives; each message carries its send time.
//!
//! The ceiling publishes and subscribes with the same crates (redis RESP3 push, async-nats)
//! without via's envelope, outbox or task hand-over: what is left is the broker and the
//! kernel.
//!
//! Usage: broker_latency [seconds per point]   (default 3)

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use via::broker::{envelope, Remote, RemoteConfig, RemoteEvent, Sink};

#[path = "../tests/support/brokers.rs"]
#[expect(dead_code, reason = "the TLS servers are for the tests")]
mod brokers;

const RATES: [u64; 2] = [1_000, 10_000];
const PAYLOAD: usize = 64;

/// Send time (ns since `epoch`) in the first 8 bytes of a payload.
fn stamp(epoch: Instant) -> Vec<u8> {
    let mut p = vec![0u8; PAYLOAD];
    p[..8].copy_from_slice(&(epoch.elapsed().as_nanos() as u64).to_le_bytes());
    p
}

fn latency_us(epoch: Instant, payload: &[u8]) -> f64 {
    let sent = u64::from_le_bytes(payload[..8].try_into().unwrap());
    (epoch.elapsed().as_nanos() as u64).saturating_sub(sent) as f64 / 1000.0
}

struct Collect {
    epoch: Instant,
    samples: Mutex<Vec<f64>>,
    connected: AtomicBool,
}

impl Sink for Collect {
    fn event(&self, event: RemoteEvent) {
        match event {
            RemoteEvent::Message(m) => self.samples.lock().unwrap().push(latency_us(self.epoch, &m.payload)),
            RemoteEvent::State(up) => self.connected.store(up, Ordering::Release),
            RemoteEvent::Error(_) => {}
        }
    }
}

/// Calls `publish` `rate` times a second for `secs` seconds, paced by a 1 ms tick.
async fn paced(rate: u64, secs: u64, mut publish: impl FnMut()) -> u64 {
    let per_tick = rate as f64 / 1000.0;
    let mut owed = 0.0;
    let mut sent = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for _ in 0..secs * 1000 {
        tick.tick().await;
        owed += per_tick;
        while owed >= 1.0 {
            publish();
            sent += 1;
            owed -= 1.0;
        }
    }
    sent
}

fn summary(mut samples: Vec<f64>, sent: u64) -> String {
    samples.sort_by(f64::total_cmp);
    let q = |p: f64| {
        samples.get(((samples.len() as f64 * p) as usize).min(samples.len().saturating_sub(1))).copied()
    };
    match (q(0.5), q(0.99)) {
        (Some(p50), Some(p99)) => {
            format!("p50 {:>7.1} µs  p99 {:>7.1} µs  ({} of {sent} delivered)", p50, p99, samples.len())
        }
        _ => format!("nothing delivered of {sent}"),
    }
}

/// Publishes through `out` (drained by `writer`) at `rate` for `secs`, then lets the last
/// messages arrive and summarises what `reader` collected.
async fn drive(
    rate: u64,
    secs: u64,
    epoch: Instant,
    out: mpsc::UnboundedSender<Vec<u8>>,
    writer: tokio::task::JoinHandle<()>,
    reader: tokio::task::JoinHandle<()>,
    samples: &Mutex<Vec<f64>>,
) -> String {
    let sent = paced(rate, secs, || {
        let _ = out.send(stamp(epoch));
    })
    .await;
    drop(out);
    let _ = writer.await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    reader.abort();
    let s = std::mem::take(&mut *samples.lock().unwrap());
    summary(s, sent)
}

async fn via_point(kind: &str, port: u16, rate: u64, secs: u64) -> String {
    let scheme = if kind == "redis" { "redis" } else { "nats" };
    let config =
        RemoteConfig::parse(&format!("{scheme}://127.0.0.1:{port}?channel=bench{rate}&buffer=67108864"))
            .unwrap()
            .unwrap();
    let epoch = Instant::now();
    let rt = tokio::runtime::Handle::current();
    let sink_a = Arc::new(Collect { epoch, samples: Mutex::default(), connected: AtomicBool::new(false) });
    let sink_b = Arc::new(Collect { epoch, samples: Mutex::default(), connected: AtomicBool::new(false) });
    let a = Remote::start(&rt, config.clone(), envelope::new_origin(), sink_a.clone());
    let _b = Remote::start(&rt, config, envelope::new_origin(), sink_b.clone());
    while !(sink_a.connected.load(Ordering::Acquire) && sink_b.connected.load(Ordering::Acquire)) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await; // both subscriptions settle
    let sent = paced(rate, secs, || {
        a.publish(b"t", &stamp(epoch));
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let samples = std::mem::take(&mut *sink_b.samples.lock().unwrap());
    summary(samples, sent)
}

async fn redis_ceiling(port: u16, rate: u64, secs: u64) -> String {
    let url = format!("redis://127.0.0.1:{port}/?protocol=resp3");
    let client = redis::Client::open(url).unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let config = redis::AsyncConnectionConfig::new().set_push_sender(tx);
    let mut sub = client.get_multiplexed_async_connection_with_config(&config).await.unwrap();
    let channel = format!("ceiling{rate}");
    sub.subscribe(&channel).await.unwrap();
    let publisher = client.get_multiplexed_async_connection().await.unwrap();
    let epoch = Instant::now();
    let samples = Arc::new(Mutex::new(Vec::new()));
    let collect = Arc::clone(&samples);
    let reader = tokio::spawn(async move {
        while let Some(push) = rx.recv().await {
            if let (redis::PushKind::Message, Some(redis::Value::BulkString(p))) =
                (push.kind, push.data.get(1))
            {
                collect.lock().unwrap().push(latency_us(epoch, p));
            }
        }
    });
    let (out, mut out_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let writer = tokio::spawn(async move {
        let mut conn = publisher;
        while let Some(first) = out_rx.recv().await {
            let mut pipe = redis::pipe();
            pipe.publish(&channel, first).ignore();
            while let Ok(more) = out_rx.try_recv() {
                pipe.publish(&channel, more).ignore();
            }
            let _: () = pipe.query_async(&mut conn).await.unwrap();
        }
    });
    drive(rate, secs, epoch, out, writer, reader, &samples).await
}

async fn nats_ceiling(port: u16, rate: u64, secs: u64) -> String {
    let client = async_nats::connect(format!("nats://127.0.0.1:{port}")).await.unwrap();
    let subject = format!("ceiling{rate}");
    let mut sub = client.subscribe(subject.clone()).await.unwrap();
    client.flush().await.unwrap();
    let epoch = Instant::now();
    let samples = Arc::new(Mutex::new(Vec::new()));
    let collect = Arc::clone(&samples);
    let reader = tokio::spawn(async move {
        while let Some(m) = sub.next().await {
            collect.lock().unwrap().push(latency_us(epoch, &m.payload));
        }
    });
    let (out, mut out_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let publisher = client.clone();
    let writer = tokio::spawn(async move {
        while let Some(p) = out_rx.recv().await {
            publisher.publish(subject.clone(), Bytes::from(p)).await.unwrap();
        }
    });
    drive(rate, secs, epoch, out, writer, reader, &samples).await
}

fn main() {
    let secs: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(3);
    via::log::set_level(via::config::LogLevel::Error);
    // Two I/O threads, as a server on this machine has.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    for (kind, server) in [("redis", brokers::Kind::Redis), ("nats", brokers::Kind::Nats)] {
        let server = brokers::BrokerServer::start(server, None);
        let port = server.port;
        for rate in RATES {
            let via = rt.block_on(via_point(kind, port, rate, secs));
            let ceiling = rt.block_on(async {
                if kind == "redis" {
                    redis_ceiling(port, rate, secs).await
                } else {
                    nats_ceiling(port, rate, secs).await
                }
            });
            println!("{kind:5} {rate:>6}/s  via      {via}");
            println!("{kind:5} {rate:>6}/s  ceiling  {ceiling}");
        }
    }
}
