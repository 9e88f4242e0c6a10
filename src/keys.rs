//! Decrypting password-protected private keys in every format OpenSSL and keytool write.
//!
//! Three families of encryption reach us:
//! - traditional OpenSSL PEM encryption (`Proc-Type: 4,ENCRYPTED` and `DEK-Info` headers on an
//!   `RSA PRIVATE KEY` or `EC PRIVATE KEY` block), keyed by OpenSSL's `EVP_BytesToKey` with MD5;
//! - PKCS#8 `EncryptedPrivateKeyInfo` with PBES2 (PBKDF2 or scrypt, then AES or DES), with
//!   PKCS#5 v1.5 PBES1 (MD5 or SHA-1 with DES or RC2) or with the PKCS#12 PBE schemes (SHA-1 with
//!   RC4, RC2 or triple DES), which is also how PKCS#12 files protect their bags.
//!
//! Every cipher and key derivation comes from a RustCrypto crate; this module only parses the
//! parameters, picks the primitives and tells a wrong password from a malformed key.
//!
//! Logging is done here rather than by the callers: a successful decryption with a weak scheme
//! (DES, triple DES, RC2, RC4 or an MD5 or single-iteration key derivation) logs one
//! `tracing::warn!` event that names the key file and the scheme, so every caller warns the same
//! way.
//!
//! An empty password is tried like any other, since OpenSSL can encrypt with one; when it does
//! not decrypt the key, the error is [`Error::KeyEncrypted`], because configurations that always
//! pass a password pass an empty one to mean "none".

use std::path::Path;

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockCipher, BlockDecryptMut, KeyInit, KeyIvInit, StreamCipher};
use pkcs12::kdf::Pkcs12KeyType;
use pkcs8::der::asn1::{AnyRef, OctetStringRef};
use pkcs8::der::{Decode, Reader, SliceReader, Tag, Tagged};
use pkcs8::pkcs5::pbes2::{Kdf, Pbkdf2Prf};
use pkcs8::pkcs5::{pbes1, pbes2};
use pkcs8::spki::AlgorithmIdentifierRef;
use pkcs8::ObjectIdentifier;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer};
use zeroize::Zeroizing;

use crate::error::Error;

/// More PBKDF2 or PKCS#12 KDF iterations than any tool writes (OpenSSL 3 uses 2048, Java 10 000,
/// password managers up to a few hundred thousand); a file asking for more would stall the load.
const MAX_ITERATIONS: u64 = 10_000_000;

/// The most memory an scrypt key derivation may use (OpenSSL's default `-scrypt` uses 16 MiB).
const MAX_SCRYPT_MEMORY: u64 = 256 * 1024 * 1024;

/// The most parallel lanes an scrypt key derivation may ask for.
const MAX_SCRYPT_PARALLELISM: u16 = 16;

const PBES2_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
const PKCS12_PBE_SHA1_RC4_128: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.1");
const PKCS12_PBE_SHA1_RC4_40: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.2");
const PKCS12_PBE_SHA1_3DES: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.3");
const PKCS12_PBE_SHA1_2DES: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.4");
const PKCS12_PBE_SHA1_RC2_128: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.5");
const PKCS12_PBE_SHA1_RC2_40: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.6");

/// Decrypts a PKCS#8 `EncryptedPrivateKeyInfo` (the DER inside `ENCRYPTED PRIVATE KEY`).
///
/// # Errors
///
/// [`Error::KeyEncrypted`] without a password, [`Error::WrongPassword`] when the password does
/// not decrypt it, [`Error::UnsupportedEncryption`] naming the scheme, and
/// [`Error::MalformedKey`] when the structure is malformed or truncated.
pub(crate) fn decrypt_pkcs8(
    path: &Path,
    der: &[u8],
    password: Option<&str>,
) -> Result<PrivateKeyDer<'static>, Error> {
    let plaintext = decrypt_private_key_info(der, password)
        .map_err(|refusal| refusal.into_error(path, password))?;
    log_scheme(path, &plaintext.scheme);
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        plaintext.der.to_vec(),
    )))
}

/// Decrypts a PEM block carrying OpenSSL's traditional encryption headers (`Proc-Type:
/// 4,ENCRYPTED` and `DEK-Info: CIPHER,IV`). The result keeps the block's own format: PKCS#1 for
/// `RSA PRIVATE KEY`, SEC1 for `EC PRIVATE KEY`.
///
/// # Errors
///
/// As [`decrypt_pkcs8`]; a block of another key type is [`Error::UnsupportedKey`].
pub(crate) fn decrypt_traditional(
    path: &Path,
    block: &pem::Pem,
    password: Option<&str>,
) -> Result<PrivateKeyDer<'static>, Error> {
    let wrap: fn(Vec<u8>) -> PrivateKeyDer<'static> = match block.tag() {
        "RSA PRIVATE KEY" => |der| PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der)),
        "EC PRIVATE KEY" => |der| PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(der)),
        "PRIVATE KEY" => |der| PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der)),
        other => {
            return Err(Error::UnsupportedKey {
                path: path.to_path_buf(),
                detail: format!("PEM block \"{other}\" with traditional OpenSSL encryption"),
            })
        }
    };
    let plaintext =
        decrypt_pem_block(block, password).map_err(|refusal| refusal.into_error(path, password))?;
    log_scheme(path, &plaintext.scheme);
    Ok(wrap(plaintext.der.to_vec()))
}

