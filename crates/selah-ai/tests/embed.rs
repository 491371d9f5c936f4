//! The embedder against the real all-MiniLM-L6-v2 model (directory in `SELAH_TEST_EMBED_MODEL`, set
//! by `make test`; `scripts/fetch-models.sh embed` fetches it). These tests fail, never skip, when
//! the model is missing.

use std::path::PathBuf;
use std::sync::OnceLock;

use selah_ai::{EmbedError, Embedder};

fn embedder() -> &'static Embedder {
    static E: OnceLock<Embedder> = OnceLock::new();
    E.get_or_init(|| {
        let dir = std::env::var_os("SELAH_TEST_EMBED_MODEL")
            .map(PathBuf::from)
            .expect(
                "SELAH_TEST_EMBED_MODEL is not set: run `make test`, or export \
                 SELAH_TEST_EMBED_MODEL=$(scripts/fetch-models.sh embed)",
            );
        Embedder::load(&dir).unwrap_or_else(|e| panic!("cannot load {}: {e}", dir.display()))
    })
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn vectors_are_unit_length_with_the_models_dimensions() {
    let e = embedder();
    assert_eq!(e.dimensions(), 384);
    assert_eq!(e.max_tokens(), 256);
    assert!(
        e.model_id().starts_with("all-MiniLM-L6-v2@"),
        "{}",
        e.model_id()
    );
    let v = e.embed(&["The lighthouse keeper trims the wick."]).unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].len(), 384);
    assert!((dot(&v[0], &v[0]) - 1.0).abs() < 1e-4);
    assert!(e.embed(&[]).unwrap().is_empty());
}

#[test]
fn meaning_decides_similarity_not_shared_words() {
    let e = embedder();
    let v = e
        .embed(&[
            "How do I compress a folder into an archive?",
            "Use tar with the -z flag to create a gzip-compressed tarball of a directory.",
            "The cat sat on the warm windowsill all afternoon.",
            "A kitten was sleeping in the sun by the window.",
        ])
        .unwrap();
    assert!(dot(&v[0], &v[1]) > dot(&v[0], &v[2]) + 0.2);
    assert!(dot(&v[2], &v[3]) > dot(&v[2], &v[1]) + 0.2);
}

/// Selah's encoder gives the vectors sentence-transformers gives for the same texts (short, long,
/// accented, past the 256-token window), as written by `scripts/make-embed-reference.py`.
#[test]
fn vectors_agree_with_sentence_transformers() {
    #[derive(serde::Deserialize)]
    struct Reference {
        text: String,
        vector: Vec<f32>,
    }
    let refs: Vec<Reference> =
        serde_json::from_str(include_str!("fixtures/minilm-reference.json")).unwrap();
    assert!(refs.len() >= 6);
    let texts: Vec<&str> = refs.iter().map(|r| r.text.as_str()).collect();
    let got = embedder().embed(&texts).unwrap();
    for (r, v) in refs.iter().zip(&got) {
        let cos = dot(v, &r.vector);
        assert!(cos > 0.99999, "cosine {cos} for {:?}", r.text);
        // Alone, a text's products are split between two threads (on two cores or more).
        let alone = embedder().embed(&[r.text.as_str()]).unwrap().remove(0);
        let cos = dot(&alone, &r.vector);
        assert!(cos > 0.99999, "cosine {cos} alone for {:?}", r.text);
    }
}

/// Texts are embedded in parallel, longest first; a text's vector is the same alone and among
/// many others of other lengths, and the output follows the input order.
#[test]
fn padding_and_batching_do_not_change_a_vector() {
    let e = embedder();
    let short = "Short text.";
    let long = "A much longer passage about the history of printing, movable type, paper making, \
                ink, presses and the spread of books across Europe in the fifteenth century.";
    let alone = e.embed(&[short]).unwrap().remove(0);
    let many: Vec<&str> = (0..40)
        .map(|i| if i % 7 == 3 { short } else { long })
        .collect();
    let batch = e.embed(&many).unwrap();
    for (i, v) in batch.iter().enumerate() {
        if i % 7 == 3 {
            assert!(dot(v, &alone) > 0.9999, "row {i}");
        } else {
            assert!(dot(v, &alone) < 0.9, "row {i} is not the long text");
        }
    }
}

#[test]
fn long_inputs_are_cut_at_the_models_window_and_counted_in_full() {
    let e = embedder();
    let words = "lighthouse ".repeat(1000);
    assert_eq!(e.count_tokens(&words).unwrap(), 1000);
    assert_eq!(e.count_tokens("").unwrap(), 0);
    let v = e.embed(&[words.as_str()]).unwrap();
    assert!((dot(&v[0], &v[0]) - 1.0).abs() < 1e-4);
}

#[test]
fn a_directory_without_a_model_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = Embedder::load(dir.path()).err().unwrap();
    assert!(matches!(err, EmbedError::Files { .. }), "{err}");
    assert!(err.to_string().contains("config.json"), "{err}");
}
