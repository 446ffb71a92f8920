//! Redis pub/sub for a `Remote`: one RESP3 connection both publishes and subscribes
//! (push messages), so a server holds one connection to Redis, whatever its workers.
//!
//! Owns: connecting (AUTH, SELECT and TLS by the `redis` crate), the subscription, the
//! write loop (pipelines of PUBLISH), and the reconnect loop.

use std::sync::Arc;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, IntoConnectionInfo, PushInfo, PushKind, Value};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};
use tokio::sync::watch;

use super::{next_backoff, pause, stopped, Shared, BACKOFF_START, IO_TIMEOUT};

/// Connects, serves the connection until it breaks, waits, again — until stopped.
pub(super) async fn run(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut delay = BACKOFF_START;
    loop {
        match connect(&shared).await {
            Ok((conn, pushes)) => {
                shared.set_connected(true);
                delay = BACKOFF_START;
                let ended = serve(&shared, conn, pushes, &mut stop).await;
                shared.set_connected(false);
                match ended {
                    Ok(()) => return,
                    Err(e) => shared.report("connection lost", e),
                }
            }
            Err(e) => shared.report("cannot connect", e),
        }
        if !pause(delay, &mut stop).await {
            return;
        }
        delay = next_backoff(delay);
    }
}

async fn connect(
    shared: &Shared,
) -> redis::RedisResult<(MultiplexedConnection, UnboundedReceiver<PushInfo>)> {
    let c = &shared.config;
    let mut info =
        redis::RedisConnectionInfo::default().set_db(c.db).set_protocol(redis::ProtocolVersion::RESP3);
    if let Some(u) = &c.credentials.username {
        info = info.set_username(u);
    }
    if let Some(p) = &c.credentials.password {
        info = info.set_password(p);
    }
    let addr = if c.tls {
        redis::ConnectionAddr::TcpTls {
            host: c.host.clone(),
            port: c.port,
            insecure: false,
            tls_params: None,
        }
    } else {
        redis::ConnectionAddr::Tcp(c.host.clone(), c.port)
    };
    let conn_info = addr.into_connection_info()?.set_redis_settings(info);
    let client = match &c.ca_file {
        Some(ca) => {
            let root_cert = std::fs::read(ca).map_err(redis::RedisError::from)?;
            redis::Client::build_with_tls(
                conn_info,
                redis::TlsCertificates { client_tls: None, root_cert: Some(root_cert) },
            )?
        }
        None => redis::Client::open(conn_info)?,
    };
    let (tx, rx) = unbounded_channel();
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(IO_TIMEOUT))
        .set_response_timeout(Some(IO_TIMEOUT))
        .set_push_sender(tx);
    let mut conn = client.get_multiplexed_async_connection_with_config(&config).await?;
    conn.subscribe(&c.channel).await?;
    Ok((conn, rx))
}

/// Publishes from the outbox and delivers what arrives, until the connection breaks
/// (`Err`) or the remote is stopped (`Ok`).
async fn serve(
    shared: &Shared,
    mut conn: MultiplexedConnection,
    mut pushes: UnboundedReceiver<PushInfo>,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), String> {
    loop {
        tokio::select! {
            push = pushes.recv() => match push {
                Some(p) => on_push(shared, p)?,
                None => return Err("the connection closed".into()),
            },
            () = shared.outbox_filled() => {
                let batch = shared.take_batch();
                let mut pipe = redis::pipe();
                for m in &batch {
                    pipe.publish(&shared.config.channel, m.as_ref()).ignore();
                }
                if let Err(e) = pipe.query_async::<()>(&mut conn).await {
                    shared.put_back(batch);
                    return Err(e.to_string());
                }
                shared.stats.sent.fetch_add(batch.len() as u64, std::sync::atomic::Ordering::Relaxed);
            }
            () = stopped(stop) => return Ok(()),
        }
    }
}

fn on_push(shared: &Shared, push: PushInfo) -> Result<(), String> {
    match push.kind {
        PushKind::Message => {
            if let Some(Value::BulkString(bytes)) = push.data.into_iter().nth(1) {
                shared.received(&bytes::Bytes::from(bytes));
            }
            Ok(())
        }
        PushKind::Disconnection => Err("the connection closed".into()),
        _ => Ok(()),
    }
}
