//! Writes the test vectors into the directory given as the first argument (default `test/vectors`).

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "test/vectors".into());
    std::fs::create_dir_all(&dir).expect("create the output directory");
    for (name, value) in quorumnet_interop::vectors::all() {
        let path = std::path::Path::new(&dir).join(name);
        let mut text = serde_json::to_string_pretty(&value).expect("json");
        text.push('\n');
        std::fs::write(&path, text).expect("write a vector file");
        println!("wrote {}", path.display());
    }
}
