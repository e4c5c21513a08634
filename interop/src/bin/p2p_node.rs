//! A commonware-p2p 0.0.25 `authenticated` node on loopback for the interop tests, driven by JSON lines.
//!
//! Flags: `--seed N` (key: Ed25519::from_seed), `--namespace S`, `--listen ip:port`,
//! `--bootstrapper SEED@ip:port` (repeatable), `--peer-set INDEX:SEED,SEED,...` (repeatable),
//! `--max-message-size N`, `--channel ID:RATE_PER_S:BACKLOG:LEVEL|none` (repeatable), `--tcp-nodelay
//! true|false` (the runtime's `tcp_nodelay`; unset leaves Nagle's algorithm on). Timing is the
//! reference's test() column (gossip and dial every second, generous rates), private IPs allowed.
//! Stdout events: `ready`, `recv {channel, from, data_hex}`, `sent {req, recipients}`, `send_error`.
//! Stdin commands: `send {req, channel, to: "all" | [pkhex], priority, data_hex, until?}`,
//! `wait_metric {req, prefix, min}` (reports `metric {line, value}`), `exit`; EOF exits.
//!
//! Benchmark mode (bench/e2e), for a channel given with `--bench ID:sink|echo|ping`: its messages are not
//! printed; `sink` counts them, `echo` sends each back to its sender, `ping` times each reply and sends
//! the next request. Commands: `bench_flood {req, channel, to, size, until}` (send `size`-byte messages
//! back to back until `bench_stop`, once one reached `until` peers; reports `bench_started`),
//! `bench_ping {req, channel, to, size, until}` (the first request; reports `bench_started`),
//! `bench_mark {req}` (reports `bench_mark {t_ms, count, bytes, latencies_us}`: counts since the start,
//! round trips since the previous mark), `bench_stop {req}` (reports `bench_stopped`).

use bytes::Bytes;
use commonware_cryptography::{Ed25519, Scheme};
use commonware_p2p::authenticated::{Config, Network};
use commonware_p2p::{Receiver as _, Recipients, Sender as _};
use commonware_runtime::{tokio::Executor, Runner as _, Spawner as _};
use futures::{channel::mpsc, StreamExt};
use governor::Quota;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use quorumnet_interop::events::{event, fail};
use std::io::BufRead;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};


fn per_second(n: u32) -> Quota {
    Quota::per_second(NonZeroU32::new(n).unwrap())
}

struct ChannelArg {
    id: u32,
    rate: u32,
    backlog: usize,
    level: Option<u8>,
}

/// What a `--bench` channel does with its messages.
#[derive(Clone, Copy, PartialEq)]
enum BenchMode {
    Sink,
    Echo,
    Ping,
}

/// Counters of the benchmark mode, shared by the receivers and the command loop.
struct Bench {
    start: Instant,
    count: AtomicU64,
    bytes: AtomicU64,
    stop: AtomicBool,
    /// Round trips (us) since the last mark, and when the outstanding request left.
    latencies: Mutex<Vec<f64>>,
    sent_at: Mutex<Instant>,
}

fn recipients_of(to: &serde_json::Value) -> Recipients {
    match to {
        serde_json::Value::Array(keys) => Recipients::Some(keys.iter().filter_map(|k| hex::decode(k.as_str()?).ok()).map(Bytes::from).collect()),
        _ => Recipients::All,
    }
}

