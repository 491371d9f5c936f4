//! The ingestion worker: one background task that takes queued documents oldest first, extracts
//! their text, cuts it into passages, embeds them in small batches and makes the document ready.
//!
//! Every step is stored as it completes, so a restart resumes where the last process stopped: the
//! passages of a generation are written in one transaction, vectors batch by batch (with the
//! progress), and only the final transaction makes the document ready and its passages
//! searchable. A document killed half-way stays `indexing` and is picked up again; it is never
//! reported ready with passages missing. When no document waits, finished chat messages are cut
//! into passages (`chat_index`) and passages without a vector (chat messages, or everything after
//! a model change) are embedded a batch at a time. CPU work (extraction, tokenizing, embedding) runs on the
//! blocking pool, so requests and chat are never held up by it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use selah_ai::Embedder;
use selah_search::chunk::{ChunkOptions, TokenCount, chunk_text};
use selah_search::extract::{DocFormat, ExtractError, extract_file};
use selah_search::parts::{mean_unit, paragraphs};
use selah_store::documents::PendingDocument;
use selah_store::passage_texts::PassageSet;
use selah_store::passages::NewPassage;

use super::library::Library;

/// Passages embedded per batch (and per progress update).
const EMBED_BATCH: i64 = 32;
/// How long the worker sleeps when idle before looking again anyway.
const IDLE_POLL: Duration = Duration::from_secs(30);

/// Counts tokens with the embedding model's own tokenizer.
struct ModelTokens<'a>(&'a Embedder);

impl TokenCount for ModelTokens<'_> {
    fn count_tokens(&self, text: &str) -> usize {
        // A tokenizer failure on some odd input counts as one token per byte: over-counting
        // only makes passages smaller.
        self.0.count_tokens(text).unwrap_or(text.len())
    }
}

/// What the model reads for a passage: the document's title and the heading path give the text
/// its context (a passage of a manual's options rarely names the tool it belongs to).
pub fn embedding_input(title: &str, heading: Option<&str>, text: &str) -> String {
    match heading {
        Some(h) if !h.is_empty() => format!("{title} › {h}\n{text}"),
        _ if title.is_empty() => text.to_string(),
        _ => format!("{title}\n{text}"),
    }
}

/// The name stored vectors go by: the model and how passages are embedded (each paragraph on its
/// own: `+paragraphs`). Vectors under any other name (another model, or an older data directory's
/// one vector per passage) are re-embedded in the background, and the cleanup job then removes
/// them.
pub fn vector_model(e: &Embedder) -> String {
    format!("{}+paragraphs", e.model_id())
}

/// Starts the worker; it runs until the process ends.
pub fn spawn(lib: Arc<Library>) {
    tokio::spawn(async move {
        // Full text answers before the model has loaded, so its index is built first.
        if let Err(e) = lib.text_ready().await {
            tracing::warn!(error = %e, "loading the full-text index failed; searches will retry");
        }
        loop {
            let wait = match step(&lib).await {
                Ok(true) => continue,
                Ok(false) => IDLE_POLL,
                Err(e) => {
                    tracing::warn!(error = %e, "document ingestion failed; retrying shortly");
                    Duration::from_secs(5)
                }
            };
            let _ = tokio::time::timeout(wait, lib.wake.notified()).await;
        }
    });
}

/// One unit of work. Ok(true) when there may be more to do at once.
async fn step(lib: &Arc<Library>) -> anyhow::Result<bool> {
    let Some(doc) = lib.store.next_pending_document().await? else {
        // Nothing queued: fill in vectors a model change left missing, then load the index.
        return match lib.embedder().await {
            Ok(e) => {
                lib.load_index(&e).await?;
                let more = super::chat_index::index_chat_messages(lib, &e).await?
                    || reembed_backlog(lib, &e).await?;
                if !more {
                    lib.save_index_if_changed(&e).await;
                }
                Ok(more)
            }
            Err(_) => Ok(false),
        };
    };
    let embedder = match lib.embedder().await {
        Ok(e) => e,
        Err(reason) => {
            lib.store
                .fail_document(
                    &doc.id,
                    doc.generation,
                    &format!("the embedding model is not available: {reason}"),
                )
                .await?;
            return Ok(true);
        }
    };
    lib.load_index(&embedder).await?;
    index_document(lib, &embedder, &doc).await?;
    Ok(true)
}

