//! `Via\Broker`: publish/subscribe chosen by DSN.
//!
//! - `memory://[name]`: the brokers of this process with the same name;
//! - `workers://`: every worker process of this server, through the master (with one
//!   process, this process);
//! - `redis://`, `rediss://`, `nats://`, `tls://` (NATS over TLS): every server on that
//!   broker (`crate::broker`; options in `crate::broker::dsn`), this process included.
//!   The connection is made when the server starts serving (`remotes`).
//!
//! Owns: subscriptions (callbacks, per broker object), delivery into tasks, the payload
//! limit, per-broker counters, and telling the master which topics this worker wants.
//! Does not own: the fan-out across workers (`crate::workers::master`).
//!
//! A message carries its origin (the publishing worker's number, or -1 for another
//! server); a subscriber may skip the messages of its own worker. Messages of one publisher arrive in publish order.
//! PHP thread only. Callbacks are held until the broker is closed or destroyed.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::{PhpException, PhpResult};
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, ZendObject, Zval};

use super::args::{Bool, ByteStr, Callable, Str};
use super::convert;
use super::errors::{broker_err, broker_exception, value_err};
use super::global::PhpGlobal;
use super::remotes::{self, RemoteId};
use super::runtime::{self, TaskKind};
use crate::broker::{RemoteConfig, RemoteEvent};
use crate::ipc::{ToMaster, OTHER_SERVER};
use crate::workers::link::Link;

/// Default largest payload: 1 MiB.
const DEFAULT_MAX_PAYLOAD: usize = 1 << 20;
/// Largest payload a DSN may allow: 64 MiB.
const MAX_MAX_PAYLOAD: usize = 64 << 20;
const MAX_TOPIC: usize = 1024;

#[derive(Clone, PartialEq, Eq, Debug)]
enum Kind {
    Memory(String),
    Workers,
    Remote(RemoteId),
}

impl Kind {
    /// The bus of the master's broker frames this kind travels on in a worker: 0 for
    /// `workers://`, `id + 1` for shared broker `id`; none for `memory://`.
    fn bus(&self) -> Option<u32> {
        match self {
            Self::Memory(_) => None,
            Self::Workers => Some(0),
            Self::Remote(id) => Some(id + 1),
        }
    }

    fn of_bus(bus: u32) -> Self {
        match bus.checked_sub(1) {
            None => Self::Workers,
            Some(id) => Self::Remote(id),
        }
    }
}

/// The `$origin` of a message from another server.
const OTHER_SERVER_ORIGIN: i64 = -1;

struct Sub {
    callback: Zval,
    own: bool,
}

struct State {
    kind: Kind,
    subs: HashMap<String, Vec<Sub>>,
    on_error: Vec<Zval>,
    max_payload: usize,
    published: u64,
    delivered: u64,
    dropped: u64,
}

static BROKERS: PhpGlobal<RefCell<Option<HashMap<u64, State>>>> = PhpGlobal::new(RefCell::new(None));
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn brokers<R>(f: impl FnOnce(&mut HashMap<u64, State>) -> R) -> R {
    f(BROKERS.get().borrow_mut().get_or_insert_with(HashMap::new))
}

/// Releases every callback (request shutdown).
pub fn shutdown() {
    let all = BROKERS.get().borrow_mut().take();
    drop(all);
}

fn origin() -> i64 {
    super::workers::identity().map_or(0, |i| i64::from(i.id))
}

/// (bus, topic) of every subscription of a broker that goes through the master.
fn master_topics() -> Vec<(u32, String)> {
    brokers(|all| {
        let mut topics: Vec<(u32, String)> = all
            .values()
            .filter_map(|s| Some((s.kind.bus()?, s)))
            .flat_map(|(bus, s)| {
                s.subs.iter().filter(|(_, v)| !v.is_empty()).map(move |(t, _)| (bus, t.clone()))
            })
            .collect();
        topics.sort();
        topics.dedup();
        topics
    })
}

fn subscribed_anywhere(kind: &Kind, topic: &str) -> bool {
    brokers(|all| all.values().any(|s| s.kind == *kind && s.subs.get(topic).is_some_and(|v| !v.is_empty())))
}

/// A worker just connected: tell the master every topic subscribed before (brokers
/// created before start() came along with the fork).
pub fn resubscribe_workers(link: &Link) {
    for (bus, t) in master_topics() {
        link.send(ToMaster::BrokerSubscribe { bus, topic: Bytes::from(t) });
    }
}

