//! The configuration builder of the C ABI.

use std::ffi::c_char;

use zeroize::Zeroizing;

use super::{boundary, bytes_arg, str_arg, tls_result, write_out, Failure};
use crate::config::{ClientAuth, Role, Source, TlsConfig, Versions};

/// A configuration under construction: the files and settings a context is loaded from.
///
/// Created by [`tls_config_new`], freed by [`tls_config_free`]. Loading a context or creating a
/// reloading context copies it, so it can be freed or changed right after.
pub struct tls_config(pub(crate) TlsConfig);

/// Which side of the handshake a configuration is for.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum tls_role {
    /// Accepts connections; needs a certificate chain and a private key.
    Server = 0,
    /// Opens connections; verifies the server against its trust bundle.
    Client = 1,
}

/// How a server treats client certificates.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum tls_client_auth {
    /// No client certificate is requested.
    None = 0,
    /// Requested, and verified against the trust bundle when presented.
    Optional = 1,
    /// Required and verified against the trust bundle.
    Require = 2,
}

/// TLS 1.2 bit for [`tls_config_set_versions`].
pub const TLS_VERSION_TLS12: u32 = 1;
/// TLS 1.3 bit for [`tls_config_set_versions`].
pub const TLS_VERSION_TLS13: u32 = 2;

/// Creates an empty configuration for `role`, a [`tls_role`] value.
///
/// On success `*config_out` receives a configuration owned by the caller, to be freed with
/// [`tls_config_free`]. `config_out` must not be NULL.
///
/// # Safety
///
/// `config_out` is a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn tls_config_new(role: u32, config_out: *mut *mut tls_config) -> tls_result {
    boundary(|| {
        let config = match role {
            r if r == tls_role::Server as u32 => TlsConfig::server(),
            r if r == tls_role::Client as u32 => TlsConfig::client(),
            other => {
                return Err(Failure::new(
                    tls_result::InvalidArgument,
                    format!("role {other} is neither TLS_ROLE_SERVER nor TLS_ROLE_CLIENT"),
                ))
            }
        };
        if config_out.is_null() {
            return Err(Failure::null("config_out"));
        }
        let config = Box::into_raw(Box::new(tls_config(config)));
        // SAFETY: checked non-NULL; writable by the caller's promise.
        unsafe { write_out(config_out, config, "config_out") }
    })
}

/// Frees a configuration. NULL is accepted and ignored. Contexts already loaded from it are not
/// affected.
///
/// # Safety
///
/// `config` is NULL or a pointer from [`tls_config_new`] not freed yet.
#[no_mangle]
pub unsafe extern "C" fn tls_config_free(config: *mut tls_config) {
    boundary(|| {
        if !config.is_null() {
            // SAFETY: the caller passes a pointer from tls_config_new, freed only here, once.
            drop(unsafe { Box::from_raw(config) });
        }
        Ok(())
    });
}

/// Borrows the configuration behind a non-NULL pointer.
///
/// # Safety
///
/// `config` is NULL or a live pointer from [`tls_config_new`], not used by another thread.
unsafe fn config_mut<'a>(config: *mut tls_config) -> Result<&'a mut TlsConfig, Failure> {
    // SAFETY: the caller's promise; as_mut turns NULL into None.
    unsafe { config.as_mut() }
        .map(|config| &mut config.0)
        .ok_or_else(|| Failure::null("config"))
}

/// Sets the PEM file with the certificate chain, leaf first. The path is copied; the file is read
/// when a context is loaded.
///
/// # Safety
///
/// `config` is a live configuration; `path` a NUL-terminated UTF-8 string.
#[no_mangle]
pub unsafe extern "C" fn tls_config_set_cert_chain(
    config: *mut tls_config,
    path: *const c_char,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promises.
        let (config, path) = unsafe { (config_mut(config)?, str_arg(path, "path")?) };
        config.cert_chain = Some(path.into());
        Ok(())
    })
}

/// Sets the PEM file with the private key (PKCS#8, PKCS#1 RSA or SEC1 EC). The path is copied.
///
/// # Safety
///
/// `config` is a live configuration; `path` a NUL-terminated UTF-8 string.
#[no_mangle]
pub unsafe extern "C" fn tls_config_set_private_key(
    config: *mut tls_config,
    path: *const c_char,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promises.
        let (config, path) = unsafe { (config_mut(config)?, str_arg(path, "path")?) };
        config.private_key = Some(path.into());
        Ok(())
    })
}

