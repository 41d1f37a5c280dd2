//! Embeds every `locales/*.json` file, so that adding a language is adding one file.
use std::{env, fs, path::Path};

fn main() {
    println!("cargo::rerun-if-changed=locales");
    let mut tags: Vec<String> = fs::read_dir("locales")
        .expect("locales/ exists")
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".json").map(str::to_owned))
        .collect();
    tags.sort();
    let dir = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("locales");
    let entries: String = tags
        .iter()
        .map(|t| format!("    ({t:?}, include_str!({:?})),\n", dir.join(format!("{t}.json")).display().to_string()))
        .collect();
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("locales.rs");
    fs::write(out, format!("pub static LOCALE_FILES: &[(&str, &str)] = &[\n{entries}];\n")).unwrap();
}
