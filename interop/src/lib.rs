//! quorumnet's interop crate: facts about the wire protocol, produced by the published
//! commonware 0.0.25-era crates (pinned with `=` in Cargo.toml, lockfile committed).
//!
//! # Design
//! `vectors` (src/bin/vectors.rs) prints JSON test vectors that the TypeScript tests replay against
//! both backends. The protobuf types are compiled from our own .proto files (proto/) with the same
//! prost-build release the crates use, since the crates keep theirs private.
//!
//! # Not provided
//! A live reference peer (it arrives with the stream and network layers).

pub mod proto {
    pub mod stream {
        include!(concat!(env!("OUT_DIR"), "/stream.rs"));
    }
    pub mod p2p {
        include!(concat!(env!("OUT_DIR"), "/p2p.rs"));
    }
}

pub mod vectors;
