fn main() {
    // The target triple, reported by `addonInfo()` (quorumnet doctor).
    println!("cargo:rustc-env=QUORUMNET_TARGET={}", std::env::var("TARGET").unwrap_or_default());
    // Node links the addon's napi symbols at load time; only the addon build needs the setup.
    if std::env::var_os("CARGO_FEATURE_NODE").is_some() {
        napi_build::setup();
    }
}
