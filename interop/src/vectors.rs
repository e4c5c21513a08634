//! Test vectors from the published crates, one JSON document per group (PROTOCOL.md 10.2).
//!
//! # Design
//! Every value is computed by the real code at run time: the commonware crates' public API where it
//! exists (keys, signatures, `union_unique`), the crates' own dependencies at their pinned versions
//! where the commonware item is private (chacha20poly1305 for frames, prost for encodings, governor
//! for quotas, bitvec for bit vectors, zstd). Nothing reads the clock or the OS RNG, so the output is
//! identical on every run; `cargo test` checks the committed files against a fresh run.
//!
//! Bytes are lowercase hex; u64 values are decimal strings.

use bitvec::prelude::{BitVec, Lsb0};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::ChaCha20Poly1305;
use commonware_cryptography::{Bls12381, Ed25519, Scheme};
use commonware_utils::union_unique;
use curve25519_dalek_ng::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek_ng::edwards::CompressedEdwardsY;
use curve25519_dalek_ng::scalar::Scalar;
use governor::clock::{Clock, FakeRelativeClock};
use governor::{Quota, RateLimiter};
use prost::Message as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha512};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use crate::proto::{p2p, stream};

const SOURCE: &str = "commonware-p2p 0.0.25, commonware-stream 0.0.3, commonware-cryptography 0.0.14, \
commonware-utils 0.0.6; prost 0.13.2, chacha20poly1305 0.10.1, x25519-dalek 2.0.1, ed25519-consensus 2.1.0, \
zstd 0.13.2 (zstd-sys 2.0.13+zstd.1.5.6), governor 0.6.3, bitvec 1.0.1, rand 0.8.5 (see Cargo.lock)";
const NS: &[u8] = b"test_namespace";
const TS: u64 = 1_733_600_000_000;

fn h(b: impl AsRef<[u8]>) -> String {
    hex::encode(b)
}

fn doc(description: &str, cases: Vec<Value>) -> Value {
    json!({ "source": SOURCE, "description": description, "cases": cases })
}

/// Every vector file: (file name, document).
pub fn all() -> Vec<(&'static str, Value)> {
    vec![
        ("keys.json", keys()),
        ("union_unique.json", union_unique_cases()),
        ("handshake.json", handshake()),
        ("peer_record.json", peer_record()),
        ("nonces.json", nonces()),
        ("frames.json", frames()),
        ("protobuf.json", protobuf()),
        ("zstd.json", zstd_cases()),
        ("gcra.json", gcra()),
        ("zip215.json", zip215()),
    ]
}

fn keys() -> Value {
    let mut cases = Vec::new();
    let mut pks = Vec::new();
    for seed in 0u64..8 {
        let s = Ed25519::from_seed(seed);
        pks.push(s.public_key().to_vec());
        let back = <Ed25519 as Scheme>::from(s.private_key()).expect("round trip");
        assert_eq!(back.public_key(), s.public_key());
        cases.push(json!({ "scheme": "ed25519", "seed": seed.to_string(), "private": h(s.private_key()), "public": h(s.public_key()) }));
    }
    for seed in 0u64..4 {
        let s = Bls12381::from_seed(seed);
        let back = <Bls12381 as Scheme>::from(s.private_key()).expect("round trip");
        assert_eq!(back.public_key(), s.public_key());
        cases.push(json!({ "scheme": "bls12381", "seed": seed.to_string(), "private": h(s.private_key()), "public": h(s.public_key()) }));
    }
    let mut sorted = pks.clone();
    sorted.sort();
    let order: Vec<u64> = sorted.iter().map(|pk| pks.iter().position(|p| p == pk).unwrap() as u64).collect();
    let mut d = doc("Ed25519::from_seed(s) and Bls12381::from_seed(s): private and public keys; `from(private)` gives the same public key", cases);
    d["ed25519_sorted_seeds"] = json!(order);
    d
}