/// Logs that a password was given for a key that is not encrypted, so the operator can tell a
/// forgotten encryption step from a misread file. The password is ignored.
pub(crate) fn note_unused_password(path: &Path, tag: &str, password: Option<&str>) {
    if password.is_some() && tag != "ENCRYPTED PRIVATE KEY" {
        tracing::warn!(
            path = %path.display(),
            "a key password is configured but the private key is not encrypted; ignoring it"
        );
    }
}

/// The scheme that protected a key, named the way OpenSSL's command line names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Scheme {
    pub(crate) name: String,
    /// DES, triple DES, RC2, RC4, or a key derivation by MD5 or a single iteration.
    pub(crate) weak: bool,
}

/// The decrypted DER and the scheme it was protected by.
pub(crate) struct Plaintext {
    pub(crate) der: Zeroizing<Vec<u8>>,
    pub(crate) scheme: Scheme,
}

/// Why a decryption did not produce a key, before the path is known.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The structure or its parameters are malformed or truncated.
    Malformed(String),
    /// The scheme is recognised but not decrypted here; the string names it.
    Unsupported(String),
    /// The key is encrypted and no password was given.
    PasswordMissing,
    /// The password did not produce a well-formed key.
    Undecryptable,
}

impl Refusal {
    pub(crate) fn into_error(self, path: &Path, password: Option<&str>) -> Error {
        let path = path.to_path_buf();
        match self {
            Refusal::Malformed(detail) => Error::MalformedKey { path, detail },
            Refusal::Unsupported(scheme) => Error::UnsupportedEncryption { path, scheme },
            Refusal::PasswordMissing => Error::KeyEncrypted { path },
            Refusal::Undecryptable if password.is_none_or(str::is_empty) => {
                Error::KeyEncrypted { path }
            }
            Refusal::Undecryptable => Error::WrongPassword { path },
        }
    }
}

pub(crate) fn log_scheme(path: &Path, scheme: &Scheme) {
    if scheme.weak {
        tracing::warn!(
            path = %path.display(),
            scheme = %scheme.name,
            "private key is protected by a weak encryption scheme; re-encrypt it with \
             `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
        );
    } else {
        tracing::debug!(path = %path.display(), scheme = %scheme.name, "private key decrypted");
    }
}

/// Decrypts an `EncryptedPrivateKeyInfo` and checks that the result is a `PrivateKeyInfo`.
pub(crate) fn decrypt_private_key_info(
    der: &[u8],
    password: Option<&str>,
) -> Result<Plaintext, Refusal> {
    let (algorithm, ciphertext) = parse_encrypted_private_key_info(der)?;
    let plaintext = decrypt(algorithm, ciphertext, password)?;
    // A wrong password passes the padding check about once in 256 tries, and a stream cipher
    // has no padding at all; only a well-formed key proves the password right.
    if pkcs8::PrivateKeyInfo::from_der(&plaintext.der).is_err() {
        return Err(Refusal::Undecryptable);
    }
    Ok(plaintext)
}

fn parse_encrypted_private_key_info(
    der: &[u8],
) -> Result<(AlgorithmIdentifierRef<'_>, &[u8]), Refusal> {
    let malformed = |err: pkcs8::der::Error| {
        Refusal::Malformed(format!("not an encrypted PKCS#8 private key: {err}"))
    };
    let mut reader = SliceReader::new(der).map_err(malformed)?;
    let parsed = reader
        .sequence(|fields| {
            let algorithm: AlgorithmIdentifierRef<'_> = fields.decode()?;
            let ciphertext: OctetStringRef<'_> = fields.decode()?;
            Ok((algorithm, ciphertext.as_bytes()))
        })
        .map_err(malformed)?;
    reader.finish(parsed).map_err(malformed)
}

/// Decrypts `ciphertext` with the password-based scheme `algorithm` names: PBES2, PBES1 or a
/// PKCS#12 PBE scheme. The plaintext is not checked beyond its padding.
pub(crate) fn decrypt(
    algorithm: AlgorithmIdentifierRef<'_>,
    ciphertext: &[u8],
    password: Option<&str>,
) -> Result<Plaintext, Refusal> {
    if algorithm.oid == PBES2_OID {
        return decrypt_pbes2(algorithm.parameters, ciphertext, password);
    }
    if let Ok(scheme) = pbes1::EncryptionScheme::try_from(algorithm.oid) {
        return decrypt_pbes1(scheme, algorithm.parameters, ciphertext, password);
    }
    if let Some(cipher) = Pkcs12Cipher::from_oid(algorithm.oid) {
        return decrypt_pkcs12_pbe(cipher, algorithm.parameters, ciphertext, password);
    }
    Err(Refusal::Unsupported(format!(
        "key encryption algorithm {}",
        algorithm.oid
    )))
}

