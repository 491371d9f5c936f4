//! The model registry: GGUF files in the models directory (`local:<file stem>`) and the models
//! an Ollama install holds (`ollama:<name>:<tag>`, read-only, run from Ollama's blob). Metadata
//! comes from the GGUF header only and is cached by path, modification time and size, so
//! listing never reads weights and re-reads a file only when it changed.
//!
//! Imports are checked (a readable GGUF that fits, see `memory.rs`) before anything is copied;
//! the copy goes to a temporary name, is flushed to disk, then linked into place without ever
//! overwriting an existing model.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::Serialize;

use crate::gguf::{GgufInfo, read_gguf_info};
use crate::memory::{FitReport, MemoryFigures, check_fit};
use crate::ollama_store;
use crate::{AiError, ModelId};

/// Where a runnable model's file is and what its header says.
#[derive(Debug, Clone)]
pub struct LocalSource {
    /// Its id.
    pub id: ModelId,
    /// The GGUF (in the models directory or an Ollama blob).
    pub path: PathBuf,
    /// Header metadata.
    pub info: Arc<GgufInfo>,
    /// From Ollama's store: never removed or changed by Selah.
    pub read_only: bool,
}

/// A model as the API lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, PartialEq)]
pub struct ModelInfo {
    /// Namespaced id (`local:…`, `ollama:…`, `remote-ollama:…`, `openai/<backend>:…`).
    pub id: String,
    /// `local`, `ollama`, `remote-ollama` or `openai/<backend>`.
    pub provider: String,
    /// The name within the provider.
    pub name: String,
    /// Size of the GGUF (null for remote models).
    pub file_size: Option<u64>,
    /// `general.architecture`.
    pub architecture: Option<String>,
    /// Parameters.
    pub parameters: Option<u64>,
    /// Quantisation, e.g. `Q4_1`.
    pub quantization: Option<String>,
    /// The model's trained context length.
    pub context_length: Option<u32>,
    /// Whether the GGUF carries a chat template.
    pub has_chat_template: bool,
    /// Cannot be removed through Selah (Ollama's files, remote models).
    pub read_only: bool,
    /// Loaded in memory now (embedded engine only).
    pub loaded: bool,
    /// The hot slot holding it.
    pub hot_slot: Option<u32>,
    /// False when its backend cannot be reached (the list is the last one seen).
    pub available: bool,
}

impl ModelInfo {
    /// The entry for a runnable GGUF.
    pub fn from_source(src: &LocalSource) -> Self {
        let i = &src.info;
        Self {
            id: src.id.0.clone(),
            provider: src.id.provider().to_string(),
            name: src.id.name().to_string(),
            file_size: Some(i.file_size),
            architecture: Some(i.architecture.clone()),
            parameters: i.parameters,
            quantization: i.quantization.clone(),
            context_length: i.context_length,
            has_chat_template: i.chat_template.is_some(),
            read_only: src.read_only,
            loaded: false,
            hot_slot: None,
            available: true,
        }
    }
}

/// Registry failures beyond the model itself.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// From the model or the memory rules.
    #[error(transparent)]
    Ai(#[from] AiError),
    /// A model with that id already exists.
    #[error("a model named {0} already exists")]
    Exists(String),
    /// Only models in the models directory can be removed.
    #[error("{0} is not a model in Selah's models directory; it cannot be removed here")]
    ReadOnly(String),
    /// A hot slot holds it.
    #[error("{0} is in hot slot {1}; empty the slot first")]
    InHotSlot(String, u32),
    /// File system trouble.
    #[error("{0}")]
    Io(String),
}

type InfoCache = HashMap<PathBuf, (Option<SystemTime>, u64, Arc<GgufInfo>)>;

/// Local models and the Ollama store.
pub struct Registry {
    models_dir: PathBuf,
    ollama_dir: Option<PathBuf>,
    cache: Mutex<InfoCache>,
}

/// The models directory for a configuration: `ai.models_dir`, else `<data_dir>/models`.
pub fn models_dir(configured: &Path, data_dir: &Path) -> PathBuf {
    if configured.as_os_str().is_empty() {
        data_dir.join("models")
    } else {
        configured.to_path_buf()
    }
}

/// The context a model is loaded with: the configured size capped by the model's own (0
/// configured: the model's own; unknown own: the configured size, else 4096).
pub fn effective_context(configured: u32, model_own: Option<u32>) -> u32 {
    match (configured, model_own) {
        (0, Some(own)) => own,
        (0, None) => 4096,
        (c, Some(own)) => c.min(own),
        (c, None) => c,
    }
}