fn union_unique_cases() -> Value {
    let msg = b"message";
    let cases = [0usize, 9, 14, 21, 25, 127, 128, 256, 16384]
        .iter()
        .map(|&len| {
            let ns = vec![b'n'; len];
            let out = union_unique(&ns, msg);
            let prefix = &out[..out.len() - len - msg.len()];
            let mut c = json!({ "namespace_len": len, "namespace_byte": "6e", "msg": h(msg), "prefix": h(prefix), "total_len": out.len() });
            if len <= 256 {
                c["output"] = json!(h(&out));
            }
            c
        })
        .collect();
    doc("commonware_utils::union_unique(namespace, msg) for namespaces of `namespace_len` bytes of 0x6e", cases)
}

fn sign_case<S: Scheme>(signer: &mut S, ns: &[u8], payload: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let sig = signer.sign(ns, payload);
    assert!(S::verify(ns, payload, &signer.public_key(), &sig));
    (union_unique(ns, payload), sig.to_vec())
}

fn handshake() -> Value {
    let stream_ns = [NS, b"_STREAM"].concat();
    let recipient = Ed25519::from_seed(1).public_key();
    let ephemeral = [3u8; 32];
    let mut cases = Vec::new();
    for (scheme, ts) in [("ed25519", 0u64), ("ed25519", TS), ("bls12381", TS)] {
        let payload = [&recipient[..], &ephemeral[..], &ts.to_be_bytes()[..]].concat();
        let (signed, sig, sender) = if scheme == "ed25519" {
            let mut s = Ed25519::from_seed(0);
            let (signed, sig) = sign_case(&mut s, &stream_ns, &payload);
            (signed, sig, s.public_key().to_vec())
        } else {
            let mut s = Bls12381::from_seed(0);
            let (signed, sig) = sign_case(&mut s, &stream_ns, &payload);
            (signed, sig, s.public_key().to_vec())
        };
        let msg = stream::Handshake {
            recipient_public_key: recipient.to_vec(),
            ephemeral_public_key: ephemeral.to_vec(),
            timestamp: ts,
            signature: Some(stream::Signature { public_key: sender.clone(), signature: sig.clone() }),
        };
        cases.push(json!({
            "scheme": scheme, "sender_seed": "0", "sender_public": h(&sender), "recipient_public": h(&recipient),
            "ephemeral_public": h(ephemeral), "timestamp": ts.to_string(), "namespace": h(&stream_ns),
            "payload": h(&payload), "signed": h(&signed), "signature": h(&sig), "encoded": h(msg.encode_to_vec()),
        }));
    }
    doc("Handshake: sender from_seed(0), recipient from_seed(1); signed = union_unique(ns || \"_STREAM\", recipient || ephemeral || ts_be8); encoded with prost", cases)
}

fn socket_bytes(addr: &SocketAddr) -> Vec<u8> {
    let mut out = match addr {
        SocketAddr::V4(a) => a.ip().octets().to_vec(),
        SocketAddr::V6(a) => a.ip().octets().to_vec(),
    };
    out.extend_from_slice(&addr.port().to_be_bytes());
    out
}

