//! Ollama's on-disk model store, read-only: manifests under
//! `manifests/registry.ollama.ai/<namespace>/<name>/<tag>` (JSON with `layers[]`), the weights in
//! `blobs/sha256-<hex>`. Models are listed as `ollama:<name>:<tag>` (the `library` namespace
//! omitted, others kept as `<namespace>/<name>`) and run straight from the blob, never copied.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The media type of the weights layer.
pub const MODEL_LAYER: &str = "application/vnd.ollama.image.model";

/// The registry host whose manifests are listed.
pub const REGISTRY: &str = "registry.ollama.ai";

/// One model found in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OllamaModel {
    /// `<name>:<tag>` as Ollama shows it.
    pub name: String,
    /// The GGUF blob.
    pub blob: PathBuf,
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    layers: Vec<Layer>,
}

#[derive(Deserialize)]
struct Layer {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
}

/// Where the store is: the configured directory, else `$OLLAMA_MODELS`, else
/// `~/.ollama/models`.
pub fn store_dir(configured: &Path) -> Option<PathBuf> {
    if !configured.as_os_str().is_empty() {
        return Some(configured.to_path_buf());
    }
    if let Some(dir) = std::env::var_os("OLLAMA_MODELS").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".ollama").join("models"))
}

/// The blob file a digest (`sha256:<hex>`) names, if the digest is well formed.
fn blob_path(store: &Path, digest: &str) -> Option<PathBuf> {
    let hex = digest.strip_prefix("sha256:")?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(store.join("blobs").join(format!("sha256-{hex}")))
}

/// Every model in the store whose manifest names an existing weights blob. A missing store is
/// an empty list; unreadable manifests are skipped (logged), never fatal.
pub fn scan(store: &Path) -> Vec<OllamaModel> {
    let root = store.join("manifests").join(REGISTRY);
    let mut out = Vec::new();
    for ns in read_dirs(&root) {
        let ns_name = file_name(&ns);
        for model in read_dirs(&ns) {
            let model_name = file_name(&model);
            let Ok(tags) = std::fs::read_dir(&model) else {
                continue;
            };
            for tag in tags.flatten() {
                let path = tag.path();
                if !path.is_file() {
                    continue;
                }
                let tag_name = file_name(&path);
                match model_blob(store, &path) {
                    Some(blob) => {
                        let base = if ns_name == "library" {
                            model_name.clone()
                        } else {
                            format!("{ns_name}/{model_name}")
                        };
                        out.push(OllamaModel {
                            name: format!("{base}:{tag_name}"),
                            blob,
                        });
                    }
                    None => {
                        tracing::debug!(manifest = %path.display(), "Ollama manifest without a usable model layer")
                    }
                }
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn model_blob(store: &Path, manifest: &Path) -> Option<PathBuf> {
    let text = std::fs::read(manifest).ok()?;
    let m: Manifest = serde_json::from_slice(&text).ok()?;
    let layer = m.layers.iter().find(|l| l.media_type == MODEL_LAYER)?;
    let blob = blob_path(store, &layer.digest)?;
    blob.is_file().then_some(blob)
}

fn read_dirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Writes a manifest for `blob_hex` into a store, as Ollama's `pull` leaves it (for tests and
/// for tools that seed a store).
pub fn write_manifest(
    store: &Path,
    namespace: &str,
    name: &str,
    tag: &str,
    blob_hex: &str,
    size: u64,
) -> std::io::Result<()> {
    let dir = store
        .join("manifests")
        .join(REGISTRY)
        .join(namespace)
        .join(name);
    std::fs::create_dir_all(&dir)?;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "digest": format!("sha256:{}", "0".repeat(64)), "size": 2},
        "layers": [
            {"mediaType": MODEL_LAYER, "digest": format!("sha256:{blob_hex}"), "size": size},
            {"mediaType": "application/vnd.ollama.image.template",
             "digest": format!("sha256:{}", "1".repeat(64)), "size": 10}
        ]
    });
    std::fs::write(dir.join(tag), serde_json::to_vec(&manifest)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_library_and_namespaced_models_and_skips_broken_manifests() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path();
        std::fs::create_dir_all(store.join("blobs")).unwrap();
        let hex = "ab".repeat(32);
        std::fs::write(store.join("blobs").join(format!("sha256-{hex}")), b"GGUF").unwrap();
        write_manifest(store, "library", "smollm2", "135m", &hex, 4).unwrap();
        write_manifest(store, "someone", "tiny", "latest", &hex, 4).unwrap();
        // A manifest whose blob is missing, and one that is not JSON.
        write_manifest(store, "library", "gone", "latest", &"cd".repeat(32), 4).unwrap();
        let junk = store
            .join("manifests")
            .join(REGISTRY)
            .join("library")
            .join("junk");
        std::fs::create_dir_all(&junk).unwrap();
        std::fs::write(junk.join("latest"), b"not json").unwrap();

        let models = scan(store);
        let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["smollm2:135m", "someone/tiny:latest"]);
        assert!(models[0].blob.ends_with(format!("sha256-{hex}")));
    }

    #[test]
    fn a_missing_store_is_empty_and_bad_digests_are_refused() {
        assert!(scan(Path::new("/nonexistent/selah/ollama")).is_empty());
        assert!(blob_path(Path::new("/s"), "sha256:../../etc/passwd").is_none());
        assert!(blob_path(Path::new("/s"), "md5:00").is_none());
    }

    #[test]
    fn the_configured_directory_wins() {
        assert_eq!(store_dir(Path::new("/x")), Some(PathBuf::from("/x")));
    }
}
