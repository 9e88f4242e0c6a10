//! Reading a RocketMQ-style `tls.properties` file into a [`TlsConfig`], so a broker switches to
//! tlsctx without rewriting its settings.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use crate::config::{ClientAuth, Role, TlsConfig};
use crate::error::Error;

impl TlsConfig {
    /// Reads the broker settings of `role` from a Java properties file with RocketMQ's keys.
    ///
    /// For a server: `tls.server.certPath`, `tls.server.keyPath`, `tls.server.keyPassword`,
    /// `tls.server.trustCertPath`, `tls.server.need.client.auth` (`none`, `optional` or
    /// `require`). For a client: the same under `tls.client.*`, and `tls.client.authServer`
    /// (whether the client verifies the server). For both: `tls.test.mode.enable`.
    ///
    /// # Defaults
    ///
    /// RocketMQ's, so behaviour does not change with the switch: test mode is on unless
    /// `tls.test.mode.enable=false` (a server then serves a self-signed certificate, ignoring
    /// the paths), client authentication is `none`, and a client does not verify the server
    /// unless `tls.client.authServer=true`. Test mode and an unverified server each log a
    /// warning.
    ///
    /// `tls.server.authClient=false` (RocketMQ then accepts any client certificate) is not
    /// followed: a requested client certificate is always verified against the trust bundle,
    /// and a warning says so.
    ///
    /// # Errors
    ///
    /// The file is missing or unreadable, is not a properties file, or holds a value that is
    /// not one of the allowed ones (named with its key).
    pub fn from_broker_properties(path: impl AsRef<Path>, role: Role) -> Result<TlsConfig, Error> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|err| Error::read_failure(path, err))?;
        let settings = java_properties::read(file).map_err(|err| {
            Error::InvalidConfig(format!(
                "{}: not a Java properties file: {err}",
                path.display()
            ))
        })?;
        Settings {
            path,
            values: &settings,
        }
        .config(role)
    }
}

struct Settings<'a> {
    path: &'a Path,
    values: &'a HashMap<String, String>,
}

impl Settings<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(|value| value.trim())
            .filter(|value| !value.is_empty())
    }

    fn flag(&self, key: &str, default: bool) -> Result<bool, Error> {
        match self.get(key).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(self.invalid(key, other, "true or false")),
        }
    }

    fn invalid(&self, key: &str, value: &str, allowed: &str) -> Error {
        Error::InvalidConfig(format!(
            "{}: {key}={value} is not valid; expected {allowed}",
            self.path.display()
        ))
    }

    fn config(&self, role: Role) -> Result<TlsConfig, Error> {
        let prefix = match role {
            Role::Server => "tls.server.",
            Role::Client => "tls.client.",
        };
        let key = |name: &str| format!("{prefix}{name}");
        let mut config = match role {
            Role::Server => TlsConfig::server(),
            Role::Client => TlsConfig::client(),
        };

        let test_mode = self.flag("tls.test.mode.enable", true)?;
        if test_mode {
            tracing::warn!(
                path = %self.path.display(),
                "tls.test.mode.enable is true (RocketMQ's default): self-signed server, \
                 no server verification; set it to false in production"
            );
        }
        if !(test_mode && role == Role::Server) {
            if let Some(cert_chain) = self.get(&key("certPath")) {
                config = config.cert_chain(cert_chain);
            }
            if let Some(private_key) = self.get(&key("keyPath")) {
                config = config.private_key(private_key);
            }
        }
        // Untrimmed: a password may end in spaces, and Java keeps them too.
        let password = self
            .values
            .get(&key("keyPassword"))
            .filter(|value| !value.is_empty());
        if let Some(password) = password {
            config = config.key_password(password);
        }
        if let Some(trust_bundle) = self.get(&key("trustCertPath")) {
            config = config.trust_bundle(trust_bundle);
        }
        match role {
            Role::Server => {
                let mode = match self
                    .get(&key("need.client.auth"))
                    .map(str::to_ascii_lowercase)
                {
                    None => ClientAuth::None,
                    Some(mode) => match mode.as_str() {
                        "none" => ClientAuth::None,
                        "optional" => ClientAuth::Optional,
                        "require" => ClientAuth::Require,
                        other => {
                            return Err(self.invalid(
                                &key("need.client.auth"),
                                other,
                                "none, optional or require",
                            ))
                        }
                    },
                };
                if mode != ClientAuth::None && !self.flag(&key("authClient"), true)? {
                    tracing::warn!(
                        path = %self.path.display(),
                        "tls.server.authClient=false is not followed: client certificates are \
                         verified against tls.server.trustCertPath"
                    );
                }
                config = config.client_auth(mode);
            }
            Role::Client => {
                let verify = self.flag(&key("authServer"), false)? && !test_mode;
                if !verify && !test_mode {
                    tracing::warn!(
                        path = %self.path.display(),
                        "tls.client.authServer is not true: the client does not verify the server"
                    );
                }
                config = config.verify_server(verify);
            }
        }
        Ok(config.test_mode(test_mode))
    }
}
