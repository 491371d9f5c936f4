//! `selah models list|import PATH|remove ID`: the model registry straight on the data
//! directory (no server needed). Imports are checked (a readable GGUF that fits the memory
//! available) before anything is copied; removal is refused while a hot slot holds the model.
//! Imports and removals are audited with `{"via":"cli"}`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use selah_ai::ModelId;
use selah_ai::memory::MemoryProbe;
use selah_ai::registry::{Registry, models_dir};
use selah_store::Store;
use serde_json::json;

use crate::settings::GlobalArgs;

/// Model management.
#[derive(Subcommand)]
pub enum ModelsCommand {
    /// List local models and the models of Ollama's store, with their GGUF metadata.
    List,
    /// Copy a GGUF file into the models directory (as local:<file stem>).
    Import {
        /// The .gguf file.
        path: PathBuf,
    },
    /// Delete a model from the models directory.
    Remove {
        /// Model id, e.g. local:SmolLM2-135M-Instruct.Q4_1.
        id: String,
    },
}

fn human(bytes: u64) -> String {
    let gb = bytes as f64 / (1u64 << 30) as f64;
    if gb >= 1.0 {
        format!("{gb:.1} GB")
    } else {
        format!("{:.0} MB", bytes as f64 / (1u64 << 20) as f64)
    }
}

/// Audits a change to a model made from the command line.
async fn audit(store: &Store, event: &str, action: &str, model: &str, extra: serde_json::Value) {
    let mut details = json!({"model": model});
    if let (Some(d), Some(e)) = (details.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    super::record_cli_event(store, event, action, ("model", model), details).await;
}

/// Runs the command.
pub async fn run(g: &GlobalArgs, cmd: ModelsCommand) -> anyhow::Result<ExitCode> {
    let (settings, _) = g.load(&[])?;
    let ai = &settings.config.ai;
    let registry = Registry::new(
        models_dir(&ai.models_dir, &settings.data_dir),
        selah_ai::ollama_store::store_dir(&ai.ollama_models_dir),
    );
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            settings.data_dir.display()
        )
    })?;
    let (store, _) = Store::open(settings.config.database_url.expose(), &settings.data_dir)
        .await
        .context("cannot open the database")?;
    let hot = store.hot_slots().await?;
    let result = async {
        match cmd {
            ModelsCommand::List => {
                let models = registry.list();
                if models.is_empty() {
                    println!("no models in {}", registry.models_dir().display());
                }
                println!(
                    "{:<48} {:>9} {:<10} {:>7} {:<8} {:>7} NOTES",
                    "ID", "SIZE", "ARCH", "PARAMS", "QUANT", "CTX"
                );
                for m in models {
                    let i = &m.info;
                    let mut notes = Vec::new();
                    if m.read_only {
                        notes.push("read-only".to_string());
                    }
                    if let Some(h) = hot.iter().find(|h| h.model_id == m.id.0) {
                        notes.push(format!("hot slot {}", h.slot_num));
                    }
                    println!(
                        "{:<48} {:>9} {:<10} {:>7} {:<8} {:>7} {}",
                        m.id.0,
                        human(i.file_size),
                        i.architecture,
                        i.parameters
                            .map(|p| format!("{:.0}M", p as f64 / 1e6))
                            .unwrap_or_else(|| "-".into()),
                        i.quantization.as_deref().unwrap_or("-"),
                        i.context_length
                            .map(|c| c.to_string())
                            .unwrap_or_else(|| "-".into()),
                        notes.join(", ")
                    );
                }
            }
            ModelsCommand::Import { path } => {
                let mem = MemoryProbe::new().figures();
                let src = registry
                    .import(&path, ai.context_size, mem)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                audit(
                    &store,
                    "model.imported",
                    "create",
                    &src.id.0,
                    json!({"file_size": src.info.file_size}),
                )
                .await;
                println!("imported {} ({})", src.id, human(src.info.file_size));
            }
            ModelsCommand::Remove { id } => {
                let id = ModelId(id);
                if let Some(h) = hot.iter().find(|h| h.model_id == id.0) {
                    bail!("{id} is in hot slot {}; empty the slot first", h.slot_num);
                }
                registry.remove(&id).map_err(|e| anyhow::anyhow!("{e}"))?;
                audit(&store, "model.removed", "delete", &id.0, json!({})).await;
                println!("removed {id}");
            }
        }
        Ok(ExitCode::SUCCESS)
    }
    .await;
    store.close().await;
    result
}