/// Sets the password of an encrypted private key. The password is copied and wiped from memory
/// when the configuration is freed.
///
/// # Safety
///
/// `config` is a live configuration; `password` a NUL-terminated UTF-8 string.
#[no_mangle]
pub unsafe extern "C" fn tls_config_set_key_password(
    config: *mut tls_config,
    password: *const c_char,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promises.
        let (config, password) = unsafe { (config_mut(config)?, str_arg(password, "password")?) };
        config.key_password = Some(Zeroizing::new(password.to_string()));
        Ok(())
    })
}

/// Sets the PEM bundle of trusted CAs: a server verifies client certificates with it, a client
/// verifies the server. The path is copied.
///
/// # Safety
///
/// `config` is a live configuration; `path` a NUL-terminated UTF-8 string.
#[no_mangle]
pub unsafe extern "C" fn tls_config_set_trust_bundle(
    config: *mut tls_config,
    path: *const c_char,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promises.
        let (config, path) = unsafe { (config_mut(config)?, str_arg(path, "path")?) };
        config.trust_bundle = Some(path.into());
        Ok(())
    })
}

/// Sets how a server treats client certificates, a [`tls_client_auth`] value (default
/// [`tls_client_auth::None`]). Optional
/// and Require need a trust bundle.
///
/// # Safety
///
/// `config` is a live configuration.
#[no_mangle]
pub unsafe extern "C" fn tls_config_set_client_auth(
    config: *mut tls_config,
    mode: u32,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promise.
        let config = unsafe { config_mut(config)? };
        config.client_auth = client_auth_from(mode)?;
        Ok(())
    })
}

/// Sets the ALPN protocols, most preferred first, replacing any earlier list. `protocols` points
/// to `count` NUL-terminated strings (copied); NULL is accepted when `count` is 0 and clears the
/// list.
///
/// # Safety
///
/// `config` is a live configuration; `protocols` holds `count` valid string pointers.
#[no_mangle]
pub unsafe extern "C" fn tls_config_set_alpn(
    config: *mut tls_config,
    protocols: *const *const c_char,
    count: usize,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promises.
        let (config, protocols) = unsafe {
            (
                config_mut(config)?,
                str_list(protocols, count, "protocols")?,
            )
        };
        let protocols: Vec<Vec<u8>> = protocols.into_iter().map(String::into_bytes).collect();
        crate::config::check_alpn(&protocols)?;
        config.alpn = protocols;
        Ok(())
    })
}

/// Sets the allowed TLS versions as a mask of [`TLS_VERSION_TLS12`] and [`TLS_VERSION_TLS13`]
/// (default both). A mask without either bit is [`tls_result::InvalidArgument`].
///
/// # Safety
///
/// `config` is a live configuration.
#[no_mangle]
pub unsafe extern "C" fn tls_config_set_versions(config: *mut tls_config, mask: u32) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promise.
        let config = unsafe { config_mut(config)? };
        let versions = versions_from_mask(mask)?;
        config.versions = versions;
        Ok(())
    })
}

pub(crate) fn versions_from_mask(mask: u32) -> Result<Versions, Failure> {
    let versions = Versions {
        tls12: mask & TLS_VERSION_TLS12 != 0,
        tls13: mask & TLS_VERSION_TLS13 != 0,
    };
    if !versions.tls12 && !versions.tls13 || mask & !(TLS_VERSION_TLS12 | TLS_VERSION_TLS13) != 0 {
        return Err(Failure::new(
            tls_result::InvalidArgument,
            format!(
                "TLS version mask {mask:#x} must combine TLS_VERSION_TLS12 and TLS_VERSION_TLS13"
            ),
        ));
    }
    Ok(versions)
}

/// Client only: whether the server's certificate is verified (default true). Turning it off
/// accepts any server and is meant for tests only.
///
/// # Safety
///
/// `config` is a live configuration.
#[no_mangle]
pub unsafe extern "C" fn tls_config_set_verify_server(
    config: *mut tls_config,
    verify: bool,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promise.
        let config = unsafe { config_mut(config)? };
        if config.role != Role::Client {
            return Err(Failure::new(
                tls_result::WrongRole,
                "verify_server applies to client configurations only",
            ));
        }
        config.verify_server = verify;
        Ok(())
    })
}

