//! Compiles our own .proto files (written from PROTOCOL.md 2.1 and 4.1) with the prost-build release
//! the reference used, so encodings come from the same encoder the crates generate.
fn main() {
    println!("cargo:rerun-if-changed=proto");
    prost_build::compile_protos(&["proto/stream.proto", "proto/p2p.proto"], &["proto"]).expect("protoc");
}
