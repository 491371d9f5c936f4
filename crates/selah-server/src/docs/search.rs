//! Hybrid search: full text (BM25, the in-memory [`selah_search::TextIndex`]) and vector
//! similarity (the in-memory [`selah_search::VectorIndex`]), each filtered to the caller's scope
//! as it ranks, fused by score (or by rank on request). Every hit is checked against the store
//! once more, for scope and for still being searchable, before anything is returned.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use selah_search::highlight::{Span, highlight};
use selah_search::terms::query_terms;
use selah_search::{reciprocal_rank_fusion, score_fusion};
use selah_store::Scope;
use selah_store::passages::{SearchScope, SourceFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::library::{Library, PassageMeta};

/// Which rankings a search uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    /// Full text and vectors, fused (the default).
    #[default]
    Hybrid,
    /// Full text only.
    Fulltext,
    /// Vectors only.
    Vector,
}

/// How hybrid search combines its two rankings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Fusion {
    /// Scores scaled to 0–1 per ranking, full text weighted [`FULLTEXT_WEIGHT`] (the default).
    #[default]
    Scores,
    /// Reciprocal rank fusion (ranks only).
    Rrf,
}

/// Full text's share of a hybrid score (vectors have the rest). Chosen on the relevance set:
/// with vectors scored by their closest paragraph, 0.4–0.6 all gave the same recall@5 there;
/// 0.5 is the middle of that plateau (docs/BENCHMARKS.md, "Search").
pub const FULLTEXT_WEIGHT: f64 = 0.5;

/// Candidates each ranking contributes per result asked for.
const CANDIDATES_PER_RESULT: usize = 4;
/// At least this many candidates per ranking: score fusion scales each ranking between its best
/// and its last candidate, so that span must not shrink with `k`.
const MIN_CANDIDATES: usize = 50;

/// Where a passage comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HitKind {
    /// A document or note.
    Document,
    /// A chat message.
    Message,
}

/// One passage found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchHit {
    /// Passage id.
    pub passage_id: i64,
    /// A document's passage or a chat message's.
    pub kind: HitKind,
    /// Its document (documents only).
    pub document_id: Option<String>,
    /// Its chat message (messages only).
    pub message_id: Option<String>,
    /// The chat session of its message (messages only).
    pub session_id: Option<String>,
    /// The document's or the chat session's title.
    pub title: String,
    /// Order of the passage in the document.
    pub seq: i64,
    /// Span of the passage in the document's text, in characters.
    pub char_start: i64,
    /// End of the span (exclusive).
    pub char_end: i64,
    /// Heading path in effect.
    pub heading: Option<String>,
    /// The passage.
    pub text: String,
    /// Fused score (higher is better; comparable within one search only).
    pub score: f64,
    /// Rank in the full-text list (1 = best), if it was there.
    pub fulltext_rank: Option<usize>,
    /// The full-text score (BM25; higher is better), when full text found it.
    pub fulltext_score: Option<f64>,
    /// Rank in the vector list, if it was there.
    pub vector_rank: Option<usize>,
    /// Cosine similarity between the question's vector and the passage's paragraph closest to
    /// it, when vector search found it.
    pub vector_score: Option<f64>,
    /// Character spans of `text` that match the query's words.
    #[schema(value_type = Vec<Object>)]
    pub highlights: Vec<Span>,
}

/// A search request, already validated.
#[derive(Debug, Clone)]
pub struct SearchRequest<'a> {
    /// Whose passages.
    pub scope: SearchScope,
    /// The query text.
    pub query: &'a str,
    /// Results wanted.
    pub k: usize,
    /// Only this document.
    pub document_id: Option<&'a str>,
    /// Documents, chat messages or both.
    pub source: SourceFilter,
    /// Rankings used.
    pub mode: SearchMode,
    /// How hybrid search combines them.
    pub fusion: Fusion,
}

