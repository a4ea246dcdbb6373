//! Fixes the trainer's shapes at build time. A C user declares them in the
//! environment of the build (defaults: the firmware's `(a + b) mod 23` model):
//!
//! ```text
//! EGD_FFI_IN=46 EGD_FFI_HIDDEN=48 EGD_FFI_OUT=23 EGD_FFI_ACTIVE=2 cargo build --release
//! ```
//! `EGD_FFI_ACTIVE` is the number of active indices per sparse (multi-hot)
//! sample. The values land in `$OUT_DIR/shape.rs` as one `egd_ffi_shape!`
//! invocation.
use std::{env, fs, path::PathBuf};

fn get(name: &str, default: usize) -> usize {
    println!("cargo:rerun-if-env-changed={name}");
    match env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a positive integer")),
        Err(_) => default,
    }
}

fn main() {
    let input = get("EGD_FFI_IN", 46);
    let hidden = get("EGD_FFI_HIDDEN", 48);
    let out = get("EGD_FFI_OUT", 23);
    let active = get("EGD_FFI_ACTIVE", 2);
    assert!(
        input > 0 && hidden > 0 && out > 0 && active > 0,
        "EGD_FFI_* shapes must be positive"
    );
    let dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::write(
        dir.join("shape.rs"),
        format!(
            "egd_ffi_shape!(in = {input}, hidden = {hidden}, out = {out}, active = {active});\n"
        ),
    )
    .expect("write shape.rs");
    println!("cargo:rerun-if-changed=build.rs");
}
