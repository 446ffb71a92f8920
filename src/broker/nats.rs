//! NATS for a `Remote`: one connection that publishes and subscribes to one subject.
//!
//! Owns: the connect options (auth, TLS, no echo, our backoff), turning the client's
//! events into the remote's state and errors, and the loop that publishes from the outbox
//! while connected and delivers what arrives. Reconnecting and resubscribing are the
//! `async-nats` client's own, with our delays.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_nats::{ConnectOptions, Event};
use futures_util::StreamExt;
use tokio::sync::watch;

use super::{stopped, Shared, BACKOFF_MAX, BACKOFF_START, IO_TIMEOUT};

/// The wait before reconnect attempt `n` (0: at once), doubling from 1 s up to 30 s.
fn delay(attempts: usize) -> Duration {
    match attempts {
        0 => Duration::ZERO,
        n => BACKOFF_START.saturating_mul(1 << (n - 1).min(5)).min(BACKOFF_MAX),
    }
}

fn options(shared: &Arc<Shared>) -> ConnectOptions {
    let c = &shared.config;
    let events = Arc::clone(shared);
    let mut options = ConnectOptions::new()
        .name("via")
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connection_timeout(IO_TIMEOUT)
        .reconnect_delay_callback(delay)
        .event_callback(move |event| {
            let shared = Arc::clone(&events);
            async move { on_event(&shared, event) }
        });
    if !c.echo {
        options = options.no_echo();
    }
    if let Some(token) = &c.credentials.token {
        options = options.token(token.clone());
    } else if let (Some(user), Some(pass)) = (&c.credentials.username, &c.credentials.password) {
        options = options.user_and_password(user.clone(), pass.clone());
    }
    if c.tls {
        options = options.require_tls(true);
    }
    if let Some(ca) = &c.ca_file {
        options = options.add_root_certificates(ca.clone());
    }
    options
}

fn on_event(shared: &Shared, event: Event) {
    match event {
        Event::Connected => shared.set_connected(true),
        Event::Disconnected => {
            shared.set_connected(false);
            shared.report("connection lost", "disconnected");
        }
        Event::ServerError(e) => shared.report("the server refused", e),
        Event::ClientError(e) => shared.report("client error", e),
        Event::SlowConsumer(_) => shared.report("slow consumer", "messages were dropped by the client"),
        Event::LameDuckMode | Event::Draining | Event::Closed => {}
    }
}

pub(super) async fn run(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let c = &shared.config;
    let scheme = if c.tls { "tls" } else { "nats" };
    let host = if c.host.contains(':') { format!("[{}]", c.host) } else { c.host.clone() };
    let addr = format!("{scheme}://{host}:{}", c.port);
    let client = match async_nats::connect_with_options(addr, options(&shared)).await {
        Ok(client) => client,
        Err(e) => return shared.report("cannot connect", e),
    };
    let mut subscriber = match client.subscribe(c.channel.clone()).await {
        Ok(s) => s,
        Err(e) => return shared.report("cannot subscribe", e),
    };
    loop {
        tokio::select! {
            message = subscriber.next() => match message {
                Some(m) => shared.received(&m.payload),
                None => return shared.report("subscription ended", "the client closed"),
            },
            () = shared.outbox_filled(), if shared.connected.load(Ordering::Acquire) => {
                let batch = shared.take_batch();
                let mut sent = 0;
                for m in &batch {
                    if let Err(e) = client.publish(c.channel.clone(), m.clone()).await {
                        shared.report("cannot publish", e);
                        break;
                    }
                    sent += 1;
                }
                shared.stats.sent.fetch_add(sent as u64, Ordering::Relaxed);
                if sent < batch.len() {
                    shared.put_back(batch[sent..].to_vec());
                }
            }
            // Connected again: the outbox branch may run now.
            () = shared.connection_changed.notified() => {}
            () = stopped(&mut stop) => {
                let _ = client.flush().await;
                return;
            }
        }
    }
}
