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

    pub fn database_display(&self) -> String {
        match &self.database_url {
            Some(u) => xcert_store::redact_url(u),
            None => format!("SQLite {}", self.data_dir.join("xcert.db").display()),
        }
    }
}
