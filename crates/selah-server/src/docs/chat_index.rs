//! Chat messages become searchable: the worker cuts finished user and assistant messages into
//! passages under their session's scope and title (full text answers at once; the re-embedding
//! backlog then gives them vectors). Messages are picked up by a scan of the store, so nothing is
//! lost to a crash and messages written before this existed are indexed too.

use std::sync::Arc;

use selah_ai::Embedder;
use selah_store::passage_texts::PassageSet;
use selah_store::passages::NewPassage;

use super::ingest::cut_passages;
use super::library::Library;

/// Messages cut per step.
const MESSAGE_BATCH: i64 = 32;

/// Cuts the next batch of finished messages into passages. Ok(true) when there was one.
pub async fn index_chat_messages(
    lib: &Arc<Library>,
    embedder: &Arc<Embedder>,
) -> anyhow::Result<bool> {
    let messages = lib.store.unindexed_chat_messages(MESSAGE_BATCH).await?;
    if messages.is_empty() {
        return Ok(false);
    }
    for m in &messages {
        let mut passages = cut_passages(lib, embedder, m.content.clone()).await?;
        if passages.is_empty() {
            // Text the chunker finds nothing in (only punctuation, say) is still one passage,
            // so the message is not picked up again on every pass.
            let chars = m.content.chars().count() as i64;
            passages.push(NewPassage {
                seq: 0,
                char_start: 0,
                char_end: chars,
                heading: None,
                text: m.content.clone(),
                tokens: embedder.count_tokens(&m.content).unwrap_or(0) as i64,
            });
        }
        if lib.store.put_message_passages(m, &passages).await? > 0 {
            lib.text_refresh(PassageSet::Message(&m.id)).await?;
        }
    }
    Ok(true)
}
