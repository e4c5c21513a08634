//! quorumnet's interop crate: facts about the wire protocol, produced by the published
//! commonware 0.0.25-era crates (pinned with `=` in Cargo.toml, lockfile committed).
//!
//! # Design
//! `vectors` (src/bin/vectors.rs) prints JSON test vectors that the TypeScript tests replay against
//! both backends; `stream_peer` and `p2p_node` are reference peers (commonware-stream 0.0.3 and
//! commonware-p2p 0.0.25) driven over JSON lines by the interop tests. The protobuf types are compiled from our own .proto files (proto/) with the same
//! prost-build release the crates use, since the crates keep theirs private.
//!
//! # Not provided
//! Anything beyond the reference's own behaviour: the peers in src/bin/ only drive the published crates.

pub mod proto {
    pub mod stream {
        include!(concat!(env!("OUT_DIR"), "/stream.rs"));
    }
    pub mod p2p {
        include!(concat!(env!("OUT_DIR"), "/p2p.rs"));
    }
}

pub mod events;
pub mod vectors;