/// The team ids whose passages a scope may see (None: personal passages only).
async fn visible_teams(
    lib: &Library,
    scope: &SearchScope,
) -> anyhow::Result<Option<HashSet<String>>> {
    Ok(match scope {
        SearchScope::One(Scope::Personal { .. }) => None,
        SearchScope::One(Scope::Team { team_id, .. }) => Some(HashSet::from([team_id.clone()])),
        SearchScope::Visible { user_id } => Some(
            lib.store
                .teams_of(user_id)
                .await?
                .into_iter()
                .map(|t| t.team.id)
                .collect(),
        ),
    })
}

fn allowed(
    m: &PassageMeta,
    scope: &SearchScope,
    teams: Option<&HashSet<String>>,
    (doc, source): (Option<&str>, SourceFilter),
) -> bool {
    if doc.is_some_and(|d| m.document.as_deref() != Some(d)) {
        return false;
    }
    let of_source = match source {
        SourceFilter::All => true,
        SourceFilter::Documents => m.document.is_some(),
        SourceFilter::Messages => m.document.is_none(),
    };
    if !of_source {
        return false;
    }
    let personal = m.team.is_none() && &*m.owner == scope.user_id();
    let team = m
        .team
        .as_deref()
        .is_some_and(|t| teams.is_some_and(|set| set.contains(t)));
    match scope {
        SearchScope::One(Scope::Personal { .. }) => personal,
        SearchScope::One(Scope::Team { .. }) => team,
        SearchScope::Visible { .. } => personal || team,
    }
}

/// Vector candidates, best first, and the question's vector (None without a model). The index
/// finds them by each passage's own vector; they are ranked by the paragraph closest to the
/// question (`selah_search::parts`).
async fn vector_candidates(
    lib: &Arc<Library>,
    req: &SearchRequest<'_>,
    teams: Option<&HashSet<String>>,
    limit: usize,
) -> anyhow::Result<(Vec<(i64, f64)>, Option<Vec<f32>>)> {
    let Some(embedder) = lib.embedder_now() else {
        return Ok((Vec::new(), None));
    };
    let query = req.query.to_string();
    let e = embedder.clone();
    let qv = tokio::task::spawn_blocking(move || e.embed(&[query.as_str()]))
        .await??
        .pop()
        .unwrap_or_default();
    let hits = lib.with_index(|idx| {
        let (hits, _) = idx.search(&qv, limit, |m| {
            allowed(m, &req.scope, teams, (req.document_id, req.source))
        });
        hits.into_iter()
            .map(|(id, s)| (id, f64::from(idx.closest_part(&qv, id).unwrap_or(s))))
            .collect::<Vec<_>>()
    });
    let mut hits = hits;
    hits.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok((hits, Some(qv)))
}

/// Full-text candidates, best first.
async fn fulltext_candidates(
    lib: &Library,
    req: &SearchRequest<'_>,
    teams: Option<&HashSet<String>>,
    terms: &[String],
    limit: usize,
) -> anyhow::Result<Vec<(i64, f64)>> {
    let hits = lib
        .with_text(|idx| {
            idx.search(terms, limit, |m| {
                allowed(m, &req.scope, teams, (req.document_id, req.source))
            })
        })
        .await?;
    Ok(hits.into_iter().map(|(id, s)| (id, f64::from(s))).collect())
}

/// Both rankings' scores for every candidate either found: a passage only one ranking put
/// among its candidates is scored by the other too (its BM25 for the question's words, its
/// closest paragraph's cosine with the question), rather than counted as that ranking's worst.
async fn complete_scores(
    lib: &Library,
    terms: &[String],
    question: &[f32],
    fulltext: &[(i64, f64)],
    vector: &[(i64, f64)],
) -> anyhow::Result<(Vec<(i64, f64)>, Vec<(i64, f64)>)> {
    let missing = |list: &[(i64, f64)], other: &[(i64, f64)]| -> Vec<i64> {
        let have: HashSet<i64> = list.iter().map(|x| x.0).collect();
        other
            .iter()
            .map(|x| x.0)
            .filter(|id| !have.contains(id))
            .collect()
    };
    let mut all_fulltext = fulltext.to_vec();
    let for_text = missing(fulltext, vector);
    all_fulltext.extend(
        lib.with_text(|idx| {
            for_text
                .iter()
                .filter_map(|&id| Some((id, f64::from(idx.score(terms, id)?))))
                .collect::<Vec<_>>()
        })
        .await?,
    );
    let mut all_vector = vector.to_vec();
    let for_vectors = missing(vector, fulltext);
    all_vector.extend(lib.with_index(|idx| {
        for_vectors
            .iter()
            .filter_map(|&id| Some((id, f64::from(idx.closest_part(question, id)?))))
            .collect::<Vec<_>>()
    }));
    Ok((all_fulltext, all_vector))
}