fn peer_record() -> Value {
    let ip_ns = [NS, b"_TRACKER_IP"].concat();
    let mut signer = Ed25519::from_seed(2);
    let sockets: Vec<SocketAddr> = ["127.0.0.1:3000", "8.8.8.8:65535", "[2001:4860:4860::8888]:30303"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let mut cases = Vec::new();
    let mut peers_by_ts = Vec::new();
    for ts in [0u64, TS] {
        let mut peers = Vec::new();
        for addr in &sockets {
            let socket = socket_bytes(addr);
            let payload = [&socket[..], &ts.to_be_bytes()[..]].concat();
            let (signed, sig) = sign_case(&mut signer, &ip_ns, &payload);
            let peer = p2p::Peer {
                socket: socket.clone(),
                timestamp: ts,
                signature: Some(p2p::Signature { public_key: signer.public_key().to_vec(), signature: sig.clone() }),
            };
            cases.push(json!({
                "address": addr.to_string(), "timestamp": ts.to_string(), "signer_seed": "2", "signer_public": h(signer.public_key()),
                "namespace": h(&ip_ns), "socket": h(&socket), "signed": h(&signed), "signature": h(&sig), "encoded_peer": h(peer.encode_to_vec()),
            }));
            peers.push(peer);
        }
        peers_by_ts.push(peers);
    }
    let messages: Vec<Value> = [(1usize, TS), (3, TS)]
        .iter()
        .map(|&(n, ts)| {
            let peers = peers_by_ts[usize::from(ts == TS)][..n].to_vec();
            let m = p2p::Message { payload: Some(p2p::message::Payload::Peers(p2p::Peers { peers })) };
            json!({ "records": n, "timestamp": ts.to_string(), "encoded": h(m.encode_to_vec()) })
        })
        .collect();
    let mut d = doc("Peer records: signer from_seed(2); signed = union_unique(ns || \"_TRACKER_IP\", socket || ts_be8); Message{Peers} with the first 1 and 3 records at ts 1733600000000", cases);
    d["messages"] = json!(messages);
    d
}

fn nonce(dialer: bool, iter: u16, seq: u64) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[0] = if dialer { 0x80 } else { 0 };
    n[2..4].copy_from_slice(&iter.to_be_bytes());
    n[4..12].copy_from_slice(&seq.to_be_bytes());
    n
}

fn nonces() -> Value {
    let key = [0x42u8; 32];
    let aead = ChaCha20Poly1305::new_from_slice(&key).unwrap();
    let plain = b"quorumnet";
    let mut cases = Vec::new();
    for dialer in [true, false] {
        for (iter, seq) in [(0u16, 0u64), (0, 1), (0, u64::MAX), (1, 0), (65535, 123_456_789)] {
            let n = nonce(dialer, iter, seq);
            let sealed = aead.encrypt(n[..].into(), Payload { msg: plain, aad: &[] }).unwrap();
            let mut counter = [0u8; 10];
            counter[..2].copy_from_slice(&iter.to_be_bytes());
            counter[2..].copy_from_slice(&seq.to_be_bytes());
            cases.push(json!({ "dialer": dialer, "iter": iter, "seq": seq.to_string(), "counter": h(counter), "nonce": h(n), "sealed": h(sealed) }));
        }
    }
    let mut d = doc("Nonces (role || 00 || iter u16 BE || seq u64 BE) and ChaCha20-Poly1305 (empty AAD) of `plain` under `key` with each", cases);
    d["key"] = json!(h(key));
    d["plain"] = json!(h(plain));
    d["steps"] = json!([
        { "from": { "iter": 0, "seq": u64::MAX.to_string() }, "to": { "iter": 1, "seq": "0" } },
        { "from": { "iter": 0, "seq": "5" }, "to": { "iter": 0, "seq": "6" } },
        { "from": { "iter": 65535, "seq": u64::MAX.to_string() }, "to": "overflow" }
    ]);
    d
}

fn frame(aead: &ChaCha20Poly1305, n: [u8; 12], plain: &[u8]) -> Vec<u8> {
    let body = aead.encrypt(n[..].into(), Payload { msg: plain, aad: &[] }).unwrap();
    [&(body.len() as u32).to_be_bytes()[..], &body[..]].concat()
}

