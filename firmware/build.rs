use std::{env, fs, path::PathBuf};

fn main() {
    // Put the configuration's memory map where cortex-m-rt's link.x can
    // INCLUDE it as memory.x: the small part's by default, the STM32F407's
    // with feature `f407`.
    let memory = if env::var_os("CARGO_FEATURE_F407").is_some() {
        "memory-f407.x"
    } else {
        "memory-small.x"
    };
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::copy(memory, out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    // From build.rs, not config rustflags: a CI-wide RUSTFLAGS would replace those.
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    // The firmware names its target in the RESULT line.
    println!(
        "cargo:rustc-env=FW_TARGET={}",
        env::var("TARGET").expect("TARGET")
    );
    println!("cargo:rerun-if-changed=memory-small.x");
    println!("cargo:rerun-if-changed=memory-f407.x");
    println!("cargo:rerun-if-changed=build.rs");
}
