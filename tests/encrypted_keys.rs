//! Encrypted private keys in every format OpenSSL writes load with their password, and a missing
//! password, a wrong one and a damaged key are three different errors (cases B03, B08, B09, B11).
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use common::{case, pump};
use tlsctx::{Connection, Context, Error, TlsConfig};

fn password(case_name: &str) -> String {
    fs::read_to_string(case(case_name, "password.txt")).unwrap()
}

fn load(cert: &Path, key: &Path, password: Option<&str>) -> Result<Arc<Context>, Error> {
    let mut config = TlsConfig::server().cert_chain(cert).private_key(key);
    if let Some(password) = password {
        config = config.key_password(password);
    }
    Context::load(&config)
}

fn leaf_der(cert: &Path) -> Vec<u8> {
    pem::parse_many(fs::read(cert).unwrap()).unwrap()[0]
        .contents()
        .to_vec()
}

/// Loads and checks that the context serves `cert`'s leaf.
fn assert_loads(cert: &Path, key: &Path, password: Option<&str>) {
    let context = load(cert, key, password)
        .unwrap_or_else(|err| panic!("{} should load: {err}", key.display()));
    assert_eq!(context.generation(), 1);
    assert_eq!(context.cert_chain()[0].as_ref(), leaf_der(cert).as_slice());
}

fn assert_wrong_password(cert: &Path, key: &Path) {
    let failure = load(cert, key, Some("not-the-password")).unwrap_err();
    assert!(
        matches!(failure, Error::WrongPassword { .. }),
        "{failure:?}"
    );
    assert_eq!(
        failure.to_string(),
        format!(
            "{}: wrong password for the encrypted private key",
            key.display()
        )
    );
}

fn assert_needs_password(cert: &Path, key: &Path, password: Option<&str>) {
    let failure = load(cert, key, password).unwrap_err();
    assert!(matches!(failure, Error::KeyEncrypted { .. }), "{failure:?}");
    assert_eq!(
        failure.to_string(),
        format!(
            "{}: private key is encrypted and no password was given",
            key.display()
        )
    );
}

const B08_KEYS: [(&str, &str); 3] = [
    ("server-rsa-trad-aes256.key", "server-rsa.crt"),
    ("server-rsa-trad-des3.key", "server-rsa.crt"),
    ("server-ec-trad-aes128.key", "server-ec.crt"),
];

#[test]
fn b08_traditional_pem_keys_load_with_their_password() {
    let password = password("B08");
    for (key, cert) in B08_KEYS {
        assert_loads(&case("B08", cert), &case("B08", key), Some(&password));
    }
}

#[test]
fn b08_traditional_pem_keys_refuse_a_wrong_password() {
    for (key, cert) in B08_KEYS {
        assert_wrong_password(&case("B08", cert), &case("B08", key));
    }
}

#[test]
fn b08_traditional_pem_keys_ask_for_a_password() {
    for (key, cert) in B08_KEYS {
        assert_needs_password(&case("B08", cert), &case("B08", key), None);
    }
}

#[test]
fn b08_a_decrypted_ec_key_signs_a_real_handshake() {
    let server = Context::load(
        &TlsConfig::server()
            .cert_chain(case("B08", "server-ec.crt"))
            .private_key(case("B08", "server-ec-trad-aes128.key"))
            .key_password(password("B08")),
    )
    .unwrap();
    let client = Context::load(&TlsConfig::client().trust_bundle(case("B08", "ca.crt"))).unwrap();
    let mut server = Connection::server(server).unwrap();
    let mut client = Connection::client(client, "localhost", None).unwrap();
    pump(&mut client, &mut server).unwrap();
    assert!(!client.is_handshaking());
    assert_eq!(
        client.peer_certificates().unwrap()[0].as_ref(),
        leaf_der(&case("B08", "server-ec.crt")).as_slice()
    );
}

const B09_KEYS: [(&str, &str); 5] = [
    ("server-rsa-pbes2-aes256-sha256.key", "server-rsa.crt"),
    ("server-rsa-pbes2-aes128-sha1.key", "server-rsa.crt"),
    ("server-rsa-pbes2-des3.key", "server-rsa.crt"),
    ("server-rsa-pbes2-scrypt.key", "server-rsa.crt"),
    ("server-ec-pbes2-aes256.key", "server-ec.crt"),
];