fn frames() -> Value {
    let secret_a = [0x11u8; 32];
    let secret_b = [0x22u8; 32];
    let public_a = x25519_dalek::x25519(secret_a, x25519_dalek::X25519_BASEPOINT_BYTES);
    let public_b = x25519_dalek::x25519(secret_b, x25519_dalek::X25519_BASEPOINT_BYTES);
    let key = x25519_dalek::x25519(secret_a, public_b);
    assert_eq!(key, x25519_dalek::x25519(secret_b, public_a));
    let aead = ChaCha20Poly1305::new_from_slice(&key).unwrap();
    let mut cases = Vec::new();
    for (seq, plain) in [(0u64, Vec::new()), (1, b"a".to_vec()), (2, vec![0u8; 1000])] {
        cases.push(json!({ "sender": "dialer", "seq": seq.to_string(), "plain": h(&plain), "frame": h(frame(&aead, nonce(true, 0, seq), &plain)) }));
    }
    cases.push(json!({ "sender": "dialee", "seq": "0", "plain": h(b"b"), "frame": h(frame(&aead, nonce(false, 0, 0), b"b")) }));
    let zero_key = x25519_dalek::x25519(secret_a, [0u8; 32]);
    assert_eq!(zero_key, [0u8; 32]);
    let zero_aead = ChaCha20Poly1305::new_from_slice(&zero_key).unwrap();
    let mut d = doc("Frames (u32 BE length || ciphertext || tag) under key = X25519(secret_a, public_b); dialer nonces carry 0x80", cases);
    d["secret_a"] = json!(h(secret_a));
    d["secret_b"] = json!(h(secret_b));
    d["public_a"] = json!(h(public_a));
    d["public_b"] = json!(h(public_b));
    d["key"] = json!(h(key));
    d["all_zero_peer"] = json!({
        "description": "X25519(secret_a, 32 zero bytes) is all zero and the reference accepts it; a dialer frame of \"z\" under that key",
        "shared": h(zero_key), "frame": h(frame(&zero_aead, nonce(true, 0, 0), b"z")),
    });
    d
}

fn bits(n: usize, set: &[usize]) -> Vec<u8> {
    let mut bv: BitVec<u8, Lsb0> = BitVec::repeat(false, n);
    for &i in set {
        bv.set(i, true);
    }
    bv.into_vec()
}

fn protobuf() -> Value {
    let mut cases = Vec::new();
    for (n, set) in [(1usize, vec![0usize]), (7, vec![0, 6]), (8, vec![1, 7]), (9, vec![8]), (16, vec![0, 15]), (25, vec![3, 24])] {
        for index in [0u64, 5, u64::MAX] {
            let b = bits(n, &set);
            let m = p2p::Message { payload: Some(p2p::message::Payload::BitVec(p2p::BitVec { index, bits: b.clone() })) };
            cases.push(json!({ "kind": "bit_vec", "n": n, "set": set, "index": index.to_string(), "bits": h(&b), "encoded": h(m.encode_to_vec()) }));
        }
    }
    for channel in [0u32, 1, 300, u32::MAX] {
        for msg in [&b""[..], &b"hi"[..]] {
            let m = p2p::Message { payload: Some(p2p::message::Payload::Data(p2p::Data { channel, message: msg.to_vec() })) };
            cases.push(json!({ "kind": "data", "channel": channel, "message": h(msg), "encoded": h(m.encode_to_vec()) }));
        }
    }
    let empty = p2p::Message { payload: None };
    cases.push(json!({ "kind": "none", "description": "no payload", "encoded": h(empty.encode_to_vec()) }));
    let unknown = hex::decode("220568656c6c6f").unwrap(); // field 4, bytes "hello"
    let decoded = p2p::Message::decode(&unknown[..]).expect("unknown fields are skipped");
    assert!(decoded.payload.is_none());
    cases.push(json!({ "kind": "none", "description": "only an unknown field 4: decodes with no payload", "encoded": h(&unknown) }));
    // Data with channel varint 2^32 + 7: prost truncates uint32 to the low 32 bits.
    let wide = hex::decode("1a09088780808010120168").unwrap();
    match p2p::Message::decode(&wide[..]).expect("decodes").payload {
        Some(p2p::message::Payload::Data(d)) => cases.push(json!({
            "kind": "data", "description": "channel varint 2^32 + 7 decodes truncated", "decode_only": true,
            "channel": d.channel, "message": h(&d.message), "encoded": h(&wide),
        })),
        other => panic!("unexpected {other:?}"),
    }
    for bad in ["1a", "0a05", "08ffffffffffffffffffff01", "0b"] {
        let raw = hex::decode(bad).unwrap();
        assert!(p2p::Message::decode(&raw[..]).is_err());
        cases.push(json!({ "kind": "invalid", "encoded": bad }));
    }
    doc("wire::Message encodings by prost 0.13.2 (bit vectors from bitvec BitVec<u8, Lsb0>); `invalid` cases fail to decode", cases)
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 31) % 251) as u8).collect()
}

