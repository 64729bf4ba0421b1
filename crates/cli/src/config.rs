//! Settings: command-line flags and XCERT_* environment variables over a TOML file over
//! defaults.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::PathBuf;
use xcert_store::{Objects, Store};

/// The TOML file's keys (all optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub database_url: Option<String>,
    /// `file:///path` or `s3://bucket` (S3 needs the `s3` build feature).
    pub objects_url: Option<String>,
    pub port: Option<u16>,
    pub bind: Option<String>,
    pub base_url: Option<String>,
    pub secure_cookies: Option<bool>,
    /// 64 hex digits sealing the TEOs' signing keys (default: DATA_DIR/master.key,
    /// created on first use; or XCERT_MASTER_KEY).
    pub master_key: Option<String>,
}

pub struct Settings {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub file: FileConfig,
}

impl Settings {
    pub fn load(
        data_dir: Option<PathBuf>,
        database_url: Option<String>,
        config: Option<PathBuf>,
        default_dir: &str,
    ) -> Result<Settings> {
        let data_dir = data_dir.unwrap_or_else(|| PathBuf::from(default_dir));
        let path = config
            .clone()
            .unwrap_or_else(|| data_dir.join("xcert.toml"));
        let file = if path.exists() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            toml::from_str(&text).with_context(|| format!("in {}", path.display()))?
        } else if config.is_some() {
            anyhow::bail!("configuration file {} does not exist", path.display());
        } else {
            FileConfig::default()
        };
        let objects_env = std::env::var("XCERT_OBJECTS_URL").ok();
        let mut file = file;
        if objects_env.is_some() {
            file.objects_url = objects_env;
        }
        let database_url = database_url.or(file.database_url.clone());
        Ok(Settings {
            data_dir,
            database_url,
            file,
        })
    }

    pub async fn open_store(&self) -> Result<Store> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        let objects = match &self.file.objects_url {
            Some(u) => Objects::from_url(u)?,
            None => Objects::local(&self.data_dir.join("objects"))?,
        };
        let url = match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.data_dir.join("xcert.db").display()),
        };
        Store::open(&url, objects)
            .await
            .with_context(|| format!("opening database {}", xcert_store::redact_url(&url)))
    }

    /// The instance's master key: XCERT_MASTER_KEY, the configuration's `master_key`, or
    /// DATA_DIR/master.key (created, readable by the owner only, on first use). Losing it
    /// means the TEOs' keys can no longer sign (issued credentials still verify).
    pub fn master_key(&self) -> Result<xcert_web::MasterKey> {
        let given = std::env::var("XCERT_MASTER_KEY")
            .ok()
            .or(self.file.master_key.clone());
        if let Some(h) = given {
            return xcert_web::MasterKey::from_hex(&h)
                .context("the master key must be 64 hex digits (32 bytes)");
        }
        let path = self.data_dir.join("master.key");
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            return xcert_web::MasterKey::from_hex(&text)
                .with_context(|| format!("{} does not hold 64 hex digits", path.display()));
        }
        std::fs::create_dir_all(&self.data_dir)?;
        let key = xcert_web::MasterKey::generate();
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        use std::io::Write;
        opts.open(&path)
            .and_then(|mut f| f.write_all(hex_encode(&key.0).as_bytes()))
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(key)
    }

    /// The web layer's settings for this data folder (also used by commands that run the
    /// services without serving).
    pub fn web_config(&self, base_url: Option<String>) -> Result<xcert_web::WebConfig> {
        Ok(xcert_web::WebConfig {
            base_url: base_url
                .or(self.file.base_url.clone())
                .unwrap_or_else(|| "http://127.0.0.1:8080".into()),
            secure_cookies: self.file.secure_cookies.unwrap_or(false),
            staging_dir: self.data_dir.join("ingest-uploads"),
            master_key: self.master_key()?,
        })
    }

    pub fn database_display(&self) -> String {
        match &self.database_url {
            Some(u) => xcert_store::redact_url(u),
            None => format!("SQLite {}", self.data_dir.join("xcert.db").display()),
        }
    }
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
