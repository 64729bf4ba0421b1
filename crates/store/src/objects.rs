use crate::{Result, StoreError};
use bytes::Bytes;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The content-addressed file store: uploads and generated files are stored once under
/// their SHA-256, in a local folder by default or an S3-compatible bucket.
#[derive(Clone)]
pub struct Objects {
    inner: Arc<dyn ObjectStore>,
    description: String,
    /// The folder of a local store: large material files are copied there directly
    /// (kernel copy, no buffering through memory).
    local_root: Option<std::path::PathBuf>,
}

impl Objects {
    /// A folder on local disk (created if missing).
    pub fn local(dir: &std::path::Path) -> Result<Objects> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Objects(format!("{}: {e}", dir.display())))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| StoreError::Objects(e.to_string()))?;
        Ok(Objects {
            inner: Arc::new(fs),
            description: format!("folder {}", dir.display()),
            local_root: Some(dir.to_path_buf()),
        })
    }

    /// In memory, for tests.
    pub fn memory() -> Objects {
        Objects {
            inner: Arc::new(object_store::memory::InMemory::new()),
            description: "memory".into(),
            local_root: None,
        }
    }

    /// From a URL: `file:///path` or a plain path, or `s3://bucket/prefix` (credentials,
    /// region and endpoint from the usual AWS_* environment variables).
    pub fn from_url(url: &str) -> Result<Objects> {
        if let Some(path) = url.strip_prefix("file://") {
            return Objects::local(std::path::Path::new(path));
        }
        if url.starts_with("s3://") {
            return Self::s3(url);
        }
        if url.contains("://") {
            return Err(StoreError::Objects(format!(
                "unsupported object store URL {url}: use file:///PATH or s3://BUCKET"
            )));
        }
        Objects::local(std::path::Path::new(url))
    }

    #[cfg(feature = "s3")]
    fn s3(url: &str) -> Result<Objects> {
        let rest = &url["s3://".len()..];
        let (bucket, _prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let s3 = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .map_err(|e| StoreError::Objects(e.to_string()))?;
        Ok(Objects {
            inner: Arc::new(s3),
            description: format!("S3 bucket {bucket}"),
            local_root: None,
        })
    }

    #[cfg(not(feature = "s3"))]
    fn s3(url: &str) -> Result<Objects> {
        Err(StoreError::Objects(format!(
            "{url}: this build has no S3 support; rebuild with `cargo build --release --features s3`"
        )))
    }

    pub fn describe(&self) -> &str {
        &self.description
    }

    fn key(hash: &str) -> ObjPath {
        ObjPath::from(format!("sha256/{}/{}", &hash[..2], hash))
    }

    /// Store bytes under their hash (a no-op when already present); returns the hex hash.
    pub async fn put(&self, data: Vec<u8>) -> Result<String> {
        let hash = hex::encode(Sha256::digest(&data));
        let key = Self::key(&hash);
        if self.inner.head(&key).await.is_err() {
            self.inner
                .put(&key, PutPayload::from(Bytes::from(data)))
                .await
                .map_err(|e| StoreError::Objects(e.to_string()))?;
        }
        Ok(hash)
    }

    pub async fn get(&self, hash: &str) -> Result<Vec<u8>> {
        if !is_hex64(hash) {
            return Err(StoreError::NotFound(format!("object {hash}")));
        }
        self.get_key(hash, Self::key(hash)).await
    }

    /// Material files are addressed by their BLAKE3 hash, which the ingest engine computes
    /// anyway while deduplicating.
    fn blake3_key(hash: &str) -> ObjPath {
        ObjPath::from(format!("blake3/{}/{}", &hash[..2], hash))
    }

    fn local_blake3_path(root: &std::path::Path, hash: &str) -> std::path::PathBuf {
        root.join("blake3").join(&hash[..2]).join(hash)
    }

    /// Store bytes under a BLAKE3 hash the caller computed (no-op when present).
    pub async fn put_blake3(&self, hash: &str, data: Vec<u8>) -> Result<()> {
        check_hex64(hash)?;
        if let Some(root) = &self.local_root {
            let dest = Self::local_blake3_path(root, hash);
            if dest.exists() {
                return Ok(());
            }
            return write_atomically(&dest, |tmp| std::fs::write(tmp, &data));
        }
        let key = Self::blake3_key(hash);
        if self.inner.head(&key).await.is_err() {
            self.inner
                .put(&key, PutPayload::from(Bytes::from(data)))
                .await
                .map_err(|e| StoreError::Objects(e.to_string()))?;
        }
        Ok(())
    }

    /// Store a file's content under its BLAKE3 hash without holding it in memory.
    pub async fn put_blake3_file(&self, hash: &str, path: &std::path::Path) -> Result<()> {
        check_hex64(hash)?;
        if let Some(root) = &self.local_root {
            let dest = Self::local_blake3_path(root, hash);
            if dest.exists() {
                return Ok(());
            }
            return write_atomically(&dest, |tmp| std::fs::copy(path, tmp).map(|_| ()));
        }
        let key = Self::blake3_key(hash);
        if self.inner.head(&key).await.is_ok() {
            return Ok(());
        }
        let mut upload = self
            .inner
            .put_multipart(&key)
            .await
            .map_err(|e| StoreError::Objects(e.to_string()))?;
        let mut file = std::fs::File::open(path)
            .map_err(|e| StoreError::Objects(format!("{}: {e}", path.display())))?;
        loop {
            use std::io::Read;
            let mut buf = vec![0u8; 8 << 20];
            let n = file
                .read(&mut buf)
                .map_err(|e| StoreError::Objects(format!("{}: {e}", path.display())))?;
            if n == 0 {
                break;
            }
            buf.truncate(n);
            upload
                .put_part(PutPayload::from(Bytes::from(buf)))
                .await
                .map_err(|e| StoreError::Objects(e.to_string()))?;
        }
        upload
            .complete()
            .await
            .map_err(|e| StoreError::Objects(e.to_string()))?;
        Ok(())
    }

    pub async fn get_blake3(&self, hash: &str) -> Result<Vec<u8>> {
        if !is_hex64(hash) {
            return Err(StoreError::NotFound(format!("object {hash}")));
        }
        self.get_key(hash, Self::blake3_key(hash)).await
    }

    async fn get_key(&self, hash: &str, key: ObjPath) -> Result<Vec<u8>> {
        let r = self.inner.get(&key).await.map_err(|e| match e {
            object_store::Error::NotFound { .. } => StoreError::NotFound(format!("object {hash}")),
            e => StoreError::Objects(e.to_string()),
        })?;
        let b = r
            .bytes()
            .await
            .map_err(|e| StoreError::Objects(e.to_string()))?;
        Ok(b.to_vec())
    }
}

