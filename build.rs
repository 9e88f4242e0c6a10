//! Generates `include/tlsctx.h` from the C ABI's doc comments with cbindgen.
//!
//! The header is checked in; `make check-header` fails when a build changes it.

use std::env;
use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is valid");
    match cbindgen::generate_with_config(&crate_dir, config) {
        Ok(bindings) => {
            bindings.write_to_file(crate_dir.join("include").join("tlsctx.h"));
        }
        // A syntax error is reported by rustc itself with a better message; keep the old header.
        Err(err) => println!("cargo:warning=cbindgen could not generate include/tlsctx.h: {err}"),
    }
}
