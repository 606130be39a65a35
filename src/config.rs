//! Every setting in one place: environment variables, an optional `.env`, and `Leptos.toml`
//! (the site settings shared with cargo-leptos; `LEPTOS_*` variables override it).

use ipnet::IpNet;
use leptos::config::LeptosOptions;
use std::net::SocketAddr;
use url::Url;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/patio.db";
pub const DEFAULT_LOG_FILTER: &str = "patio=info,tower_http=info,warn";

#[derive(Clone, Debug)]
pub struct Config {
    /// `DATABASE_URL`: `sqlite://…` (default `sqlite://data/patio.db`) or `postgres://…`.
    pub database_url: String,
    /// `PATIO_PUBLIC_URL`: where users reach Patio; decides the CSRF origin and `Secure`
    /// cookies. Defaults to `http://` + the listen address.
    pub public_url: Url,
    /// `RUST_LOG`: the `tracing` filter.
    pub log_filter: String,
    /// `RUST_LOG_FORMAT`: `text` (the default) or `json`, one object per line for log
    /// collectors.
    pub log_format: LogFormat,
    /// `PATIO_TRUSTED_PROXIES`: comma-separated IPs and CIDRs of reverse proxies whose
    /// `X-Forwarded-For` is believed (SPEC §9). Empty by default.
    pub trusted_proxies: Vec<IpNet>,
    /// `PATIO_REVOCATION_TOKEN`: the token a self-managed GitLab sends to revoke leaked Patio
    /// tokens (GitLab's Token Revocation API); unset, those routes do not exist.
    pub revocation_token: Option<String>,
    /// `PATIO_SMTP_URL`: where mail goes (`smtp://[user:password@]host[:port]`, upgraded with
    /// STARTTLS when the server offers it, or `smtps://`); unset, mail is off.
    pub smtp_url: Option<String>,
    /// `PATIO_MAIL_FROM`: the sender of Patio's mail, e.g. `Patio <patio@example.com>`.
    pub mail_from: Option<String>,
    /// `PATIO_WEBHOOK_ALLOW_PRIVATE=true`: webhooks may target loopback, private and link-local
    /// addresses (refused by default).
    pub webhook_allow_private: bool,
    /// Whether this process runs the notification sender in the background: always when Patio
    /// runs, not in tests that move the clock and drive it themselves.
    pub notification_sender: bool,
    /// `PATIO_METRICS_TOKEN`: a Bearer token that opens `/metrics` from anywhere; unset, only
    /// this machine may read it.
    pub metrics_token: Option<String>,
    /// Site settings; `site_addr` (`LEPTOS_SITE_ADDR`) is the listen address.
    pub leptos: LeptosOptions,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read the site settings in Leptos.toml: {0}")]
    Leptos(String),
    #[error("PATIO_PUBLIC_URL is not a valid http(s) URL: {0}")]
    PublicUrl(String),
    #[error("PATIO_TRUSTED_PROXIES holds `{0}`, which is not an IP address or CIDR network")]
    TrustedProxy(String),
    #[error("RUST_LOG_FORMAT is `{0}`; use `text` or `json`")]
    LogFormat(String),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl LogFormat {
    pub fn parse(text: &str) -> Result<LogFormat, ConfigError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(ConfigError::LogFormat(text.to_owned())),
        }
    }
}