fn valid_stem(stem: &str) -> bool {
    !stem.is_empty()
        && !stem.starts_with('.')
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

impl Registry {
    /// A registry over `models_dir` and, when given, an Ollama store.
    pub fn new(models_dir: PathBuf, ollama_dir: Option<PathBuf>) -> Self {
        Self {
            models_dir,
            ollama_dir,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The models directory.
    pub fn models_dir(&self) -> &Path {
        &self.models_dir
    }

    /// Header metadata, from the cache while the file's mtime and size are unchanged.
    pub fn info(&self, path: &Path) -> Result<Arc<GgufInfo>, AiError> {
        let meta = std::fs::metadata(path)
            .map_err(|e| AiError::BadModel(format!("cannot read the file: {e}")))?;
        let (mtime, size) = (meta.modified().ok(), meta.len());
        if let Some((m, s, info)) = self.cache().get(path)
            && *m == mtime
            && *s == size
        {
            return Ok(info.clone());
        }
        let info = Arc::new(read_gguf_info(path)?);
        self.cache()
            .insert(path.to_path_buf(), (mtime, size, info.clone()));
        Ok(info)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, InfoCache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every runnable model: the models directory's GGUFs, then Ollama's. Unreadable files are
    /// skipped with a warning.
    pub fn list(&self) -> Vec<LocalSource> {
        let mut out = Vec::new();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.models_dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "gguf") && p.is_file())
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        for path in files {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !valid_stem(&stem) {
                continue;
            }
            self.push(&mut out, ModelId(format!("local:{stem}")), path, false);
        }
        if let Some(store) = &self.ollama_dir {
            for m in ollama_store::scan(store) {
                self.push(
                    &mut out,
                    ModelId(format!("ollama:{}", m.name)),
                    m.blob,
                    true,
                );
            }
        }
        out
    }

    fn push(&self, out: &mut Vec<LocalSource>, id: ModelId, path: PathBuf, read_only: bool) {
        match self.info(&path) {
            Ok(info) => out.push(LocalSource {
                id,
                path,
                info,
                read_only,
            }),
            Err(e) => tracing::warn!(model = %id, error = %e, "skipping an unreadable model"),
        }
    }

    /// The runnable model with this id.
    pub fn resolve(&self, id: &ModelId) -> Result<LocalSource, AiError> {
        match id.provider() {
            "local" if valid_stem(id.name()) => {
                let path = self.models_dir.join(format!("{}.gguf", id.name()));
                if !path.is_file() {
                    return Err(AiError::ModelNotFound(id.0.clone()));
                }
                Ok(LocalSource {
                    id: id.clone(),
                    info: self.info(&path)?,
                    path,
                    read_only: false,
                })
            }
            "ollama" => {
                let store = self
                    .ollama_dir
                    .as_deref()
                    .ok_or_else(|| AiError::ModelNotFound(id.0.clone()))?;
                let m = ollama_store::scan(store)
                    .into_iter()
                    .find(|m| m.name == id.name())
                    .ok_or_else(|| AiError::ModelNotFound(id.0.clone()))?;
                Ok(LocalSource {
                    id: id.clone(),
                    info: self.info(&m.blob)?,
                    path: m.blob,
                    read_only: true,
                })
            }
            _ => Err(AiError::ModelNotFound(id.0.clone())),
        }
    }

    /// Whether a model would fit the memory available now with context `n_ctx` requested.
    pub fn check_fit(&self, info: &GgufInfo, ctx: u32, mem: MemoryFigures) -> FitReport {
        let n_ctx = effective_context(ctx, info.context_length);
        check_fit(info.file_size, info.estimated_runtime_bytes(n_ctx), mem)
    }

    /// Copies the GGUF at `src` into the models directory as `local:<stem>` after checking that
    /// it is a GGUF and that it fits `mem`. Never overwrites.
    pub fn import(
        &self,
        src: &Path,
        ctx: u32,
        mem: MemoryFigures,
    ) -> Result<LocalSource, RegistryError> {
        let stem = src
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if src.extension().is_none_or(|x| x != "gguf") || !valid_stem(&stem) {
            return Err(AiError::BadModel(
                "the file name must be NAME.gguf, NAME made of letters, digits, '.', '-' and '_'"
                    .into(),
            )
            .into());
        }
        let info = read_gguf_info(src)?;
        let fit = self.check_fit(&info, ctx, mem);
        if !fit.fits {
            return Err(AiError::WouldNotFit(fit.recommendation).into());
        }
        let id = ModelId(format!("local:{stem}"));
        let dest = self.models_dir.join(format!("{stem}.gguf"));
        if dest.exists() {
            return Err(RegistryError::Exists(id.0));
        }
        let io = |what: &str, e: std::io::Error| RegistryError::Io(format!("{what}: {e}"));
        std::fs::create_dir_all(&self.models_dir)
            .map_err(|e| io("cannot create the models directory", e))?;
        let tmp = self
            .models_dir
            .join(format!(".import-{}.partial", uuid_like()));
        let result: Result<(), RegistryError> = (|| {
            let mut from = std::fs::File::open(src).map_err(|e| io("cannot open the model", e))?;
            let mut to = std::fs::File::create_new(&tmp)
                .map_err(|e| io("cannot write to the models directory", e))?;
            std::io::copy(&mut from, &mut to).map_err(|e| io("copy failed", e))?;
            to.flush().map_err(|e| io("copy failed", e))?;
            to.sync_all().map_err(|e| io("copy failed", e))?;
            // A hard link never replaces an existing file: two concurrent imports of the same
            // name cannot both win.
            std::fs::hard_link(&tmp, &dest).map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    RegistryError::Exists(id.0.clone())
                } else {
                    io("cannot place the model", e)
                }
            })?;
            if let Ok(d) = std::fs::File::open(&self.models_dir) {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        let _ = std::fs::remove_file(&tmp);
        result?;
        Ok(LocalSource {
            info: self.info(&dest)?,
            id,
            path: dest,
            read_only: false,
        })
    }

    /// Deletes a model from the models directory. The caller checks hot slots first.
    pub fn remove(&self, id: &ModelId) -> Result<(), RegistryError> {
        if id.provider() != "local" {
            return Err(RegistryError::ReadOnly(id.0.clone()));
        }
        let src = self.resolve(id)?;
        std::fs::remove_file(&src.path)
            .map_err(|e| RegistryError::Io(format!("cannot remove the model: {e}")))?;
        self.cache().remove(&src.path);
        Ok(())
    }
}

/// A unique-enough temporary name part (time and process id; collisions only fail the import).
fn uuid_like() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}-{nanos}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gguf_writer::SyntheticGguf;

    const G: u64 = 1 << 30;
    const PLENTY: MemoryFigures = MemoryFigures {
        total_bytes: 64 * G,
        available_bytes: 32 * G,
    };

    #[test]
    fn lists_ggufs_with_metadata_and_skips_other_files() {
        let dir = tempfile::tempdir().unwrap();
        SyntheticGguf::llama("a", 1 << 20)
            .write(&dir.path().join("a.gguf"))
            .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        std::fs::write(dir.path().join("broken.gguf"), "not a gguf").unwrap();
        let reg = Registry::new(dir.path().into(), None);
        let list = reg.list();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].id.0, "local:a");
        assert_eq!(list[0].info.architecture, "llama");
        assert!(reg.resolve(&ModelId("local:broken".into())).is_err());
        assert!(matches!(
            reg.resolve(&ModelId("local:../etc".into())),
            Err(AiError::ModelNotFound(_))
        ));
    }

    #[test]
    fn metadata_is_reread_only_when_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.gguf");
        SyntheticGguf::llama("first", 1 << 20).write(&p).unwrap();
        let reg = Registry::new(dir.path().into(), None);
        let a = reg.info(&p).unwrap();
        assert!(Arc::ptr_eq(&a, &reg.info(&p).unwrap()));
        SyntheticGguf::llama("second", 2 << 20).write(&p).unwrap();
        assert_eq!(reg.info(&p).unwrap().name.as_deref(), Some("second"));
    }

    #[test]
    fn import_refuses_non_gguf_duplicates_and_models_that_do_not_fit() {
        let src = tempfile::tempdir().unwrap();
        let models = tempfile::tempdir().unwrap();
        let reg = Registry::new(models.path().join("m"), None);
        let text = src.path().join("fake.gguf");
        std::fs::write(&text, "hello").unwrap();
        assert!(matches!(
            reg.import(&text, 4096, PLENTY),
            Err(RegistryError::Ai(AiError::BadModel(_)))
        ));

        let small = src.path().join("small.gguf");
        SyntheticGguf::llama("small", 1 << 20)
            .write(&small)
            .unwrap();
        let got = reg.import(&small, 4096, PLENTY).unwrap();
        assert_eq!(got.id.0, "local:small");
        assert!(matches!(
            reg.import(&small, 4096, PLENTY),
            Err(RegistryError::Exists(_))
        ));

        let big = src.path().join("big.gguf");
        SyntheticGguf::llama("big", 20 * G).write(&big).unwrap();
        assert!(matches!(
            reg.import(&big, 4096, PLENTY),
            Err(RegistryError::Ai(AiError::WouldNotFit(_)))
        ));
        // Nothing but the one model was left behind (no partial copies).
        let names: Vec<_> = std::fs::read_dir(reg.models_dir())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["small.gguf"]);
        reg.remove(&ModelId("local:small".into())).unwrap();
        assert!(reg.list().is_empty());
        assert!(matches!(
            reg.remove(&ModelId("ollama:x:y".into())),
            Err(RegistryError::ReadOnly(_))
        ));
    }

    #[test]
    fn context_is_capped_by_the_models_own() {
        assert_eq!(effective_context(4096, Some(2048)), 2048);
        assert_eq!(effective_context(1024, Some(8192)), 1024);
        assert_eq!(effective_context(0, Some(8192)), 8192);
        assert_eq!(effective_context(0, None), 4096);
    }
}