/// Runs the subscribers of `topic` among the brokers `matches` selects.
fn deliver(matches: impl Fn(&Kind) -> bool, from: i64, topic: &str, payload: &[u8]) {
    let me = origin();
    let jobs: Vec<Zval> = brokers(|all| {
        let mut jobs = Vec::new();
        for s in all.values_mut().filter(|s| matches(&s.kind)) {
            let Some(subs) = s.subs.get(topic) else { continue };
            for sub in subs.iter().filter(|sub| sub.own || from != me) {
                jobs.push(sub.callback.shallow_clone());
                s.delivered += 1;
            }
        }
        jobs
    });
    for cb in jobs {
        let mut t = Zval::new();
        let _ = t.set_string(topic, false);
        let mut o = Zval::new();
        o.set_long(from);
        runtime::spawn(cb, vec![convert::bytes(payload), t, o], TaskKind::Hook("broker subscriber"));
    }
}

/// A message from the master for the brokers of this worker on `bus`.
pub fn deliver_bus(bus: u32, from: u32, topic: &[u8], payload: &[u8]) {
    let topic = String::from_utf8_lossy(topic);
    let from = if from == OTHER_SERVER { OTHER_SERVER_ORIGIN } else { i64::from(from) };
    let kind = Kind::of_bus(bus);
    deliver(|k| *k == kind, from, &topic, payload);
}

/// What a DSN asks for, checked.
enum Parsed {
    Local(Kind),
    Remote(Box<RemoteConfig>),
}

fn parse_dsn(dsn: &str) -> Result<(Parsed, usize), String> {
    let (scheme, rest) =
        dsn.split_once("://").ok_or_else(|| format!("\"{dsn}\" is not a DSN (scheme://...)"))?;
    let (target, query) = rest.split_once('?').unwrap_or((rest, ""));
    let remote = RemoteConfig::parse(dsn)?;
    let mut max_payload = DEFAULT_MAX_PAYLOAD;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "max_payload" => {
                max_payload =
                    v.parse::<usize>().ok().filter(|n| (1..=MAX_MAX_PAYLOAD).contains(n)).ok_or_else(
                        || format!("max_payload must be between 1 and {MAX_MAX_PAYLOAD}, \"{v}\" given"),
                    )?;
            }
            _ if remote.is_some() => {} // checked by RemoteConfig::parse
            _ => return Err(format!("unknown DSN option \"{k}\" (known: max_payload)")),
        }
    }
    if let Some(config) = remote {
        return Ok((Parsed::Remote(Box::new(config)), max_payload));
    }
    let kind = match scheme {
        "memory" => Kind::Memory(target.to_string()),
        "workers" => {
            if !target.is_empty() {
                return Err(format!("workers:// takes no host or path, \"{target}\" given"));
            }
            Kind::Workers
        }
        other => {
            return Err(format!(
                "unknown scheme \"{other}\" (supported: memory://, workers://, redis://, rediss://, nats://, tls://)"
            ))
        }
    };
    Ok((Parsed::Local(kind), max_payload))
}

/// What remote `id` reported, on the PHP thread: run the subscribers of a message, or the
/// error callbacks of the brokers on that remote. (Its state is read when asked.)
pub fn on_remote(id: RemoteId, event: RemoteEvent) {
    match event {
        RemoteEvent::Message(m) => {
            let topic = String::from_utf8_lossy(&m.topic);
            deliver(|k| *k == Kind::Remote(id), OTHER_SERVER_ORIGIN, &topic, &m.payload);
        }
        RemoteEvent::State(_) => {}
        RemoteEvent::Error(text) => {
            let callbacks: Vec<Zval> = brokers(|all| {
                all.values()
                    .filter(|s| s.kind == Kind::Remote(id))
                    .flat_map(|s| s.on_error.iter().map(Zval::shallow_clone))
                    .collect()
            });
            for cb in callbacks {
                let e = ZendObject::new(broker_exception());
                if e.try_call_method("__construct", vec![&text]).is_err() {
                    continue;
                }
                let Ok(z) = e.into_zval(false) else { continue };
                runtime::spawn(cb, vec![z], TaskKind::Hook("broker onError"));
            }
        }
    }
}

/// Publish/subscribe: memory:// (this process), workers:// (every worker of this server),
/// or a shared Redis or NATS broker (every server on it). Subscribers run in their own
/// task: function (string $payload, string $topic, int $origin), $origin being the
/// publishing worker's number, or -1 for a message from another server.
#[php_class]
#[php(name = "Via\\Broker")]
#[php(flags = ClassFlags::Final)]
pub struct Broker {
    id: u64,
    dsn: String,
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.release();
    }
}

impl Broker {
    /// Forgets every subscription; tells the master about topics no broker wants now.
    fn release(&self) {
        let removed = brokers(|all| all.remove(&self.id));
        if let Some(state) = removed {
            for topic in state.subs.keys() {
                unsubscribed(&state.kind, topic);
            }
        }
    }

