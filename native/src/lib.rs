//! quorumnet's native addon: the hot paths behind the `Binding` interface of `src/native/binding.ts`.
//!
//! # Design
//! The napi glue lives in `glue.rs` (feature `node`, on by default); the logic lives in one module per
//! concern, usable without Node (the cargo-fuzz targets in `fuzz/` build with `default-features = false`). Calls cross the boundary
//! once per batch (all frames of a flush, all complete frames of a chunk). Keys and nonce counters stay
//! inside Rust objects. Caller bugs throw `Error("ERR_CODE: detail")`; failures caused by remote input
//! (bad tag, oversize prefix, invalid zstd, a bad signature) are returned as data.
//!
//! # Not provided
//! Async work beyond sealing and opening large batches (`sealPartsAsync`, `openInPlaceAsync`, on the
//! libuv thread pool): every other function is synchronous. The stream layer uses the async pair only on
//! real sockets, never on the deterministic runtime.

#![deny(clippy::all)]

pub mod bitvec;
pub mod cpu;
pub mod dh;
pub mod frame;
pub mod quota;
pub mod sign;
pub mod sockq;
pub mod zstd;

#[cfg(feature = "node")]
mod glue;