/// The CBC ciphers PBES2 and traditional PEM encryption use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CbcCipher {
    Aes128,
    Aes192,
    Aes256,
    Des,
    DesEde2,
    DesEde3,
}

impl CbcCipher {
    fn from_openssl_name(name: &str) -> Option<Self> {
        match name {
            "AES-128-CBC" => Some(CbcCipher::Aes128),
            "AES-192-CBC" => Some(CbcCipher::Aes192),
            "AES-256-CBC" => Some(CbcCipher::Aes256),
            "DES-CBC" => Some(CbcCipher::Des),
            "DES-EDE-CBC" => Some(CbcCipher::DesEde2),
            "DES-EDE3-CBC" => Some(CbcCipher::DesEde3),
            _ => None,
        }
    }

    fn from_oid(oid: ObjectIdentifier) -> Option<Self> {
        match oid {
            pbes2::AES_128_CBC_OID => Some(CbcCipher::Aes128),
            pbes2::AES_192_CBC_OID => Some(CbcCipher::Aes192),
            pbes2::AES_256_CBC_OID => Some(CbcCipher::Aes256),
            pbes2::DES_CBC_OID => Some(CbcCipher::Des),
            pbes2::DES_EDE3_CBC_OID => Some(CbcCipher::DesEde3),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            CbcCipher::Aes128 => "AES-128-CBC",
            CbcCipher::Aes192 => "AES-192-CBC",
            CbcCipher::Aes256 => "AES-256-CBC",
            CbcCipher::Des => "DES-CBC",
            CbcCipher::DesEde2 => "DES-EDE-CBC",
            CbcCipher::DesEde3 => "DES-EDE3-CBC",
        }
    }

    fn key_len(self) -> usize {
        match self {
            CbcCipher::Aes128 | CbcCipher::DesEde2 => 16,
            CbcCipher::Aes192 | CbcCipher::DesEde3 => 24,
            CbcCipher::Aes256 => 32,
            CbcCipher::Des => 8,
        }
    }

    fn block_len(self) -> usize {
        match self {
            CbcCipher::Aes128 | CbcCipher::Aes192 | CbcCipher::Aes256 => 16,
            CbcCipher::Des | CbcCipher::DesEde2 | CbcCipher::DesEde3 => 8,
        }
    }

    fn weak(self) -> bool {
        !matches!(
            self,
            CbcCipher::Aes128 | CbcCipher::Aes192 | CbcCipher::Aes256
        )
    }