    fn state<R>(&self, f: impl FnOnce(&mut State) -> R) -> Option<R> {
        brokers(|all| all.get_mut(&self.id).map(f))
    }

    fn closed(&self, method: &str) -> PhpException {
        broker_err(format!("Via\\Broker::{method}(): the broker is closed"))
    }
}

/// A subscription of a `kind` broker ended: the master forgets the topic once no broker
/// of this worker on that bus wants it.
fn unsubscribed(kind: &Kind, topic: &str) {
    let Some(bus) = kind.bus() else { return };
    if !subscribed_anywhere(kind, topic) {
        if let Some(link) = super::workers::link() {
            link.send(ToMaster::BrokerUnsubscribe { bus, topic: Bytes::from(topic.to_owned()) });
        }
    }
}

fn check_topic(method: &str, topic: &str) -> PhpResult<()> {
    if topic.is_empty() || topic.len() > MAX_TOPIC {
        return Err(value_err(format!(
            "Via\\Broker::{method}(): Argument #1 ($topic) must be 1 to {MAX_TOPIC} bytes, {} given",
            topic.len()
        )));
    }
    Ok(())
}

#[php_impl]
impl Broker {
    /// A broker for $dsn: "memory://" or "memory://name" (the brokers of this process
    /// with that name), "workers://" (every worker of this server),
    /// "redis://[user:password@]host[:port][/db]", "rediss://…" (TLS),
    /// "nats://[token@|user:password@]host[:port]" or "tls://…" (NATS over TLS): every
    /// server on that broker, one connection per server, made when it starts serving.
    /// Options: ?max_payload=bytes (default 1 MiB); for Redis and NATS also channel (the
    /// channel or subject, default "via"), secret (≥ 16 bytes: messages are signed with
    /// HMAC-SHA256 and only messages signed with it are taken), buffer (bytes held while
    /// the broker is down, default 1 MiB; past it publish() drops and counts), ca (a PEM
    /// file of CA certificates, TLS only), echo=1 (this server gets its own messages back
    /// from the broker too).
    ///
    /// @throws \ValueError for a malformed DSN, an unknown scheme or option
    pub fn __construct(dsn: Str) -> PhpResult<Self> {
        let dsn = dsn.into_string();
        let (parsed, max_payload) =
            parse_dsn(&dsn).map_err(|e| value_err(format!("Via\\Broker::__construct(): {e}")))?;
        let kind = match parsed {
            Parsed::Local(kind) => kind,
            Parsed::Remote(config) => Kind::Remote(remotes::register(&dsn, *config)),
        };
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        brokers(|all| {
            all.insert(
                id,
                State {
                    kind,
                    subs: HashMap::new(),
                    on_error: Vec::new(),
                    max_payload,
                    published: 0,
                    delivered: 0,
                    dropped: 0,
                },
            )
        });
        Ok(Self { id, dsn })
    }

    /// Sends $payload to every subscriber of $topic (in every worker, for workers://),
    /// this process's included.
    ///
    /// @throws \ValueError for an empty or too long topic, or a payload over max_payload
    /// @throws \Via\BrokerException when the broker is closed or not connected
    pub fn publish(&self, topic: Str, payload: ByteStr) -> PhpResult<()> {
        let topic = topic.into_string();
        check_topic("publish", &topic)?;
        let Some((kind, max)) = self.state(|s| (s.kind.clone(), s.max_payload)) else {
            return Err(self.closed("publish"));
        };
        if payload.len() > max {
            return Err(value_err(format!(
                "Via\\Broker::publish(): Argument #2 ($payload) is {} bytes, over the broker's max_payload of {max}",
                payload.len()
            )));
        }
        // In a worker, workers:// and shared brokers go through the master, which sends the
        // message back to every subscribed worker (this one included) and on to the broker.
        if let (Some(bus), Some(link)) = (kind.bus(), super::workers::link()) {
            let sent = link.is_open()
                && link.send(ToMaster::BrokerPublish {
                    bus,
                    topic: Bytes::from(topic),
                    payload: Bytes::copy_from_slice(&payload),
                });
            if !sent {
                self.state(|s| s.dropped += 1);
                return Err(broker_err("Via\\Broker::publish(): not connected to the master"));
            }
            self.state(|s| s.published += 1);
            return Ok(());
        }
        match kind {
            Kind::Memory(_) | Kind::Workers => {
                self.state(|s| s.published += 1);
                deliver(|k| *k == kind, origin(), &topic, &payload);
            }
            Kind::Remote(id) => {
                let Some(taken) = remotes::with_remote(id, |r| r.publish(topic.as_bytes(), &payload)) else {
                    return Err(broker_err(format!(
                        "Via\\Broker::publish(): not connected to {}: a shared broker connects when the server starts",
                        remotes::display(id)
                    )));
                };
                // This server's own subscribers get it now; the broker's echo is skipped.
                self.state(|s| if taken { s.published += 1 } else { s.dropped += 1 });
                deliver(|k| *k == Kind::Remote(id), origin(), &topic, &payload);
            }
        }
        Ok(())
    }

