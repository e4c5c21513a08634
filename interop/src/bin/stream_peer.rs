//! A commonware-stream 0.0.3 peer on 127.0.0.1 for the interop tests: one connection, as listener or
//! dialer, that echoes every message back (or, with `--send K`, sends K messages and checks the echoes).
//!
//! Keys come from seeds (`Ed25519::from_seed`), the namespace is used verbatim as the stream config's
//! (pass e.g. `interop_STREAM`, as p2p would). Events go to stdout as JSON lines:
//! `listening {addr}`, `connected {peer}`, `done {count}`, `verified {count}`, `error {error}`.
//! EOF on stdin ends the process, so a test runner that dies leaves nothing behind.

use commonware_cryptography::{Ed25519, Scheme};
use commonware_runtime::{tokio::Executor, Listener as _, Network as _, Runner as _};
use commonware_stream::public_key::{Config, Connection, IncomingConnection};
use commonware_stream::{Receiver as _, Sender as _};
use quorumnet_interop::events::{event, fail};
use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

struct Args {
    role: String,
    addr: SocketAddr,
    seed: u64,
    peer_seed: u64,
    namespace: Vec<u8>,
    max: usize,
    synchrony_ms: u64,
    age_ms: u64,
    timeout_ms: u64,
    count: Option<u64>,
    send: Option<u64>,
}

fn parse() -> Args {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        role: "listen".into(),
        addr: "127.0.0.1:0".parse().unwrap(),
        seed: 0,
        peer_seed: 1,
        namespace: b"interop_STREAM".to_vec(),
        max: (1 << 20) + 64,
        synchrony_ms: 5_000,
        age_ms: 10_000,
        timeout_ms: 5_000,
        count: None,
        send: None,
    };
    while let Some(flag) = it.next() {
        let v = it.next().unwrap_or_else(|| fail(&format!("{flag} needs a value")));
        let num = || v.parse::<u64>().unwrap_or_else(|_| fail(&format!("{flag}: not a number: {v}")));
        match flag.as_str() {
            "--role" => a.role = v.clone(),
            "--addr" => a.addr = v.parse().unwrap_or_else(|_| fail(&format!("bad address {v}"))),
            "--seed" => a.seed = num(),
            "--peer-seed" => a.peer_seed = num(),
            "--namespace" => a.namespace = v.clone().into_bytes(),
            "--max-message-size" => a.max = num() as usize,
            "--synchrony-bound-ms" => a.synchrony_ms = num(),
            "--max-handshake-age-ms" => a.age_ms = num(),
            "--handshake-timeout-ms" => a.timeout_ms = num(),
            "--count" => a.count = Some(num()),
            "--send" => a.send = Some(num()),
            _ => fail(&format!("unknown flag {flag}")),
        }
    }
    a
}


/// Message `j` of a `--send` run: sizes cycle through 0..70000, byte i = (i * 7 + j) % 256.
fn message(j: u64, max: usize) -> Vec<u8> {
    let len = ((j * 997) % 70_001) as usize;
    (0..len.min(max.saturating_sub(64))).map(|i| ((i as u64 * 7 + j) % 256) as u8).collect()
}

async fn check<R: commonware_stream::Receiver>(receiver: &mut R, j: u64, max: usize) {
    let got = receiver.receive().await.unwrap_or_else(|e| fail(&format!("{e:?}")));
    if got[..] != message(j, max)[..] {
        fail(&format!("echo {j} differs"));
    }
}

fn main() {
    let args = parse();
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        std::process::exit(0);
    });
    let (runner, context) = Executor::default();
    runner.start(async move {
        let config = Config {
            crypto: Ed25519::from_seed(args.seed),
            namespace: args.namespace.clone(),
            max_message_size: args.max,
            synchrony_bound: Duration::from_millis(args.synchrony_ms),
            max_handshake_age: Duration::from_millis(args.age_ms),
            handshake_timeout: Duration::from_millis(args.timeout_ms),
        };
        let expected = Ed25519::from_seed(args.peer_seed).public_key();
        let connection = if args.role == "listen" {
            let mut listener = context.bind(args.addr).await.unwrap_or_else(|e| fail(&format!("bind: {e:?}")));
            event(serde_json::json!({ "event": "listening", "addr": args.addr.to_string() }));
            let (_, sink, stream) = listener.accept().await.unwrap_or_else(|e| fail(&format!("accept: {e:?}")));
            let incoming = IncomingConnection::verify(&context, config, sink, stream)
                .await
                .unwrap_or_else(|e| fail(&format!("{e:?}")));
            if incoming.peer() != expected {
                fail("unexpected peer");
            }
            Connection::upgrade_listener(context.clone(), incoming).await.unwrap_or_else(|e| fail(&format!("{e:?}")))
        } else {
            let mut attempt = 0;
            let (sink, stream) = loop {
                match context.dial(args.addr).await {
                    Ok(pair) => break pair,
                    Err(e) if attempt >= 50 => fail(&format!("dial: {e:?}")),
                    Err(_) => {
                        attempt += 1;
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            };
            Connection::upgrade_dialer(context.clone(), config, sink, stream, expected)
                .await
                .unwrap_or_else(|e| fail(&format!("{e:?}")))
        };
        event(serde_json::json!({ "event": "connected", "peer": hex::encode(Ed25519::from_seed(args.peer_seed).public_key()) }));
        let (mut sender, mut receiver) = connection.split();
        if let Some(k) = args.send {
            // At most WINDOW messages ahead of the echoes, so neither side blocks on a full socket.
            const WINDOW: u64 = 4;
            let mut checked = 0u64;
            for j in 0..k {
                sender.send(&message(j, args.max)).await.unwrap_or_else(|e| fail(&format!("{e:?}")));
                while checked + WINDOW <= j {
                    check(&mut receiver, checked, args.max).await;
                    checked += 1;
                }
            }
            while checked < k {
                check(&mut receiver, checked, args.max).await;
                checked += 1;
            }
            event(serde_json::json!({ "event": "verified", "count": k }));
            return;
        }
        let mut n = 0u64;
        while args.count.map_or(true, |c| n < c) {
            match receiver.receive().await {
                Ok(msg) => {
                    sender.send(&msg).await.unwrap_or_else(|e| fail(&format!("{e:?}")));
                    n += 1;
                }
                Err(e) => {
                    if args.count.is_some() {
                        fail(&format!("{e:?}"));
                    }
                    break;
                }
            }
        }
        event(serde_json::json!({ "event": "done", "count": n }));
    });
}