impl Config {
    /// Reads `.env` (if present), `Leptos.toml` (if present) and the environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        // A missing .env is normal; anything set in the real environment wins over it. Only
        // the working folder's: a .env in some parent folder is not this installation's.
        let _ = dotenvy::from_path(".env");
        // The site settings: the working folder's Leptos.toml, else the one compiled in, so a
        // binary started from any folder has them; LEPTOS_* variables override either.
        let text = std::fs::read_to_string("Leptos.toml")
            .unwrap_or_else(|_| include_str!("../Leptos.toml").to_owned());
        let mut leptos = leptos::config::get_config_from_str(&text)
            .map_err(|error| ConfigError::Leptos(error.to_string()))?;
        // cargo-leptos writes hash.txt beside the binary it builds; a binary run without one
        // (a debug build, a copy elsewhere) serves the unhashed names instead of failing.
        if leptos.hash_files && !hash_file_beside_binary(&leptos) {
            leptos.hash_files = false;
        }
        leptos.site_root = find_site_root(&leptos.site_root).into();
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let public_url = match env("PATIO_PUBLIC_URL") {
            Some(text) => parse_public_url(&text)?,
            None => parse_public_url(&format!("http://{}", leptos.site_addr))?,
        };
        Ok(Config {
            database_url: env("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            public_url,
            log_filter: env("RUST_LOG").unwrap_or_else(|| DEFAULT_LOG_FILTER.into()),
            log_format: LogFormat::parse(&env("RUST_LOG_FORMAT").unwrap_or_default())?,
            trusted_proxies: parse_networks(&env("PATIO_TRUSTED_PROXIES").unwrap_or_default())
                .map_err(ConfigError::TrustedProxy)?,
            revocation_token: env("PATIO_REVOCATION_TOKEN"),
            metrics_token: env("PATIO_METRICS_TOKEN"),
            notification_sender: true,
            smtp_url: env("PATIO_SMTP_URL"),
            mail_from: env("PATIO_MAIL_FROM"),
            webhook_allow_private: env("PATIO_WEBHOOK_ALLOW_PRIVATE").is_some_and(|v| {
                matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes")
            }),
            leptos,
        })
    }

    pub fn listen_addr(&self) -> SocketAddr {
        self.leptos.site_addr
    }

    /// Cookies get `Secure` whenever users reach Patio over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The one origin (`scheme://host[:port]`) that state-changing browser requests may come from.
    pub fn origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }
}

/// A comma-separated list of IPs and CIDR networks; a bare IP is a network of one address.
/// The first entry that is neither comes back as the error.
pub fn parse_networks(text: &str) -> Result<Vec<IpNet>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| parse_network(entry).ok_or_else(|| entry.to_owned()))
        .collect()
}

/// An IP (`203.0.113.7`, `2001:db8::1`) or CIDR network (`203.0.113.0/24`), normalised to its
/// network address. IPv4-mapped IPv6 (`::ffff:203.0.113.0/120`) is the IPv4 network it maps,
/// as client addresses are.
pub fn parse_network(text: &str) -> Option<IpNet> {
    let text = text.trim();
    let net = text
        .parse::<IpNet>()
        .map(|net| net.trunc())
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .ok()?;
    Some(match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => IpNet::new(v4.into(), v6.prefix_len() - 96).ok()?,
            None => net,
        },
        other => other,
    })
}

fn parse_public_url(text: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text.trim()).map_err(|error| ConfigError::PublicUrl(error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::PublicUrl(text.to_owned()));
    }
    Ok(url)
}

/// The site folder (the hydrate bundle, stylesheet and favicon): `site_root` from the working
/// folder when it is there; else a `site` folder beside the binary, or one level up — where
/// cargo-leptos leaves it (`target/release/patio`, `target/site`) — so the release binary serves
/// the same styled pages whatever folder it is started from.
fn find_site_root(site_root: &str) -> String {
    let given = std::path::Path::new(site_root);
    if given.is_absolute() || given.is_dir() {
        return site_root.to_owned();
    }
    let beside_binary = std::env::current_exe().ok().and_then(|exe| {
        let dir = exe.parent()?.to_path_buf();
        [dir.join("site"), dir.parent()?.join("site")]
            .into_iter()
            .find(|candidate| candidate.is_dir())
    });
    beside_binary.map_or_else(|| site_root.to_owned(), |dir| dir.display().to_string())
}