fn is_hex64(hash: &str) -> bool {
    hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit())
}

fn check_hex64(hash: &str) -> Result<()> {
    if is_hex64(hash) {
        Ok(())
    } else {
        Err(StoreError::Objects(format!("not a content hash: {hash}")))
    }
}

/// Write through a temporary file in the destination folder and rename, so a reader (or a
/// resumed run) never sees half a file.
fn write_atomically(
    dest: &std::path::Path,
    write: impl FnOnce(&std::path::Path) -> std::io::Result<()>,
) -> Result<()> {
    let err = |e: std::io::Error| StoreError::Objects(format!("{}: {e}", dest.display()));
    let dir = dest
        .parent()
        .ok_or_else(|| StoreError::Objects("bad object path".into()))?;
    std::fs::create_dir_all(dir).map_err(err)?;
    let tmp = dir.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    if let Err(e) = write(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    std::fs::rename(&tmp, dest).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn content_addressed_round_trip() {
        let dir = std::env::temp_dir().join(format!("xcert-objects-{}", std::process::id()));
        let o = Objects::local(&dir).unwrap();
        let h = o.put(b"abc".to_vec()).await.unwrap();
        // SHA-256("abc") from FIPS 180-2, appendix B.1.
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(o.put(b"abc".to_vec()).await.unwrap(), h);
        assert_eq!(o.get(&h).await.unwrap(), b"abc");
        assert!(matches!(
            o.get(&"0".repeat(64)).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(dir.join("sha256/ba").join(&h).exists());
        std::fs::remove_dir_all(dir).ok();
    }
}
