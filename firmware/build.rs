use std::{env, fs, path::PathBuf};

fn main() {
    // Put memory.x where cortex-m-rt's link.x can INCLUDE it.
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    // From build.rs, not config rustflags: a CI-wide RUSTFLAGS would replace those.
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    // The firmware names its target in the RESULT line.
    println!(
        "cargo:rustc-env=FW_TARGET={}",
        env::var("TARGET").expect("TARGET")
    );
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=build.rs");
}