fn main() {
    let mut seed = 0u64;
    let mut namespace = b"interop".to_vec();
    let mut listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut bootstrappers = Vec::new();
    let mut sets: Vec<(u64, Vec<u64>)> = Vec::new();
    let mut max_message_size = 1usize << 20;
    let mut channels = Vec::new();
    let mut bench_modes: HashMap<u32, BenchMode> = HashMap::new();
    let mut tcp_nodelay = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().unwrap_or_else(|| fail(&format!("{flag} needs a value")));
        let num = |s: &str| s.parse::<u64>().unwrap_or_else(|_| fail(&format!("{flag}: not a number: {s}")));
        match flag.as_str() {
            "--seed" => seed = num(&v),
            "--namespace" => namespace = v.into_bytes(),
            "--listen" => listen = v.parse().unwrap_or_else(|_| fail("bad --listen")),
            "--bootstrapper" => {
                let (s, a) = v.split_once('@').unwrap_or_else(|| fail("--bootstrapper SEED@ip:port"));
                bootstrappers.push((Ed25519::from_seed(num(s)).public_key(), a.parse().unwrap_or_else(|_| fail("bad bootstrapper address"))));
            }
            "--peer-set" => {
                let (i, seeds) = v.split_once(':').unwrap_or_else(|| fail("--peer-set INDEX:SEED,..."));
                sets.push((num(i), seeds.split(',').map(num).collect()));
            }
            "--max-message-size" => max_message_size = num(&v) as usize,
            "--channel" => {
                let p: Vec<&str> = v.split(':').collect();
                if p.len() != 4 {
                    fail("--channel ID:RATE:BACKLOG:LEVEL|none");
                }
                channels.push(ChannelArg {
                    id: num(p[0]) as u32,
                    rate: num(p[1]) as u32,
                    backlog: num(p[2]) as usize,
                    level: if p[3] == "none" { None } else { Some(num(p[3]) as u8) },
                });
            }
            "--tcp-nodelay" => tcp_nodelay = Some(v.parse::<bool>().unwrap_or_else(|_| fail("--tcp-nodelay true|false"))),
            "--bench" => {
                let (id, mode) = v.split_once(':').unwrap_or_else(|| fail("--bench ID:sink|echo|ping"));
                let mode = match mode {
                    "sink" => BenchMode::Sink,
                    "echo" => BenchMode::Echo,
                    "ping" => BenchMode::Ping,
                    _ => fail("--bench ID:sink|echo|ping"),
                };
                bench_modes.insert(num(id) as u32, mode);
            }
            _ => fail(&format!("unknown flag {flag}")),
        }
    }

    // Commands from stdin, handed to the async side; EOF exits the process.
    let (tx, mut rx) = mpsc::unbounded::<serde_json::Value>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let Ok(cmd) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
            if cmd["cmd"] == "exit" || tx.unbounded_send(cmd).is_err() {
                break;
            }
        }
        std::process::exit(0);
    });

    let (runner, context) = Executor::init(commonware_runtime::tokio::Config { tcp_nodelay, ..Default::default() });
    runner.start(async move {
        let signer = Ed25519::from_seed(seed);
        let registry = Arc::new(Mutex::new(Registry::default()));
        let metrics = registry.clone();
        let mut cfg = Config::aggressive(signer.clone(), &namespace, registry, listen, bootstrappers, max_message_size);
        // The reference's test() column (not published): fast timing for local clusters.
        cfg.allowed_connection_rate_per_peer = per_second(1024);
        cfg.allowed_incoming_connection_rate = per_second(1024);
        cfg.dial_frequency = Duration::from_secs(1);
        cfg.dial_rate = per_second(1024);
        cfg.gossip_bit_vec_frequency = Duration::from_secs(1);
        let (mut network, mut oracle) = Network::new(context.clone(), cfg);
        for (index, seeds) in &sets {
            oracle.register(*index, seeds.iter().map(|s| Ed25519::from_seed(*s).public_key()).collect()).await;
        }
        let mut senders = HashMap::new();
        let bench = Arc::new(Bench {
            start: Instant::now(),
            count: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            latencies: Mutex::new(Vec::new()),
            sent_at: Mutex::new(Instant::now()),
        });
        for c in &channels {
            let (sender, mut receiver) = network.register(c.id, per_second(c.rate), c.backlog, c.level);
            if let Some(&mode) = bench_modes.get(&c.id) {
                let mut reply = sender.clone();
                let bench = bench.clone();
                context.spawn("bench_receiver", async move {
                    while let Ok((from, msg)) = receiver.recv().await {
                        bench.count.fetch_add(1, Ordering::Relaxed);
                        bench.bytes.fetch_add(msg.len() as u64, Ordering::Relaxed);
                        match mode {
                            BenchMode::Sink => {}
                            BenchMode::Echo => {
                                reply.send(Recipients::One(from), msg, false).await.ok();
                            }
                            BenchMode::Ping => {
                                let now = Instant::now();
                                let rtt = now.duration_since(*bench.sent_at.lock().unwrap());
                                bench.latencies.lock().unwrap().push(rtt.as_secs_f64() * 1e6);
                                if bench.stop.load(Ordering::Relaxed) {
                                    continue;
                                }
                                *bench.sent_at.lock().unwrap() = now;
                                reply.send(Recipients::One(from), msg, false).await.ok();
                            }
                        }
                    }
                });
                senders.insert(c.id, sender);
                continue;
            }
            senders.insert(c.id, sender);
            let id = c.id;
            context.spawn("receiver", async move {
                loop {
                    match receiver.recv().await {
                        Ok((from, msg)) => event(serde_json::json!({ "event": "recv", "channel": id, "from": hex::encode(&from), "data_hex": hex::encode(&msg) })),
                        Err(e) => event(serde_json::json!({ "event": "recv_error", "channel": id, "error": format!("{e:?}") })),
                    }
                }
            });
        }
        context.spawn("network", network.run());
        event(serde_json::json!({ "event": "ready", "public_key": hex::encode(signer.public_key()), "listen": listen.to_string() }));
        while let Some(cmd) = rx.next().await {
            if cmd["cmd"] == "wait_metric" {
                // Poll the registry every 100 ms (bounded to 60 s) until the first line starting with
                // `prefix` has a value >= `min`; report the line.
                let prefix = cmd["prefix"].as_str().unwrap_or("").to_string();
                let min = cmd["min"].as_f64().unwrap_or(0.0);
                let mut found = (String::new(), f64::NAN);
                for _ in 0..600 {
                    let mut text = String::new();
                    prometheus_client::encoding::text::encode(&mut text, &metrics.lock().unwrap()).ok();
                    if let Some(line) = text.lines().find(|l| l.starts_with(&prefix)) {
                        let value = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
                        found = (line.to_string(), value);
                        if value >= min {
                            break;
                        }
                    }
                    commonware_runtime::Clock::sleep(&context, Duration::from_millis(100)).await;
                }
                event(serde_json::json!({ "event": "metric", "req": cmd["req"].clone(), "line": found.0, "value": found.1 }));
                continue;
            }
            if let Some(bench_cmd) = cmd["cmd"].as_str().and_then(|c| c.strip_prefix("bench_")) {
                let req = cmd["req"].clone();
                match bench_cmd {
                    "mark" => {
                        let latencies = std::mem::take(&mut *bench.latencies.lock().unwrap());
                        event(serde_json::json!({
                            "event": "bench_mark", "req": req,
                            "t_ms": bench.start.elapsed().as_secs_f64() * 1e3,
                            "count": bench.count.load(Ordering::Relaxed),
                            "bytes": bench.bytes.load(Ordering::Relaxed),
                            "latencies_us": latencies,
                        }));
                    }
                    "stop" => {
                        bench.stop.store(true, Ordering::Relaxed);
                        event(serde_json::json!({ "event": "bench_stopped", "req": req }));
                    }
                    "flood" | "ping" => {
                        let channel = cmd["channel"].as_u64().unwrap_or(0) as u32;
                        let Some(sender) = senders.get(&channel) else {
                            event(serde_json::json!({ "event": "send_error", "req": req, "error": "unknown channel" }));
                            continue;
                        };
                        let mut sender = sender.clone();
                        let recipients = recipients_of(&cmd["to"]);
                        let msg = Bytes::from(vec![7u8; cmd["size"].as_u64().unwrap_or(0) as usize]);
                        let until = cmd["until"].as_u64().unwrap_or(1) as usize;
                        let flood = bench_cmd == "flood";
                        let bench = bench.clone();
                        let ctx = context.clone();
                        context.spawn("bench_sender", async move {
                            // Wait (resending every 100 ms, at most 60 s) until one message reached `until` peers.
                            for _ in 0..600 {
                                *bench.sent_at.lock().unwrap() = Instant::now();
                                match sender.send(recipients.clone(), msg.clone(), false).await {
                                    Ok(sent) if sent.len() >= until => break,
                                    Ok(_) => commonware_runtime::Clock::sleep(&ctx, Duration::from_millis(100)).await,
                                    Err(e) => fail(&format!("bench send: {e:?}")),
                                }
                            }
                            event(serde_json::json!({ "event": "bench_started", "req": req }));
                            while flood && !bench.stop.load(Ordering::Relaxed) {
                                if let Err(e) = sender.send(recipients.clone(), msg.clone(), false).await {
                                    fail(&format!("bench send: {e:?}"));
                                }
                            }
                        });
                    }
                    _ => event(serde_json::json!({ "event": "send_error", "req": req, "error": "unknown bench command" })),
                }
                continue;
            }
            if cmd["cmd"] != "send" {
                continue;
            }
            let req = cmd["req"].clone();
            let channel = cmd["channel"].as_u64().unwrap_or(0) as u32;
            let data = hex::decode(cmd["data_hex"].as_str().unwrap_or("")).unwrap_or_default();
            let recipients = match &cmd["to"] {
                serde_json::Value::Array(keys) => {
                    Recipients::Some(keys.iter().filter_map(|k| hex::decode(k.as_str()?).ok()).map(Bytes::from).collect())
                }
                _ => Recipients::All,
            };
            let Some(sender) = senders.get_mut(&channel) else {
                event(serde_json::json!({ "event": "send_error", "req": req, "error": "unknown channel" }));
                continue;
            };
            // With `until: N`, resend every 100 ms until N peers took the message (bounded to 60 s):
            // the crate's own tests wait for connectivity this way.
            let until = cmd["until"].as_u64().unwrap_or(0) as usize;
            let priority = cmd["priority"].as_bool().unwrap_or(false);
            let mut tries = 0;
            loop {
                match sender.send(recipients.clone(), Bytes::from(data.clone()), priority).await {
                    Ok(sent) if sent.len() >= until || tries >= 600 => {
                        event(serde_json::json!({ "event": "sent", "req": req, "recipients": sent.iter().map(hex::encode).collect::<Vec<_>>() }));
                        break;
                    }
                    Ok(_) => {
                        tries += 1;
                        commonware_runtime::Clock::sleep(&context, Duration::from_millis(100)).await;
                    }
                    Err(e) => {
                        event(serde_json::json!({ "event": "send_error", "req": req, "error": format!("{e:?}") }));
                        break;
                    }
                }
            }
        }
    });
}
