// Placeholder: replaced by the native build script (builds native/ with @napi-rs/cli when cargo is present).
process.exit(0)
