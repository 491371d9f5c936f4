//! Finished vault blobs in S3-compatible object storage (`vault.blob_store = "s3://bucket/prefix"`),
//! through the `object_store` crate. A completed upload's partial file is streamed into a
//! multipart upload (16 MiB parts, two in flight) and removed locally once the object exists;
//! reads stream the object. Objects are named `<prefix>/<version id>`.

use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, WriteMultipart};
use selah_core::config::VaultConfig;

use super::blobs::{BlobStream, valid_id};

/// Bytes per multipart part (S3 needs at least 5 MiB for all but the last).
const PART: usize = 16 << 20;

/// The object store and the prefix under which blobs live.
pub struct Remote {
    store: AmazonS3,
    prefix: ObjectPath,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Remote({})", self.prefix)
    }
}

impl Remote {
    /// Connects as configured; None when blobs stay on the local disk.
    pub fn from_config(config: &VaultConfig) -> anyhow::Result<Option<Remote>> {
        let spec = config.blob_store.trim();
        if spec.is_empty() {
            return Ok(None);
        }
        let rest = spec.strip_prefix("s3://").ok_or_else(|| {
            anyhow::anyhow!("vault.blob_store must be empty or s3://bucket/prefix, not {spec:?}")
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        anyhow::ensure!(!bucket.is_empty(), "vault.blob_store names no bucket");
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(&config.s3_region);
        if !config.s3_access_key_id.is_empty() {
            builder = builder
                .with_access_key_id(&config.s3_access_key_id)
                .with_secret_access_key(config.s3_secret_access_key.expose());
        }
        if !config.s3_endpoint.is_empty() {
            builder = builder
                .with_endpoint(&config.s3_endpoint)
                .with_allow_http(config.s3_endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        Ok(Some(Remote {
            store: builder.build()?,
            prefix: ObjectPath::from(prefix.trim_matches('/')),
        }))
    }

    fn path(&self, id: &str) -> ObjectPath {
        self.prefix.child(id)
    }

    /// Streams a local file into the object named `id`.
    pub async fn put_file(&self, id: &str, file: std::path::PathBuf) -> anyhow::Result<()> {
        let upload = self.store.put_multipart(&self.path(id)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
        let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(2);
        tokio::task::spawn_blocking(move || super::blobs::read_chunks(&file, PART, &tx));
        while let Some(chunk) = rx.recv().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    writer.abort().await?;
                    return Err(e.into());
                }
            };
            writer.wait_for_capacity(2).await?;
            writer.write(&chunk);
        }
        writer.finish().await?;
        Ok(())
    }

    /// The object's bytes as a stream; None if there is no such object.
    pub async fn get(&self, id: &str) -> anyhow::Result<Option<BlobStream>> {
        match self.store.get(&self.path(id)).await {
            Ok(r) => Ok(Some(
                r.into_stream()
                    .map_err(std::io::Error::other)
                    .map_ok(Bytes::from)
                    .boxed(),
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes the object if it exists.
    pub async fn delete(&self, id: &str) -> anyhow::Result<()> {
        match self.store.delete(&self.path(id)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes objects under the prefix that `known` does not name and that are older than
    /// `min_age`; returns how many and their bytes.
    pub async fn sweep(
        &self,
        known: &std::collections::HashSet<String>,
        min_age: Duration,
    ) -> anyhow::Result<(u64, u64)> {
        let cutoff = SystemTime::now() - min_age;
        let mut listing = self.store.list(Some(&self.prefix));
        let (mut files, mut bytes) = (0, 0);
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            let Some(name) = meta.location.filename() else {
                continue;
            };
            if !valid_id(name) || known.contains(name) {
                continue;
            }
            if SystemTime::from(meta.last_modified) > cutoff {
                continue;
            }
            self.delete(name).await?;
            files += 1;
            bytes += meta.size;
        }
        Ok((files, bytes))
    }
}