fn zstd_cases() -> Value {
    let mut cases = Vec::new();
    let hello = zstd::bulk::compress(b"hello world", 3).unwrap();
    cases.push(json!({ "input": "utf8:hello world", "level": 3, "compressed": h(&hello) }));
    for level in [1, 3, 19] {
        let c = zstd::bulk::compress(&pattern(65536), level).unwrap();
        assert_eq!(zstd::bulk::decompress(&c, 65536).unwrap(), pattern(65536));
        assert!(zstd::bulk::decompress(&c, 65535).is_err());
        cases.push(json!({ "input": "pattern:65536", "level": level, "compressed": h(&c) }));
    }
    let mut d = doc("zstd::bulk::compress outputs; pattern:N is byte i = (i * 31) % 251. Each decompresses with capacity = its length, and fails with one byte less", cases);
    d["caps"] = json!([
        { "compressed_case": 0, "capacity": 11, "ok": zstd::bulk::decompress(&hello, 11).is_ok() },
        { "compressed_case": 0, "capacity": 10, "ok": zstd::bulk::decompress(&hello, 10).is_ok() },
    ]);
    d
}

fn gcra() -> Value {
    let quotas = [
        ("per_second(2)", Quota::per_second(NonZeroU32::new(2).unwrap()), 500_000_000u64, 2u32),
        ("per_second(5)", Quota::per_second(NonZeroU32::new(5).unwrap()), 200_000_000, 5),
        ("per_minute(1)", Quota::per_minute(NonZeroU32::new(1).unwrap()), 60_000_000_000, 1),
    ];
    let mut cases = Vec::new();
    for (name, quota, period, burst) in quotas {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::direct_with_clock(quota, &clock);
        let mut now = 0u64;
        let mut steps = Vec::new();
        for i in 0u64..40 {
            let dt = match i % 5 {
                0 | 1 => 0,
                2 => period / 3,
                3 => period / 10 + 7,
                _ => period * (i % 3),
            };
            clock.advance(Duration::from_nanos(dt));
            now += dt;
            let (allowed, wait) = match limiter.check() {
                Ok(()) => (true, 0u64),
                Err(not_until) => (false, not_until.wait_time_from(clock.now()).as_nanos() as u64),
            };
            steps.push(json!({ "time_ns": now.to_string(), "allowed": allowed, "wait_ns": wait.to_string() }));
        }
        cases.push(json!({ "quota": name, "period_ns": period.to_string(), "burst": burst, "steps": steps }));
    }
    doc("governor 0.6.3 direct limiter on a FakeRelativeClock: each step advances the clock to time_ns (from the limiter's creation) and checks once", cases)
}