    fn decrypt(
        self,
        key: &[u8],
        iv: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Refusal> {
        match self {
            CbcCipher::Aes128 => cbc_decrypt::<aes::Aes128>(key, iv, ciphertext),
            CbcCipher::Aes192 => cbc_decrypt::<aes::Aes192>(key, iv, ciphertext),
            CbcCipher::Aes256 => cbc_decrypt::<aes::Aes256>(key, iv, ciphertext),
            CbcCipher::Des => cbc_decrypt::<des::Des>(key, iv, ciphertext),
            CbcCipher::DesEde2 => cbc_decrypt::<des::TdesEde2>(key, iv, ciphertext),
            CbcCipher::DesEde3 => cbc_decrypt::<des::TdesEde3>(key, iv, ciphertext),
        }
    }
}

/// Decrypts CBC with PKCS#7 padding; a bad padding is the usual sign of a wrong password.
fn cbc_decrypt<C>(key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, Refusal>
where
    C: BlockCipher + BlockDecryptMut + KeyInit,
{
    let decryptor = cbc::Decryptor::<C>::new_from_slices(key, iv)
        .map_err(|_| Refusal::Malformed("the key or IV has the wrong length".into()))?;
    decryptor
        .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
        .map(Zeroizing::new)
        .map_err(|_| Refusal::Undecryptable)
}

/// A block cipher needs whole blocks; anything else is a truncated or damaged key, which must not
/// be reported as a wrong password.
fn check_whole_blocks(ciphertext: &[u8], block_len: usize) -> Result<(), Refusal> {
    if ciphertext.is_empty() || ciphertext.len() % block_len != 0 {
        return Err(Refusal::Malformed(format!(
            "the encrypted key is {} bytes, not a whole number of {block_len}-byte blocks \
             (truncated?)",
            ciphertext.len()
        )));
    }
    Ok(())
}

fn decrypt_pem_block(block: &pem::Pem, password: Option<&str>) -> Result<Plaintext, Refusal> {
    let dek_info = block.headers().get("DEK-Info").ok_or_else(|| {
        Refusal::Malformed("\"Proc-Type: 4,ENCRYPTED\" without a \"DEK-Info\" header".into())
    })?;
    let (cipher_name, iv_hex) = dek_info.split_once(',').ok_or_else(|| {
        Refusal::Malformed(format!("DEK-Info \"{dek_info}\" is not \"CIPHER,IV\""))
    })?;
    let cipher_name = cipher_name.trim();
    let Some(cipher) = CbcCipher::from_openssl_name(&cipher_name.to_ascii_uppercase()) else {
        return Err(Refusal::Unsupported(format!(
            "traditional OpenSSL PEM encryption (DEK-Info: {cipher_name}); convert the key with \
             `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
        )));
    };
    let iv = decode_hex(iv_hex.trim())
        .filter(|iv| iv.len() == cipher.block_len())
        .ok_or_else(|| {
            Refusal::Malformed(format!(
                "DEK-Info IV \"{}\" is not {} hex bytes",
                iv_hex.trim(),
                cipher.block_len()
            ))
        })?;
    check_whole_blocks(block.contents(), cipher.block_len())?;
    let password = password.ok_or(Refusal::PasswordMissing)?;

    // OpenSSL keys traditional PEM encryption with EVP_BytesToKey(MD5, one iteration), salted
    // with the first 8 bytes of the IV. The `evpkdf` crate implements exactly that function; no
    // RustCrypto crate offers it.
    let mut key = Zeroizing::new(vec![0u8; cipher.key_len()]);
    evpkdf::evpkdf::<md5::Md5>(password.as_bytes(), &iv[..8], 1, &mut key);
    let der = cipher.decrypt(&key, &iv, block.contents())?;
    if !is_versioned_sequence(&der) {
        return Err(Refusal::Undecryptable);
    }
    Ok(Plaintext {
        der,
        scheme: Scheme {
            name: format!(
                "traditional OpenSSL PEM encryption ({}, MD5 key derivation)",
                cipher.name()
            ),
            weak: true,
        },
    })
}

/// Whether `der` is one DER SEQUENCE, exactly as long as the input, starting with an INTEGER:
/// the shape of PKCS#1, SEC1 and PKCS#8 private keys, which random bytes almost never have.
fn is_versioned_sequence(der: &[u8]) -> bool {
    let Ok(sequence) = AnyRef::from_der(der) else {
        return false;
    };
    if sequence.tag() != Tag::Sequence {
        return false;
    }
    let Ok(mut fields) = SliceReader::new(sequence.value()) else {
        return false;
    };
    matches!(fields.decode::<AnyRef<'_>>(), Ok(version) if version.tag() == Tag::Integer)
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

fn decrypt_pbes2(
    parameters: Option<AnyRef<'_>>,
    ciphertext: &[u8],
    password: Option<&str>,
) -> Result<Plaintext, Refusal> {
    let parameters =
        parameters.ok_or_else(|| Refusal::Malformed("PBES2 without parameters".into()))?;

    // Look at the algorithm identifiers before pkcs5 parses them, to name an unsupported scheme
    // and to refuse IVs of the wrong length, which pkcs5 0.7 would slice out of bounds.
    let (kdf, cipher) = parameters
        .sequence(|fields| {
            let kdf: AlgorithmIdentifierRef<'_> = fields.decode()?;
            let cipher: AlgorithmIdentifierRef<'_> = fields.decode()?;
            Ok((kdf, cipher))
        })
        .map_err(|err| Refusal::Malformed(format!("PBES2 parameters: {err}")))?;
    let Some(cbc_cipher) = CbcCipher::from_oid(cipher.oid) else {
        return Err(Refusal::Unsupported(format!(
            "PBES2 with cipher {}",
            oid_name(cipher.oid)
        )));
    };
    if kdf.oid != pbes2::PBKDF2_OID && kdf.oid != pbes2::SCRYPT_OID {
        return Err(Refusal::Unsupported(format!(
            "PBES2 with key derivation {}",
            oid_name(kdf.oid)
        )));
    }
    let iv_len = cipher
        .parameters
        .and_then(|iv| iv.decode_as::<OctetStringRef<'_>>().ok())
        .map(|iv| iv.as_bytes().len());
    if iv_len != Some(cbc_cipher.block_len()) {
        return Err(Refusal::Malformed(format!(
            "PBES2 {} needs a {}-byte IV",
            cbc_cipher.name(),
            cbc_cipher.block_len()
        )));
    }

    let params = pbes2::Parameters::try_from(parameters).map_err(|err| match err.kind() {
        pkcs8::der::ErrorKind::OidUnknown { oid } => {
            Refusal::Unsupported(format!("PBES2 with {}", oid_name(oid)))
        }
        _ => Refusal::Malformed(format!("PBES2 parameters: {err}")),
    })?;
    let kdf_name = match &params.kdf {
        Kdf::Pbkdf2(pbkdf2) => {
            check_iterations(u64::from(pbkdf2.iteration_count))?;
            format!("PBKDF2-{}", prf_name(pbkdf2.prf))
        }
        Kdf::Scrypt(scrypt) => {
            check_scrypt(scrypt)?;
            "scrypt".to_string()
        }
        other => {
            return Err(Refusal::Unsupported(format!(
                "PBES2 with key derivation {}",
                oid_name(other.oid())
            )))
        }
    };
    let scheme = Scheme {
        name: format!("PBES2 ({kdf_name}, {})", cbc_cipher.name()),
        weak: cbc_cipher.weak(),
    };
    check_whole_blocks(ciphertext, cbc_cipher.block_len())?;
    let password = password.ok_or(Refusal::PasswordMissing)?;

    let der = params
        .decrypt(password, ciphertext)
        .map(Zeroizing::new)
        .map_err(|err| match err {
            // pkcs5 0.7 reports a bad padding, the sign of a wrong password, as EncryptFailed.
            pkcs8::pkcs5::Error::DecryptFailed | pkcs8::pkcs5::Error::EncryptFailed => {
                Refusal::Undecryptable
            }
            pkcs8::pkcs5::Error::UnsupportedAlgorithm { oid } => {
                Refusal::Unsupported(format!("PBES2 with {}", oid_name(oid)))
            }
            other => Refusal::Malformed(format!("PBES2: {other}")),
        })?;
    Ok(Plaintext { der, scheme })
}

fn check_iterations(iterations: u64) -> Result<(), Refusal> {
    if iterations == 0 {
        return Err(Refusal::Malformed("an iteration count of 0".into()));
    }
    if iterations > MAX_ITERATIONS {
        return Err(Refusal::Unsupported(format!(
            "key derivation with {iterations} iterations (at most {MAX_ITERATIONS} are allowed)"
        )));
    }
    Ok(())
}

fn check_scrypt(scrypt: &pbes2::ScryptParams<'_>) -> Result<(), Refusal> {
    let cost = scrypt.cost_parameter;
    if cost < 2 || !cost.is_power_of_two() || scrypt.block_size == 0 || scrypt.parallelization == 0
    {
        return Err(Refusal::Malformed(format!(
            "scrypt parameters N={cost}, r={}, p={}",
            scrypt.block_size, scrypt.parallelization
        )));
    }
    let memory = 128u64
        .saturating_mul(cost)
        .saturating_mul(u64::from(scrypt.block_size));
    if memory > MAX_SCRYPT_MEMORY || scrypt.parallelization > MAX_SCRYPT_PARALLELISM {
        return Err(Refusal::Unsupported(format!(
            "scrypt with N={cost}, r={}, p={} (needs {} MiB; at most {} MiB and p={} are \
             allowed)",
            scrypt.block_size,
            scrypt.parallelization,
            memory / (1024 * 1024),
            MAX_SCRYPT_MEMORY / (1024 * 1024),
            MAX_SCRYPT_PARALLELISM
        )));
    }
    Ok(())
}

fn prf_name(prf: Pbkdf2Prf) -> &'static str {
    match prf {
        Pbkdf2Prf::HmacWithSha1 => "HMAC-SHA1",
        Pbkdf2Prf::HmacWithSha224 => "HMAC-SHA224",
        Pbkdf2Prf::HmacWithSha256 => "HMAC-SHA256",
        Pbkdf2Prf::HmacWithSha384 => "HMAC-SHA384",
        Pbkdf2Prf::HmacWithSha512 => "HMAC-SHA512",
        _ => "HMAC",
    }
}

fn decrypt_pbes1(
    scheme: pbes1::EncryptionScheme,
    parameters: Option<AnyRef<'_>>,
    ciphertext: &[u8],
    password: Option<&str>,
) -> Result<Plaintext, Refusal> {
    use pbes1::EncryptionScheme as Pbe;

    let name = match scheme {
        Pbe::PbeWithMd2AndDesCbc => "PBE-MD2-DES",
        Pbe::PbeWithMd2AndRc2Cbc => "PBE-MD2-RC2-64",
        Pbe::PbeWithMd5AndDesCbc => "PBE-MD5-DES",
        Pbe::PbeWithMd5AndRc2Cbc => "PBE-MD5-RC2-64",
        Pbe::PbeWithSha1AndDesCbc => "PBE-SHA1-DES",
        Pbe::PbeWithSha1AndRc2Cbc => "PBE-SHA1-RC2-64",
    };
    if matches!(scheme, Pbe::PbeWithMd2AndDesCbc | Pbe::PbeWithMd2AndRc2Cbc) {
        return Err(Refusal::Unsupported(format!("PKCS#5 v1.5 {name}")));
    }
    let parameters = parameters
        .ok_or_else(|| Refusal::Malformed(format!("PKCS#5 v1.5 {name} without parameters")))?
        .decode_as::<pbes1::Parameters>()
        .map_err(|err| Refusal::Malformed(format!("PKCS#5 v1.5 {name} parameters: {err}")))?;
    check_iterations(u64::from(parameters.iteration_count))?;
    check_whole_blocks(ciphertext, 8)?;
    let password = password.ok_or(Refusal::PasswordMissing)?;

    // PBKDF1 (RFC 8018 section 5.1) gives DES or RC2 its 8-byte key and 8-byte IV from one hash
    // output. Its output is the first block of OpenSSL's EVP_BytesToKey with the same hash and
    // count, which the `evpkdf` crate implements; no maintained crate offers PBKDF1 itself.
    let mut derived = Zeroizing::new([0u8; 16]);
    let iterations = usize::from(parameters.iteration_count);
    match scheme.digest() {
        pbes1::DigestAlgorithm::Md5 => evpkdf::evpkdf::<md5::Md5>(
            password.as_bytes(),
            &parameters.salt,
            iterations,
            &mut *derived,
        ),
        _ => evpkdf::evpkdf::<sha1::Sha1>(
            password.as_bytes(),
            &parameters.salt,
            iterations,
            &mut *derived,
        ),
    }
    let (key, iv) = derived.split_at(8);
    let der = match scheme.cipher() {
        pbes1::SymmetricCipher::DesCbc => cbc_decrypt::<des::Des>(key, iv, ciphertext)?,
        // RC2 with an 8-byte key, so 64 effective bits, as PKCS#5 v1.5 specifies.
        pbes1::SymmetricCipher::Rc2Cbc => cbc_decrypt::<rc2::Rc2>(key, iv, ciphertext)?,
    };
    Ok(Plaintext {
        der,
        scheme: Scheme {
            name: format!("PKCS#5 v1.5 {name}"),
            weak: true,
        },
    })
}

/// The PKCS#12 password-based encryption schemes (RFC 7292 appendix C).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pkcs12Cipher {
    Rc4_128,
    Rc4_40,
    DesEde3,
    DesEde2,
    Rc2_128,
    Rc2_40,
}

impl Pkcs12Cipher {
    fn from_oid(oid: ObjectIdentifier) -> Option<Self> {
        match oid {
            PKCS12_PBE_SHA1_RC4_128 => Some(Pkcs12Cipher::Rc4_128),
            PKCS12_PBE_SHA1_RC4_40 => Some(Pkcs12Cipher::Rc4_40),
            PKCS12_PBE_SHA1_3DES => Some(Pkcs12Cipher::DesEde3),
            PKCS12_PBE_SHA1_2DES => Some(Pkcs12Cipher::DesEde2),
            PKCS12_PBE_SHA1_RC2_128 => Some(Pkcs12Cipher::Rc2_128),
            PKCS12_PBE_SHA1_RC2_40 => Some(Pkcs12Cipher::Rc2_40),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Pkcs12Cipher::Rc4_128 => "PBE-SHA1-RC4-128",
            Pkcs12Cipher::Rc4_40 => "PBE-SHA1-RC4-40",
            Pkcs12Cipher::DesEde3 => "PBE-SHA1-3DES",
            Pkcs12Cipher::DesEde2 => "PBE-SHA1-2DES",
            Pkcs12Cipher::Rc2_128 => "PBE-SHA1-RC2-128",
            Pkcs12Cipher::Rc2_40 => "PBE-SHA1-RC2-40",
        }
    }

    fn key_len(self) -> usize {
        match self {
            Pkcs12Cipher::Rc4_128 | Pkcs12Cipher::DesEde2 | Pkcs12Cipher::Rc2_128 => 16,
            Pkcs12Cipher::Rc4_40 | Pkcs12Cipher::Rc2_40 => 5,
            Pkcs12Cipher::DesEde3 => 24,
        }
    }
}

fn decrypt_pkcs12_pbe(
    cipher: Pkcs12Cipher,
    parameters: Option<AnyRef<'_>>,
    ciphertext: &[u8],
    password: Option<&str>,
) -> Result<Plaintext, Refusal> {
    let name = cipher.name();
    let parameters = parameters
        .ok_or_else(|| Refusal::Malformed(format!("PKCS#12 {name} without parameters")))?
        .decode_as::<pkcs12::pbe_params::Pkcs12PbeParams>()
        .map_err(|err| Refusal::Malformed(format!("PKCS#12 {name} parameters: {err}")))?;
    let iterations = u64::try_from(parameters.iterations).map_err(|_| {
        Refusal::Malformed(format!("PKCS#12 {name} with a negative iteration count"))
    })?;
    check_iterations(iterations)?;
    let is_stream = matches!(cipher, Pkcs12Cipher::Rc4_128 | Pkcs12Cipher::Rc4_40);
    if !is_stream {
        check_whole_blocks(ciphertext, 8)?;
    }
    let password = password.ok_or(Refusal::PasswordMissing)?;

    let salt = parameters.salt.as_bytes();
    let derive = |kind: Pkcs12KeyType, len: usize| {
        pkcs12::kdf::derive_key_utf8::<sha1::Sha1>(password, salt, kind, parameters.iterations, len)
            .map(Zeroizing::new)
            // Only a password with characters outside the Basic Multilingual Plane fails to convert
            // to the BMPString the KDF takes; no such password can have encrypted this key.
            .map_err(|_| Refusal::Undecryptable)
    };
    let key = derive(Pkcs12KeyType::EncryptionKey, cipher.key_len())?;
    let der = if is_stream {
        let mut plaintext = Zeroizing::new(ciphertext.to_vec());
        if cipher == Pkcs12Cipher::Rc4_128 {
            rc4_apply::<rc4::consts::U16>(&key, &mut plaintext)?;
        } else {
            rc4_apply::<rc4::consts::U5>(&key, &mut plaintext)?;
        }
        plaintext
    } else {
        let iv = derive(Pkcs12KeyType::Iv, 8)?;
        match cipher {
            Pkcs12Cipher::DesEde3 => cbc_decrypt::<des::TdesEde3>(&key, &iv, ciphertext)?,
            Pkcs12Cipher::DesEde2 => cbc_decrypt::<des::TdesEde2>(&key, &iv, ciphertext)?,
            _ => cbc_decrypt::<rc2::Rc2>(&key, &iv, ciphertext)?,
        }
    };
    Ok(Plaintext {
        der,
        scheme: Scheme {
            name: format!("PKCS#12 {name}"),
            weak: true,
        },
    })
}

fn rc4_apply<N>(key: &[u8], data: &mut [u8]) -> Result<(), Refusal>
where
    N: rc4::cipher::generic_array::ArrayLength<u8>,
{
    let mut cipher = rc4::Rc4::<N>::new_from_slice(key)
        .map_err(|_| Refusal::Malformed("the RC4 key has the wrong length".into()))?;
    cipher.apply_keystream(data);
    Ok(())
}

/// A readable name for the OIDs an operator may meet in an unsupported key.
fn oid_name(oid: ObjectIdentifier) -> String {
    let name = match oid.to_string().as_str() {
        "1.2.840.113549.3.2" => "RC2-CBC",
        "1.2.840.113549.3.4" => "RC4",
        "2.16.840.1.101.3.4.1.6" => "AES-128-GCM",
        "2.16.840.1.101.3.4.1.26" => "AES-192-GCM",
        "2.16.840.1.101.3.4.1.46" => "AES-256-GCM",
        "1.2.840.113549.2.10" => "HMAC-SHA384",
        "1.2.840.113549.2.11" => "HMAC-SHA512",
        "1.2.840.113549.2.12" => "HMAC-SHA512-224",
        "1.2.840.113549.2.13" => "HMAC-SHA512-256",
        "1.2.840.113549.1.5.12" => "PBKDF2",
        "1.3.6.1.4.1.11591.4.11" => "scrypt",
        "1.2.840.113549.1.9.16.3.9" => "PWRI-KEK",
        "1.2.643.7.1.1.4.1" | "1.2.643.7.1.1.4.2" => "HMAC-GOST",
        _ => return format!("OID {oid}"),
    };
    format!("{name} (OID {oid})")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn cases() -> PathBuf {
        match std::env::var_os("TLSCTX_CASES") {
            Some(dir) => PathBuf::from(dir),
            None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/cases"),
        }
    }

    fn read_case(case: &str, file: &str) -> Vec<u8> {
        std::fs::read(cases().join(case).join(file)).unwrap()
    }

    fn password(case: &str) -> String {
        String::from_utf8(read_case(case, "password.txt")).unwrap()
    }

    fn pkcs8_der(case: &str, file: &str) -> Vec<u8> {
        let block = pem::parse(read_case(case, file)).unwrap();
        assert_eq!(block.tag(), "ENCRYPTED PRIVATE KEY");
        block.contents().to_vec()
    }

    #[test]
    fn pbes2_schemes_are_named_and_only_des_is_weak() {
        let password = password("B09");
        let expected = [
            (
                "server-rsa-pbes2-aes256-sha256.key",
                "PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC)",
                false,
            ),
            (
                "server-rsa-pbes2-aes128-sha1.key",
                "PBES2 (PBKDF2-HMAC-SHA1, AES-128-CBC)",
                false,
            ),
            (
                "server-rsa-pbes2-des3.key",
                "PBES2 (PBKDF2-HMAC-SHA256, DES-EDE3-CBC)",
                true,
            ),
            (
                "server-rsa-pbes2-scrypt.key",
                "PBES2 (scrypt, AES-256-CBC)",
                false,
            ),
        ];
        for (file, name, weak) in expected {
            let plaintext =
                decrypt_private_key_info(&pkcs8_der("B09", file), Some(&password)).unwrap();
            assert_eq!(
                plaintext.scheme,
                Scheme {
                    name: name.to_string(),
                    weak
                },
                "{file}"
            );
        }
    }

    #[test]
    fn all_pbes2_variants_of_one_key_decrypt_to_the_same_key() {
        let password = password("B09");
        let reference = decrypt_private_key_info(
            &pkcs8_der("B09", "server-rsa-pbes2-aes256-sha256.key"),
            Some(&password),
        )
        .unwrap()
        .der;
        for file in [
            "server-rsa-pbes2-aes128-sha1.key",
            "server-rsa-pbes2-des3.key",
            "server-rsa-pbes2-scrypt.key",
        ] {
            let plaintext =
                decrypt_private_key_info(&pkcs8_der("B09", file), Some(&password)).unwrap();
            assert_eq!(plaintext.der, reference, "{file}");
        }
    }

    #[test]
    fn wrong_missing_and_empty_passwords_are_told_apart() {
        let der = pkcs8_der("B09", "server-rsa-pbes2-aes256-sha256.key");
        assert_eq!(
            decrypt_private_key_info(&der, Some("not-the-password")).err(),
            Some(Refusal::Undecryptable)
        );
        assert_eq!(
            decrypt_private_key_info(&der, None).err(),
            Some(Refusal::PasswordMissing)
        );
        let path = Path::new("k.pem");
        assert!(matches!(
            Refusal::Undecryptable.into_error(path, Some("")),
            Error::KeyEncrypted { .. }
        ));
        assert!(matches!(
            Refusal::Undecryptable.into_error(path, Some("x")),
            Error::WrongPassword { .. }
        ));
    }

    #[test]
    fn a_truncated_key_is_malformed_not_a_wrong_password() {
        let der = pkcs8_der("B09", "server-rsa-pbes2-aes256-sha256.key");
        let refusal = decrypt_private_key_info(&der[..der.len() - 5], Some("x")).err();
        assert!(
            matches!(refusal, Some(Refusal::Malformed(_))),
            "{refusal:?}"
        );
    }

    #[test]
    fn a_cut_ciphertext_is_malformed_not_a_wrong_password() {
        let der = pkcs8_der("B09", "server-rsa-pbes2-aes256-sha256.key");
        let (algorithm, ciphertext) = parse_encrypted_private_key_info(&der).unwrap();
        let refusal = decrypt(algorithm, &ciphertext[..ciphertext.len() - 3], Some("x")).err();
        assert_eq!(
            refusal,
            Some(Refusal::Malformed(format!(
                "the encrypted key is {} bytes, not a whole number of 16-byte blocks \
                 (truncated?)",
                ciphertext.len() - 3
            )))
        );
    }

    #[test]
    fn traditional_pem_decrypts_to_the_same_pkcs1_key_with_aes_and_des3() {
        let password = password("B08");
        let aes = pem::parse(read_case("B08", "server-rsa-trad-aes256.key")).unwrap();
        let des3 = pem::parse(read_case("B08", "server-rsa-trad-des3.key")).unwrap();
        let from_aes = decrypt_pem_block(&aes, Some(&password)).unwrap();
        let from_des3 = decrypt_pem_block(&des3, Some(&password)).unwrap();
        assert_eq!(from_aes.der, from_des3.der);
        assert_eq!(
            from_aes.scheme.name,
            "traditional OpenSSL PEM encryption (AES-256-CBC, MD5 key derivation)"
        );
        assert!(from_aes.scheme.weak);
        assert_eq!(
            from_des3.scheme.name,
            "traditional OpenSSL PEM encryption (DES-EDE3-CBC, MD5 key derivation)"
        );
    }

    #[test]
    fn traditional_pem_with_an_unknown_cipher_is_named() {
        let mut block = pem::parse(read_case("B08", "server-ec-trad-aes128.key")).unwrap();
        let contents = block.contents().to_vec();
        let mut text = pem::encode(&block);
        text = text.replace("AES-128-CBC", "CAMELLIA-128-CBC");
        block = pem::parse(text).unwrap();
        assert_eq!(block.contents(), contents.as_slice());
        assert_eq!(
            decrypt_pem_block(&block, Some("x")).err(),
            Some(Refusal::Unsupported(
                "traditional OpenSSL PEM encryption (DEK-Info: CAMELLIA-128-CBC); convert the key \
                 with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
                    .into()
            ))
        );
    }

    #[test]
    fn traditional_pem_with_a_bad_iv_is_malformed() {
        let block = pem::parse(read_case("B08", "server-ec-trad-aes128.key")).unwrap();
        let text = pem::encode(&block);
        let dek_info = block.headers().get("DEK-Info").unwrap();
        let damaged = text.replace(dek_info, "AES-128-CBC,00112233");
        let block = pem::parse(damaged).unwrap();
        assert_eq!(
            decrypt_pem_block(&block, Some("x")).err(),
            Some(Refusal::Malformed(
                "DEK-Info IV \"00112233\" is not 16 hex bytes".into()
            ))
        );
    }

    #[test]
    fn hex_decoding_refuses_odd_and_non_hex_text() {
        assert_eq!(decode_hex("00ff10"), Some(vec![0x00, 0xff, 0x10]));
        assert_eq!(decode_hex("0ff"), None);
        assert_eq!(decode_hex("zz"), None);
        assert_eq!(decode_hex("é0"), None);
    }

    #[test]
    fn an_unknown_algorithm_is_named_by_its_oid() {
        let algorithm = AlgorithmIdentifierRef {
            oid: ObjectIdentifier::new_unwrap("1.2.3.4"),
            parameters: None,
        };
        assert_eq!(
            decrypt(algorithm, &[0; 16], Some("x")).err(),
            Some(Refusal::Unsupported(
                "key encryption algorithm 1.2.3.4".into()
            ))
        );
    }

    #[test]
    fn scrypt_parameters_beyond_the_limits_are_refused_before_deriving() {
        let huge = pbes2::ScryptParams {
            salt: b"saltsalt",
            cost_parameter: 1 << 22,
            block_size: 8,
            parallelization: 1,
            key_length: None,
        };
        assert_eq!(
            check_scrypt(&huge),
            Err(Refusal::Unsupported(
                "scrypt with N=4194304, r=8, p=1 (needs 4096 MiB; at most 256 MiB and p=16 are \
                 allowed)"
                    .into()
            ))
        );
        let zero = pbes2::ScryptParams {
            cost_parameter: 0,
            ..huge
        };
        assert!(matches!(check_scrypt(&zero), Err(Refusal::Malformed(_))));
    }
}
