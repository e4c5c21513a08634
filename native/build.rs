fn main() {
    // Node links the addon's napi symbols at load time; only the addon build needs the setup.
    if std::env::var_os("CARGO_FEATURE_NODE").is_some() {
        napi_build::setup();
    }
}