/// Runs a search.
pub async fn search(lib: &Arc<Library>, req: &SearchRequest<'_>) -> anyhow::Result<Vec<SearchHit>> {
    lib.indexes_caught_up().await;
    let terms = query_terms(req.query);
    let limit = (req.k * CANDIDATES_PER_RESULT).max(MIN_CANDIDATES);
    let teams = visible_teams(lib, &req.scope).await?;
    let teams = teams.as_ref();
    // The two searches are independent: the full-text ranking and the embedding of the question
    // (on a blocking thread) overlap, so a hybrid search costs the slower of the two. The vector
    // side is polled first so that the embedding has started when the full-text ranking (which,
    // once its index is loaded, never waits, so runs to the end once polled) takes this thread.
    let fulltext = async {
        if req.mode == SearchMode::Vector {
            return Ok(Vec::new());
        }
        fulltext_candidates(lib, req, teams, &terms, limit).await
    };
    let vector = async {
        if req.mode == SearchMode::Fulltext {
            return Ok((Vec::new(), None));
        }
        vector_candidates(lib, req, teams, limit).await
    };
    let ((vector, question), fulltext) = tokio::try_join!(vector, fulltext)?;
    let (all_fulltext, all_vector) = match (&question, req.mode, req.fusion) {
        (Some(q), SearchMode::Hybrid, Fusion::Scores) => {
            complete_scores(lib, &terms, q, &fulltext, &vector).await?
        }
        _ => (fulltext.clone(), vector.clone()),
    };
    let ids_of = |list: &[(i64, f64)]| list.iter().map(|h| h.0).collect::<Vec<i64>>();
    let fused = match req.fusion {
        Fusion::Scores => score_fusion(&[
            (&all_fulltext, FULLTEXT_WEIGHT),
            (&all_vector, 1.0 - FULLTEXT_WEIGHT),
        ]),
        Fusion::Rrf => reciprocal_rank_fusion(&[&ids_of(&fulltext), &ids_of(&vector)]),
    };
    // Twice as many as asked for are re-checked: a passage deleted by a cascade the indexes did
    // not hear of is dropped here, and the next one takes its place.
    let top: Vec<(i64, f64)> = fused.into_iter().take(req.k * 2).collect();
    let ids: Vec<i64> = top.iter().map(|t| t.0).collect();
    let mut rows: HashMap<i64, selah_store::passages::PassageHit> = lib
        .store
        .passages_in_scope(&req.scope, &ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let rank = |list: &[(i64, f64)], id: i64| list.iter().position(|x| x.0 == id).map(|p| p + 1);
    let score_in = |list: &[(i64, f64)], id: i64| list.iter().find(|x| x.0 == id).map(|x| x.1);
    Ok(top
        .into_iter()
        .filter_map(|(id, score)| {
            let p = rows.remove(&id)?;
            Some(SearchHit {
                highlights: highlight(&p.text, &terms),
                passage_id: p.id,
                kind: if p.message_id.is_some() {
                    HitKind::Message
                } else {
                    HitKind::Document
                },
                document_id: p.document_id,
                message_id: p.message_id,
                session_id: p.session_id,
                title: p.title,
                seq: p.seq,
                char_start: p.char_start,
                char_end: p.char_end,
                heading: p.heading,
                text: p.text,
                score,
                fulltext_rank: rank(&fulltext, id),
                fulltext_score: score_in(&all_fulltext, id),
                vector_rank: rank(&vector, id),
                vector_score: score_in(&all_vector, id),
            })
        })
        .take(req.k)
        .collect())
}