#[test]
fn b09_pbes2_keys_load_with_their_password() {
    let password = password("B09");
    for (key, cert) in B09_KEYS {
        assert_loads(&case("B09", cert), &case("B09", key), Some(&password));
    }
}

#[test]
fn b09_pbes2_keys_refuse_a_wrong_password() {
    for (key, cert) in B09_KEYS {
        assert_wrong_password(&case("B09", cert), &case("B09", key));
    }
}

#[test]
fn b09_pbes2_keys_ask_for_a_password() {
    for (key, cert) in B09_KEYS {
        assert_needs_password(&case("B09", cert), &case("B09", key), None);
    }
}

#[test]
fn b11_a_password_for_a_plain_key_is_ignored() {
    assert_loads(
        &case("B11", "server.crt"),
        &case("B11", "server-plain.key"),
        Some(&password("B11")),
    );
}

#[test]
fn b11_an_encrypted_key_without_a_password_asks_for_one() {
    assert_needs_password(
        &case("B11", "server.crt"),
        &case("B11", "server-encrypted.key"),
        None,
    );
}

/// An empty password is how "always pass a password" configurations say "none": when it does not
/// decrypt the key, the error is the missing-password one.
#[test]
fn b11_an_empty_password_counts_as_none() {
    assert_needs_password(
        &case("B11", "server.crt"),
        &case("B11", "server-encrypted.key"),
        Some(""),
    );
}

#[test]
fn b11_an_encrypted_key_loads_with_its_password() {
    assert_loads(
        &case("B11", "server.crt"),
        &case("B11", "server-encrypted.key"),
        Some(&password("B11")),
    );
}

#[test]
fn b03_traditional_key_after_bag_attributes_loads_with_its_password() {
    assert_loads(
        &case("B03", "server.crt"),
        &case("B03", "key-bagattrs-trad-des3.pem"),
        Some(&password("B03")),
    );
}

/// Re-encrypts B11's plain key with `openssl pkcs8 -topk8` and the given options.
fn openssl_pkcs8(dir: &Path, name: &str, options: &[&str], password: &str) -> PathBuf {
    let out = dir.join(name);
    let output = Command::new("openssl")
        .args([
            "pkcs8",
            "-topk8",
            "-provider",
            "legacy",
            "-provider",
            "default",
        ])
        .args(options)
        .arg("-in")
        .arg(case("B11", "server-plain.key"))
        .arg("-out")
        .arg(&out)
        .arg("-passout")
        .arg(format!("pass:{password}"))
        .output()
        .expect("the openssl command line tool is needed to make PBES1 keys");
    assert!(
        output.status.success(),
        "openssl pkcs8 {options:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    out
}

#[test]
fn pbes1_and_pkcs12_pbe_keys_made_by_openssl_load() {
    let dir = tempfile::tempdir().unwrap();
    let cert = case("B11", "server.crt");
    // RocketMQ's documentation uses PBE-SHA1-RC4-128, its test keys PBE-MD5-DES.
    for scheme in [
        "PBE-MD5-DES",
        "PBE-SHA1-RC4-128",
        "PBE-SHA1-DES",
        "PBE-MD5-RC2-64",
        "PBE-SHA1-RC2-64",
        "PBE-SHA1-RC4-40",
        "PBE-SHA1-3DES",
        "PBE-SHA1-2DES",
        "PBE-SHA1-RC2-128",
        "PBE-SHA1-RC2-40",
    ] {
        let key = openssl_pkcs8(
            dir.path(),
            &format!("{scheme}.key"),
            &["-v1", scheme],
            "rocketmq",
        );
        assert_loads(&cert, &key, Some("rocketmq"));
        assert_wrong_password(&cert, &key);
        assert_needs_password(&cert, &key, None);
    }
}

#[test]
fn pbes2_des_cbc_and_aes192_keys_made_by_openssl_load() {
    let dir = tempfile::tempdir().unwrap();
    let cert = case("B11", "server.crt");
    for cipher in ["des-cbc", "aes-192-cbc"] {
        let key = openssl_pkcs8(dir.path(), &format!("{cipher}.key"), &["-v2", cipher], "pw");
        assert_loads(&cert, &key, Some("pw"));
        assert_wrong_password(&cert, &key);
    }
}

#[test]
fn traditional_des_and_aes192_keys_made_by_openssl_load() {
    let dir = tempfile::tempdir().unwrap();
    let cert = case("B11", "server.crt");
    for cipher in ["-des", "-aes192"] {
        let key = dir.path().join(format!("trad{cipher}.key"));
        let output = Command::new("openssl")
            .args([
                "rsa",
                "-traditional",
                "-provider",
                "legacy",
                "-provider",
                "default",
            ])
            .arg(cipher)
            .arg("-in")
            .arg(case("B11", "server-plain.key"))
            .arg("-out")
            .arg(&key)
            .args(["-passout", "pass:trad-pw"])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "openssl rsa {cipher}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(fs::read_to_string(&key)
            .unwrap()
            .contains("Proc-Type: 4,ENCRYPTED"));
        assert_loads(&cert, &key, Some("trad-pw"));
        assert_wrong_password(&cert, &key);
    }
}