pub(crate) fn client_auth_from(mode: u32) -> Result<ClientAuth, Failure> {
    match mode {
        m if m == tls_client_auth::None as u32 => Ok(ClientAuth::None),
        m if m == tls_client_auth::Optional as u32 => Ok(ClientAuth::Optional),
        m if m == tls_client_auth::Require as u32 => Ok(ClientAuth::Require),
        other => Err(Failure::new(
            tls_result::InvalidArgument,
            format!("client auth mode {other} is not a tls_client_auth value"),
        )),
    }
}

/// Whether the first load may serve an expired leaf (with a warning), so a server can start
/// while its renewal is late (default false). A reload never swaps to an expired leaf.
///
/// # Safety
///
/// `config` is a live configuration.
#[no_mangle]
pub unsafe extern "C" fn tls_config_set_allow_expired_leaf(
    config: *mut tls_config,
    allow: bool,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promise.
        let config = unsafe { config_mut(config)? };
        config.allow_expired_leaf = allow;
        Ok(())
    })
}

/// Reads a RocketMQ-style `tls.properties` file (`tls.server.*` or `tls.client.*` keys, and
/// `tls.test.mode.enable`) into a new configuration for `role`, a [`tls_role`] value, with
/// RocketMQ's defaults. On success `*config_out` receives a configuration owned by the caller,
/// freed with [`tls_config_free`]; it can still be changed with the setters.
///
/// # Safety
///
/// `path` is a NUL-terminated UTF-8 string; `config_out` a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn tls_config_from_properties(
    path: *const c_char,
    role: u32,
    config_out: *mut *mut tls_config,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promise.
        let path = unsafe { str_arg(path, "path")? };
        let role = role_from(role)?;
        if config_out.is_null() {
            return Err(Failure::null("config_out"));
        }
        let config = TlsConfig::from_broker_properties(path, role)?;
        let config = Box::into_raw(Box::new(tls_config(config)));
        // SAFETY: checked non-NULL; writable by the caller's promise.
        unsafe { write_out(config_out, config, "config_out") }
    })
}

/// Which material an in-memory setter replaces.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum tls_material {
    /// The certificate chain, leaf first.
    CertChain = 0,
    /// The private key.
    PrivateKey = 1,
    /// The trust bundle.
    TrustBundle = 2,
    /// A PKCS#12 file holding the chain and key together, opened with the key password.
    Pkcs12 = 3,
}

/// Sets a certificate chain, private key or trust bundle (`which`, a [`tls_material`] value)
/// from `len` bytes of PEM or DER in memory instead of a file. The bytes are copied (and a key
/// is wiped from memory when the configuration is freed); `name` stands for the path in error
/// messages. In-memory material never changes, so reloads find it unchanged.
///
/// # Safety
///
/// `config` is a live configuration; `name` a NUL-terminated UTF-8 string; `bytes` readable for
/// `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn tls_config_set_material(
    config: *mut tls_config,
    which: u32,
    name: *const c_char,
    bytes: *const u8,
    len: usize,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promises.
        let (config, name, bytes) = unsafe {
            (
                config_mut(config)?,
                str_arg(name, "name")?,
                bytes_arg(bytes, len, "bytes")?,
            )
        };
        set_material(config, which, Source::memory(name, bytes))
    })
}

/// Server only: adds a certificate chain and key (file paths, copied) served to clients that ask
/// for `server_name` by SNI; other clients get the main chain.
///
/// # Safety
///
/// `config` is a live configuration; the strings are NUL-terminated UTF-8.
#[no_mangle]
pub unsafe extern "C" fn tls_config_add_identity_for_name(
    config: *mut tls_config,
    server_name: *const c_char,
    cert_chain_path: *const c_char,
    private_key_path: *const c_char,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promises.
        let (config, server_name, cert_chain, private_key) = unsafe {
            (
                config_mut(config)?,
                str_arg(server_name, "server_name")?,
                str_arg(cert_chain_path, "cert_chain_path")?,
                str_arg(private_key_path, "private_key_path")?,
            )
        };
        if config.role != Role::Server {
            return Err(Failure::new(
                tls_result::WrongRole,
                "certificates chosen by server name are for server configurations only",
            ));
        }
        config.add_identity_for_name(server_name.into(), cert_chain.into(), private_key.into());
        Ok(())
    })
}