    /// Runs $callback for every message on $topic: function (string $payload, string
    /// $topic, int $origin). With $own = false, messages published by this worker are
    /// skipped.
    ///
    /// @throws \ValueError for an empty or too long topic
    /// @throws \Via\BrokerException when the broker is closed
    #[php(defaults(own = true))]
    pub fn subscribe(&self, topic: Str, callback: Callable, own: Bool) -> PhpResult<()> {
        let (topic, own) = (topic.into_string(), *own);
        check_topic("subscribe", &topic)?;
        let kind = self.state(|s| s.kind.clone()).ok_or_else(|| self.closed("subscribe"))?;
        let first = kind.bus().is_some() && !subscribed_anywhere(&kind, &topic);
        self.state(|s| {
            s.subs.entry(topic.clone()).or_default().push(Sub { callback: callback.to_zval(), own })
        });
        if let (true, Some(bus), Some(link)) = (first, kind.bus(), super::workers::link()) {
            link.send(ToMaster::BrokerSubscribe { bus, topic: Bytes::from(topic) });
        }
        Ok(())
    }

    /// Removes this broker's subscriptions to $topic; false when it had none.
    ///
    /// @throws \ValueError for an empty or too long topic
    pub fn unsubscribe(&self, topic: Str) -> PhpResult<bool> {
        let topic = topic.into_string();
        check_topic("unsubscribe", &topic)?;
        let Some((had, kind)) =
            self.state(|s| (s.subs.remove(&topic).is_some_and(|v| !v.is_empty()), s.kind.clone()))
        else {
            return Ok(false);
        };
        if had {
            unsubscribed(&kind, &topic);
        }
        Ok(had)
    }

    /// Whether messages can flow: always for memory://; for workers://, whether this
    /// worker's link to the master is up.
    pub fn is_connected(&self) -> bool {
        match self.state(|s| s.kind.clone()) {
            None => false,
            Some(Kind::Memory(_)) => true,
            Some(Kind::Workers) => super::workers::link().is_none_or(|l| l.is_open()),
            Some(Kind::Remote(id)) => remotes::is_connected(id),
        }
    }

    /// Runs $callback(\Via\BrokerException $e) in a task whenever the connection to a
    /// shared broker fails or breaks (the message names the broker, never its
    /// credentials). memory:// and workers:// brokers never call it.
    ///
    /// @throws \Via\BrokerException when the broker is closed
    pub fn on_error(&self, callback: Callable) -> PhpResult<()> {
        self.state(|s| s.on_error.push(callback.to_zval())).ok_or_else(|| self.closed("onError"))
    }

    /// Counters: published (by this broker), delivered (callbacks run for its
    /// subscriptions), dropped (messages that could not be sent). A shared broker adds
    /// its connection's: connected, sent, rejected (unsigned, badly signed or malformed
    /// messages), own_skipped (this server's messages come back), reconnects and
    /// queued_bytes (waiting while the broker is down or behind).
    pub fn stats(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let (p, d, x, kind) = self
            .state(|s| (s.published, s.delivered, s.dropped, s.kind.clone()))
            .unwrap_or((0, 0, 0, Kind::Workers));
        let mut ht = ZendHashTable::new();
        ht.insert("published", p as i64)?;
        ht.insert("delivered", d as i64)?;
        ht.insert("dropped", x as i64)?;
        if let Kind::Remote(id) = kind {
            // A worker has no connection of its own: the master's counters are not here.
            let remote = remotes::with_remote(id, |r| {
                let s = r.stats();
                let n = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed) as i64;
                (n(&s.sent), n(&s.rejected), n(&s.own_skipped), n(&s.reconnects), r.queued_bytes())
            });
            let (sent, rejected, own, reconnects, queued) = remote.unwrap_or_default();
            ht.insert("connected", remotes::is_connected(id))?;
            ht.insert("sent", sent)?;
            ht.insert("rejected", rejected)?;
            ht.insert("own_skipped", own)?;
            ht.insert("reconnects", reconnects)?;
            ht.insert("queued_bytes", queued as i64)?;
        }
        Ok(ht)
    }

    /// The DSN it was created with.
    pub fn dsn(&self) -> &str {
        &self.dsn
    }

    /// Drops every subscription and callback; the broker cannot be used afterwards.
    pub fn close(&self) {
        self.release();
    }
}