#[test]
fn a_damaged_encrypted_key_is_malformed_not_a_wrong_password() {
    let dir = tempfile::tempdir().unwrap();
    let block =
        pem::parse(fs::read(case("B09", "server-rsa-pbes2-aes256-sha256.key")).unwrap()).unwrap();
    let mut der = block.contents().to_vec();
    der.truncate(der.len() - 7);
    let key = dir.path().join("truncated.key");
    fs::write(
        &key,
        pem::encode(&pem::Pem::new("ENCRYPTED PRIVATE KEY", der)),
    )
    .unwrap();

    let failure = load(&case("B09", "server-rsa.crt"), &key, Some(&password("B09"))).unwrap_err();
    assert!(matches!(failure, Error::MalformedKey { .. }), "{failure:?}");
    assert!(
        failure.to_string().starts_with(&format!(
            "{}: malformed private key: not an encrypted PKCS#8 private key",
            key.display()
        )),
        "{failure}"
    );
}

#[test]
fn an_unsupported_traditional_cipher_is_named_even_without_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(case("B08", "server-rsa-trad-aes256.key")).unwrap();
    let key = dir.path().join("camellia.key");
    fs::write(&key, text.replace("AES-256-CBC", "CAMELLIA-256-CBC")).unwrap();

    let failure = load(&case("B08", "server-rsa.crt"), &key, None).unwrap_err();
    assert!(
        matches!(failure, Error::UnsupportedEncryption { .. }),
        "{failure:?}"
    );
    assert_eq!(
        failure.to_string(),
        format!(
            "{}: unsupported key encryption scheme: traditional OpenSSL PEM encryption \
             (DEK-Info: CAMELLIA-256-CBC); convert the key with \
             `openssl pkcs8 -topk8 -v2 aes-256-cbc`",
            key.display()
        )
    );
}

#[test]
fn b21_pkcs12_files_load_natively_as_an_identity() {
    let password = fs::read_to_string(case("B21", "password.txt")).unwrap();
    let expected = pem::parse(fs::read(case("B21", "server.crt")).unwrap())
        .unwrap()
        .into_contents();
    for file in [
        "server-openssl3-default.p12",
        "server-legacy-3des-rc2.p12",
        "server-nomac.p12",
    ] {
        let config = TlsConfig::server()
            .pkcs12(case("B21", file))
            .key_password(password.as_str());
        let context = Context::load(&config).unwrap();
        assert_eq!(
            context.cert_chain()[0].as_ref(),
            expected.as_slice(),
            "{file}"
        );
    }
    let wrong = TlsConfig::server()
        .pkcs12(case("B21", "server-openssl3-default.p12"))
        .key_password("not the password");
    let failure = Context::load(&wrong).unwrap_err();
    assert!(
        matches!(failure, Error::WrongPassword { .. }),
        "{failure:?}"
    );
}