fn zip215() -> Value {
    let ns = b"zip215";
    let msg = b"edge";
    let identity = CompressedEdwardsY(hex32("0100000000000000000000000000000000000000000000000000000000000000"));
    // y = p + 1: a non-canonical encoding of the identity's y = 1.
    let noncanonical_identity = hex32("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    let zero_s = [0u8; 32];
    let sig = |r: &[u8; 32], s: &[u8; 32]| [&r[..], &s[..]].concat();

    let mut cases = Vec::new();
    let mut push = |description: &str, pk: &[u8], signature: Vec<u8>| {
        let pk_bytes = bytes::Bytes::copy_from_slice(pk);
        let sig_bytes = bytes::Bytes::from(signature.clone());
        cases.push(json!({
            "description": description, "namespace": h(ns), "msg": h(msg), "public": h(pk), "signature": h(&signature),
            "validate": Ed25519::validate(&pk_bytes), "verify": Ed25519::verify(ns, msg, &pk_bytes, &sig_bytes),
        }));
    };
    push("small-order A (the identity), R = identity, S = 0: [8](R - [S]B + [k]A) = identity", identity.as_bytes(), sig(identity.as_bytes(), &zero_s));
    push("non-canonical A (identity with y = p + 1), R = identity, S = 0", &noncanonical_identity, sig(identity.as_bytes(), &zero_s));
    push("non-canonical R (identity with y = p + 1), A = identity, S = 0", identity.as_bytes(), sig(&noncanonical_identity, &zero_s));

    // A real key, for the last two cases.
    let signer = Ed25519::from_seed(3);
    let seed: [u8; 32] = signer.private_key()[..].try_into().unwrap();
    let expanded = Sha512::digest(seed);
    let mut a_bytes: [u8; 32] = expanded[..32].try_into().unwrap();
    a_bytes[0] &= 248;
    a_bytes[31] &= 127;
    a_bytes[31] |= 64;
    let a = Scalar::from_bits(a_bytes);
    let pk: [u8; 32] = signer.public_key()[..].try_into().unwrap();
    let payload = union_unique(ns, msg);

    // S >= l: a valid signature with l added to S.
    let mut good = signer.clone();
    let good_sig = good.sign(ns, msg);
    let mut s_plus_l = [0u8; 32];
    let l = hex32("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
    let mut carry = 0u16;
    for i in 0..32 {
        let v = good_sig[32 + i] as u16 + l[i] as u16 + carry;
        s_plus_l[i] = v as u8;
        carry = v >> 8;
    }
    push("S >= l: a valid signature with the group order added to S (ZIP-215 requires canonical S)", &pk, sig(&good_sig[..32].try_into().unwrap(), &s_plus_l));

    // Only the cofactored equation accepts: R = [r]B + T with T of order 8, S = r + k a.
    let torsion = CompressedEdwardsY(hex32("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"))
        .decompress()
        .expect("a point of order 8");
    let r = Scalar::from_bytes_mod_order_wide(&Sha512::digest(b"quorumnet zip215 nonce").into());
    let big_r = (ED25519_BASEPOINT_POINT * r + torsion).compress();
    let k = Scalar::from_bytes_mod_order_wide(&Sha512::new().chain_update(big_r.as_bytes()).chain_update(pk).chain_update(&payload).finalize().into());
    let s = r + k * a;
    push("valid only under the cofactored equation: R = [r]B + T (T of order 8), S = r + k a", &pk, sig(big_r.as_bytes(), s.as_bytes()));
    push("control: an ordinary valid signature", &pk, good_sig.to_vec());

    doc("Ed25519::validate and Ed25519::verify (ed25519-consensus, ZIP-215) on hostile encodings; signed bytes are union_unique(namespace, msg)", cases)
}

fn hex32(s: &str) -> [u8; 32] {
    hex::decode(s).unwrap().try_into().unwrap()
}

#[cfg(test)]
mod tests {
    /// The committed vectors equal a fresh run of the pinned crates.
    #[test]
    fn committed_vectors_match_the_crates() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../test/vectors");
        for (name, value) in super::all() {
            let committed = std::fs::read_to_string(dir.join(name)).unwrap_or_else(|_| panic!("{name} is missing"));
            let committed: serde_json::Value = serde_json::from_str(&committed).unwrap();
            assert_eq!(committed, value, "{name} differs from a fresh run (regenerate with `npm run vectors`)");
        }
    }
}