async fn index_document(
    lib: &Arc<Library>,
    embedder: &Arc<Embedder>,
    doc: &PendingDocument,
) -> anyhow::Result<()> {
    let content = match extract(lib, doc).await? {
        Ok(text) => text,
        Err(reason) => {
            lib.store
                .fail_document(&doc.id, doc.generation, &reason)
                .await?;
            return Ok(());
        }
    };
    if content.trim().is_empty() {
        lib.store
            .fail_document(&doc.id, doc.generation, "the document has no text")
            .await?;
        return Ok(());
    }
    if !lib
        .store
        .start_indexing(&doc.id, doc.generation, &content)
        .await?
    {
        return Ok(()); // edited or deleted meanwhile
    }

    let passages = cut_passages(lib, embedder, content).await?;
    let total = lib
        .store
        .put_document_passages(
            &doc.id,
            doc.generation,
            &doc.owner_id,
            doc.team_id.as_deref(),
            &passages,
        )
        .await?;
    drop(passages);

    let model = vector_model(embedder);
    loop {
        let batch = lib
            .store
            .unembedded_passages(&doc.id, doc.generation, &model, EMBED_BATCH)
            .await?;
        if batch.is_empty() {
            break;
        }
        let vectors = embed(embedder, &batch).await?;
        let (_, done) = lib
            .store
            .embedding_progress(&doc.id, doc.generation, &model)
            .await?;
        let percent = ((done + vectors.len() as i64) * 100 / total.max(1)).min(99);
        lib.store
            .put_vectors(&model, &vectors, Some((&doc.id, doc.generation, percent)))
            .await?;
        lib.embedded
            .fetch_add(vectors.len() as u64, Ordering::Relaxed);
    }

    let _finishing = lib.finishing();
    if let Some(superseded) = lib.store.finish_document(&doc.id, doc.generation).await? {
        lib.index_remove(&superseded).await?;
        let fresh = lib.store.document_vectors(&doc.id, &model).await?;
        lib.index_add(fresh);
        lib.text_refresh(PassageSet::Document(&doc.id)).await?;
        tracing::info!(document = %doc.id, passages = total, "document ready");
    }
    Ok(())
}

/// Cuts a text into passages (token-aware, following headings and paragraphs) off the executor.
pub(super) async fn cut_passages(
    lib: &Library,
    embedder: &Arc<Embedder>,
    content: String,
) -> anyhow::Result<Vec<NewPassage>> {
    let opts = ChunkOptions {
        target_tokens: lib.passage_tokens,
        // Room for the two special tokens and the heading line the passage is embedded with.
        max_tokens: embedder
            .max_tokens()
            .saturating_sub(26)
            .max(lib.passage_tokens),
        overlap_tokens: lib.overlap_tokens,
    };
    let e = embedder.clone();
    Ok(tokio::task::spawn_blocking(move || {
        chunk_text(&content, &ModelTokens(&e), &opts)
            .into_iter()
            .map(|c| NewPassage {
                seq: c.index as i64,
                char_start: c.char_start as i64,
                char_end: c.char_end as i64,
                heading: c.heading.clone(),
                text: c.text(&content).to_string(),
                tokens: c.tokens as i64,
            })
            .collect::<Vec<_>>()
    })
    .await?)
}

/// Embeds passages off the executor. A passage of several paragraphs gets one vector per
/// paragraph, stored after its own vector, which is their mean (`selah_search::parts`).
async fn embed(
    embedder: &Arc<Embedder>,
    batch: &[selah_store::passages::Unembedded],
) -> anyhow::Result<Vec<(i64, Vec<f32>)>> {
    // Every part of every passage, and how many parts each passage has.
    let mut inputs: Vec<String> = Vec::new();
    let mut counts: Vec<usize> = Vec::with_capacity(batch.len());
    for p in batch {
        let parts = paragraphs(&p.text);
        if parts.len() <= 1 {
            inputs.push(embedding_input(&p.title, p.heading.as_deref(), &p.text));
            counts.push(1);
        } else {
            inputs.extend(
                parts
                    .iter()
                    .map(|part| embedding_input(&p.title, p.heading.as_deref(), part)),
            );
            counts.push(parts.len());
        }
    }
    let e = embedder.clone();
    let vectors = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        e.embed(&refs)
    })
    .await??;
    let mut vectors = vectors.into_iter();
    Ok(batch
        .iter()
        .zip(counts)
        .map(|(p, n)| {
            let parts: Vec<Vec<f32>> = vectors.by_ref().take(n).collect();
            let stored = if n == 1 {
                parts.into_iter().next().unwrap_or_default()
            } else {
                let mut v = mean_unit(&parts);
                v.extend(parts.into_iter().flatten());
                v
            };
            (p.id, stored)
        })
        .collect())
}

/// The document's text, or the reason it has none that the user can read.
async fn extract(lib: &Library, doc: &PendingDocument) -> anyhow::Result<Result<String, String>> {
    if doc.kind == "note" {
        return Ok(Ok(doc.body.clone().unwrap_or_default()));
    }
    let Some(format) = DocFormat::parse(&doc.format) else {
        return Ok(Err(format!("unsupported format {}", doc.format)));
    };
    let path = lib.file_path(&doc.id);
    let out = tokio::task::spawn_blocking(move || extract_file(format, &path)).await?;
    Ok(match out {
        Ok(x) => Ok(x.text),
        Err(ExtractError::Io(e)) => Err(format!("the stored file cannot be read: {e}")),
        Err(e) => Err(e.to_string()),
    })
}

/// Embeds, in the background, ready passages that have no vector from the current model (the
/// model was changed), a batch at a time. Ok(true) when a batch was done.
async fn reembed_backlog(lib: &Arc<Library>, embedder: &Arc<Embedder>) -> anyhow::Result<bool> {
    let model = vector_model(embedder);
    let batch = lib
        .store
        .passages_missing_vectors(&model, EMBED_BATCH)
        .await?;
    if batch.is_empty() {
        return Ok(false);
    }
    let vectors = embed(embedder, &batch).await?;
    lib.store.put_vectors(&model, &vectors, None).await?;
    lib.embedded
        .fetch_add(vectors.len() as u64, Ordering::Relaxed);
    let ids: Vec<i64> = vectors.iter().map(|v| v.0).collect();
    let stored = lib.store.vectors_of(&ids, &model).await?;
    lib.index_add(stored);
    Ok(true)
}
