//! Generates `include/tlsctx.h` from the C ABI's doc comments with cbindgen.
//!
//! The header is checked in; `make check-header` fails when a build changes it. The doc comments
//! are written for rustdoc; links in them are rewritten for C readers: [`tls_conn_free`] becomes
//! `tls_conn_free()`, [`tls_result::InvalidArgument`] becomes `TLS_RESULT_INVALID_ARGUMENT`, and a
//! type or constant keeps its bare name.

use std::collections::HashSet;
use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is valid");
    match cbindgen::generate_with_config(&crate_dir, config) {
        Ok(bindings) => {
            let mut header = Vec::new();
            bindings.write(&mut header);
            let header = String::from_utf8(header).expect("cbindgen writes UTF-8");
            let path = crate_dir.join("include").join("tlsctx.h");
            let header = c_links(&header);
            // Written only when it changed, so the file's time says when its content did.
            if fs::read_to_string(&path).ok().as_deref() != Some(header.as_str()) {
                fs::write(&path, header).expect("include/tlsctx.h is writable");
            }
        }
        // A syntax error is reported by rustc itself with a better message; keep the old header.
        Err(err) => println!("cargo:warning=cbindgen could not generate include/tlsctx.h: {err}"),
    }
}

/// Rewrites the rustdoc links of the header's comments as C names.
fn c_links(header: &str) -> String {
    let functions = declared_functions(header);
    let mut out = String::with_capacity(header.len());
    let mut rest = header;
    while let Some(start) = rest.find("[`") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("`]") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let target = &after[..end];
        out.push('`');
        match target.split_once("::") {
            // An enum variant, named as cbindgen names it: the enum's name, then the variant.
            Some((enumeration, variant)) => {
                out.push_str(&enumeration.to_ascii_uppercase());
                out.push('_');
                out.push_str(&screaming_snake(variant));
            }
            None if functions.contains(target) => {
                out.push_str(target);
                out.push_str("()");
            }
            None => out.push_str(target),
        }
        out.push('`');
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The functions the header declares: the name before `(` on a line outside comments.
fn declared_functions(header: &str) -> HashSet<&str> {
    header
        .lines()
        .filter(|line| !line.starts_with(' ') && !line.starts_with('/') && !line.starts_with('#'))
        .filter_map(|line| line.split_once('('))
        .filter_map(|(before, _)| before.split_whitespace().last())
        .map(|name| name.trim_start_matches('*'))
        .filter(|name| name.starts_with("tls_"))
        .collect()
}

/// `InvalidArgument` as `INVALID_ARGUMENT`.
fn screaming_snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_uppercase());
    }
    out
}