/// Restricts the cipher suites to `count` standard (IANA) names. Names rustls does not offer are
/// skipped with a warning; loading fails when none remains. NULL with `count` 0 restores the
/// default list.
///
/// # Safety
///
/// `config` is a live configuration; `names` holds `count` valid string pointers.
#[no_mangle]
pub unsafe extern "C" fn tls_config_set_cipher_suites(
    config: *mut tls_config,
    names: *const *const c_char,
    count: usize,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promises.
        let (config, names) = unsafe { (config_mut(config)?, str_list(names, count, "names")?) };
        config.cipher_suites = if names.is_empty() { None } else { Some(names) };
        Ok(())
    })
}

/// Test mode, for development only: a server without a certificate chain and key serves a
/// self-signed certificate for localhost; a client accepts any server certificate.
///
/// # Safety
///
/// `config` is a live configuration.
#[no_mangle]
pub unsafe extern "C" fn tls_config_set_test_mode(
    config: *mut tls_config,
    enabled: bool,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promise.
        let config = unsafe { config_mut(config)? };
        config.set_test_mode(enabled);
        Ok(())
    })
}

/// Borrows `count` NUL-terminated UTF-8 strings.
///
/// # Safety
///
/// `list` is NULL (only with `count` 0) or holds `count` valid string pointers.
unsafe fn str_list(
    list: *const *const c_char,
    count: usize,
    name: &str,
) -> Result<Vec<String>, Failure> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if list.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-NULL and holding `count` pointers by the caller's promise.
    let pointers = unsafe { std::slice::from_raw_parts(list, count) };
    pointers
        .iter()
        // SAFETY: each entry is a NUL-terminated string by the caller's promise.
        .map(|pointer| unsafe { str_arg(*pointer, name) }.map(str::to_string))
        .collect()
}

fn role_from(role: u32) -> Result<Role, Failure> {
    match role {
        r if r == tls_role::Server as u32 => Ok(Role::Server),
        r if r == tls_role::Client as u32 => Ok(Role::Client),
        other => Err(Failure::new(
            tls_result::InvalidArgument,
            format!("role {other} is neither TLS_ROLE_SERVER nor TLS_ROLE_CLIENT"),
        )),
    }
}

/// Puts `source` in the slot `which` names, a [`tls_material`] value (shared with JNI).
pub(crate) fn set_material(
    config: &mut TlsConfig,
    which: u32,
    source: Source,
) -> Result<(), Failure> {
    let slot = match which {
        w if w == tls_material::CertChain as u32 => &mut config.cert_chain,
        w if w == tls_material::PrivateKey as u32 => &mut config.private_key,
        w if w == tls_material::TrustBundle as u32 => &mut config.trust_bundle,
        w if w == tls_material::Pkcs12 as u32 => &mut config.pkcs12,
        other => {
            return Err(Failure::new(
                tls_result::InvalidArgument,
                format!("material {other} is not a tls_material value"),
            ))
        }
    };
    *slot = Some(source);
    Ok(())
}

/// Sets a PKCS#12 file (`.p12`, `.pfx`) holding the certificate chain and private key together,
/// opened with the password of [`tls_config_set_key_password`]. The path is copied.
///
/// # Safety
///
/// `config` is a live configuration; `path` a NUL-terminated UTF-8 string.
#[no_mangle]
pub unsafe extern "C" fn tls_config_set_pkcs12(
    config: *mut tls_config,
    path: *const c_char,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promises.
        let (config, path) = unsafe { (config_mut(config)?, str_arg(path, "path")?) };
        config.pkcs12 = Some(Source::File(path.into()));
        Ok(())
    })
}

/// Sets how long before the served leaf expires a reloading context logs a warning, in seconds
/// (default 14 days); logged once per generation, at load and at each reload.
///
/// # Safety
///
/// `config` is a live configuration.
#[no_mangle]
pub unsafe extern "C" fn tls_config_set_expiry_warning(
    config: *mut tls_config,
    seconds: u64,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promise.
        let config = unsafe { config_mut(config)? };
        config.expiry_warning = std::time::Duration::from_secs(seconds);
        Ok(())
    })
}