impl Config {
    /// The site files the pages link that are missing from the site folder: with any missing,
    /// pages are served without their stylesheet or WebAssembly (plain forms still work).
    pub fn missing_site_files(&self) -> Vec<std::path::PathBuf> {
        let options = &self.leptos;
        let mut hashes = std::collections::HashMap::new();
        if options.hash_files {
            let hash_file = std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(|dir| dir.join(options.hash_file.as_ref())));
            let text = hash_file
                .and_then(|file| std::fs::read_to_string(file).ok())
                .unwrap_or_default();
            for line in text.lines() {
                if let Some((kind, hash)) = line.split_once(':') {
                    hashes.insert(kind.trim().to_owned(), format!(".{}", hash.trim()));
                }
            }
        }
        let pkg =
            std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
        ["js", "wasm", "css"]
            .into_iter()
            .map(|kind| {
                let hash = hashes.get(kind).map_or("", String::as_str);
                pkg.join(format!("{}{hash}.{kind}", options.output_name))
            })
            .filter(|file| !file.exists())
            .collect()
    }
}

fn hash_file_beside_binary(leptos: &LeptosOptions) -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(leptos.hash_file.as_ref())))
        .is_some_and(|path| path.exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_ipv4_networks_are_ipv4() {
        assert_eq!(
            parse_network("::ffff:203.0.113.7"),
            parse_network("203.0.113.7")
        );
        assert_eq!(
            parse_network("::ffff:203.0.113.0/120"),
            parse_network("203.0.113.0/24")
        );
        assert_eq!(
            parse_network("2001:db8::/32").map(|net| net.to_string()),
            Some("2001:db8::/32".into())
        );
    }

    #[test]
    fn public_urls_must_be_http_or_https() {
        assert!(parse_public_url("https://patio.example.com").is_ok());
        assert!(parse_public_url("http://127.0.0.1:3000/").is_ok());
        assert!(parse_public_url("ftp://example.com").is_err());
        assert!(parse_public_url("not a url").is_err());
    }

    #[test]
    fn origin_drops_the_path_and_keeps_the_port() {
        let config = Config {
            database_url: DEFAULT_DATABASE_URL.into(),
            public_url: parse_public_url("https://patio.example.com:8443/app/").unwrap(),
            log_filter: DEFAULT_LOG_FILTER.into(),
            log_format: LogFormat::Text,
            trusted_proxies: Vec::new(),
            revocation_token: None,
            metrics_token: None,
            smtp_url: None,
            mail_from: None,
            webhook_allow_private: false,
            notification_sender: true,
            leptos: LeptosOptions::builder().output_name("patio").build(),
        };
        assert_eq!(config.origin(), "https://patio.example.com:8443");
        assert!(config.secure_cookies());
    }

    #[test]
    fn trusted_proxies_are_ips_and_networks() {
        let nets = parse_networks(" 10.0.0.1, 192.168.0.0/16 ,2001:db8::/32,,").unwrap();
        assert_eq!(
            nets.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["10.0.0.1/32", "192.168.0.0/16", "2001:db8::/32"]
        );
        assert_eq!(
            parse_networks("10.0.0.1, proxy.local"),
            Err("proxy.local".into())
        );
        assert_eq!(
            parse_network("10.1.2.3/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert!(parse_network("10.0.0.0/33").is_none());
        assert!(parse_networks("").unwrap().is_empty());
    }

    /// cargo-leptos reads `[package.metadata.leptos]` in Cargo.toml; the server reads
    /// Leptos.toml. Every setting both use must agree.
    #[test]
    fn leptos_toml_agrees_with_cargo_toml() {
        let root = env!("CARGO_MANIFEST_DIR");
        let read = |file: &str| {
            let text = std::fs::read_to_string(format!("{root}/{file}")).unwrap();
            leptos::config::get_config_from_str(&text).unwrap()
        };
        let (site, build) = (read("Leptos.toml"), read("Cargo.toml"));
        assert_eq!(site.output_name, build.output_name);
        assert_eq!(site.site_root, build.site_root);
        assert_eq!(site.site_pkg_dir, build.site_pkg_dir);
        assert_eq!(site.site_addr, build.site_addr);
        assert_eq!(site.reload_port, build.reload_port);
        assert_eq!(site.hash_files, build.hash_files);
    }
}
