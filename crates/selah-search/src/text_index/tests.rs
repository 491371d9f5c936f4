//! The pruned search against an exhaustive BM25 written out plainly here, on random corpora with
//! removals and filters; and the ranking behaviour a user sees (fields, stems, common words).

use proptest::prelude::*;

use super::*;

const VOCAB: &[&str] = &[
    "the",
    "a",
    "file",
    "files",
    "compress",
    "compressed",
    "gzip",
    "archive",
    "tar",
    "mail",
    "server",
    "list",
    "option",
    "edit",
    "place",
    "sed",
    "stream",
    "directory",
    "copy",
    "remote",
];

struct Plain {
    id: i64,
    title: String,
    text: String,
    owner: u8,
}

/// BM25 as the module doc describes it, scoring every passage.
fn exhaustive(docs: &[Plain], query: &[String], limit: usize, owner: u8) -> Vec<(i64, f32)> {
    let analyzed: Vec<(i64, u8, HashMap<String, f32>, f32)> = docs
        .iter()
        .map(|d| {
            let mut tf: HashMap<String, f32> = HashMap::new();
            let mut len = 0.0;
            for (src, w) in [(&d.title, 2.0), (&d.text, 1.0)] {
                for word in words(src) {
                    len += 1.0;
                    *tf.entry(stem(&word)).or_default() += w;
                }
            }
            (d.id, d.owner, tf, len)
        })
        .collect();
    let n = analyzed.len() as f32;
    let avg = (analyzed.iter().map(|a| a.3).sum::<f32>() / n).max(1.0);
    let mut stems: Vec<String> = query.iter().map(|q| stem(q)).collect();
    stems.sort();
    stems.dedup();
    let mut hits: Vec<(i64, f32)> = analyzed
        .iter()
        .filter(|a| a.1 == owner)
        .filter_map(|(id, _, tf, len)| {
            let mut score = 0.0;
            let mut any = false;
            for s in &stems {
                let df = analyzed.iter().filter(|a| a.2.contains_key(s)).count() as f32;
                if let Some(f) = tf.get(s) {
                    any = true;
                    let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                    score += idf * f * (K1 + 1.0) / (f + K1 * (1.0 - B + B * len / avg));
                }
            }
            any.then_some((*id, score))
        })
        .collect();
    hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    hits.truncate(limit);
    hits
}

fn index_of(docs: &[Plain]) -> TextIndex<u8> {
    let mut idx = TextIndex::new();
    for d in docs {
        let fields = TextFields {
            title: &d.title,
            heading: None,
            text: &d.text,
        };
        idx.insert(d.id, fields, d.owner);
    }
    idx
}

fn sentence(picks: &[usize]) -> String {
    picks
        .iter()
        .map(|&i| VOCAB[i % VOCAB.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

/// Scores agree to float rounding; ids agree wherever the scores are not tied. A tie may be
/// with a passage just outside the list (the two paths round differently, so either may take
/// the last place): a different id at a rank is accepted only when its score ties with the
/// expected one there, and no id appears twice.
fn assert_same(got: &[(i64, f32)], want: &[(i64, f32)]) {
    assert_eq!(got.len(), want.len(), "got {got:?}\nwant {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g.1 - w.1).abs() < 1e-4, "got {got:?}\nwant {want:?}");
    }
    let distinct = |list: &[(i64, f32)], i: usize| {
        list.iter()
            .enumerate()
            .all(|(j, x)| j == i || (x.1 - list[i].1).abs() > 1e-4)
    };
    let mut ids: Vec<i64> = got.iter().map(|g| g.0).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), got.len(), "an id twice: {got:?}");
    for i in 0..want.len() {
        let in_want = want.iter().any(|w| w.0 == got[i].0);
        if distinct(want, i) && in_want {
            assert_eq!(got[i].0, want[i].0, "got {got:?}\nwant {want:?}");
        }
    }
}

proptest! {
    #[test]
    fn pruned_search_equals_exhaustive(
        raw in prop::collection::vec(
            (prop::collection::vec(0usize..40, 0..3), prop::collection::vec(0usize..40, 1..30), 0u8..3),
            1..120,
        ),
        removed in prop::collection::vec(0usize..120, 0..40),
        query in prop::collection::vec(0usize..30, 1..6),
        limit in 1usize..12,
    ) {
        let mut docs: Vec<Plain> = raw
            .iter()
            .enumerate()
            .map(|(i, (t, x, o))| Plain {
                id: i as i64 * 3 + 7,
                title: sentence(t),
                text: sentence(x),
                owner: *o,
            })
            .collect();
        let mut idx = index_of(&docs);
        for r in removed {
            if r < docs.len() {
                let id = docs[r].id;
                idx.remove(id);
                docs.retain(|d| d.id != id);
            }
        }
        // Words outside the vocabulary (index 20 and up) are in no passage.
        let query: Vec<String> = query
            .iter()
            .map(|&q| VOCAB.get(q).map_or(format!("zz{q}"), |w| w.to_string()))
            .collect();
        // Compaction removes tombstones' effect on document frequencies too; compare after it so
        // the exhaustive reference (which never saw the removed passages) agrees exactly.
        idx.compact();
        prop_assert_eq!(idx.len(), docs.len());
        if docs.is_empty() {
            prop_assert!(idx.search(&query, limit, |_| true).is_empty());
        } else {
            let got = idx.search(&query, limit, |o| *o == 1);
            assert_same(&got, &exhaustive(&docs, &query, limit, 1));
            // One passage's score is the score search gives it.
            for (id, score) in &got {
                let one = idx.score(&query, *id).unwrap();
                prop_assert!((one - score).abs() < 1e-4, "{} vs {}", one, score);
            }
        }
    }
}

fn passage(idx: &mut TextIndex<()>, id: i64, title: &str, heading: Option<&str>, text: &str) {
    idx.insert(
        id,
        TextFields {
            title,
            heading,
            text,
        },
        (),
    );
}

fn q(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

#[test]
fn stems_meet_and_rare_words_outweigh_common_ones() {
    let mut idx = TextIndex::new();
    for i in 0..200 {
        passage(
            &mut idx,
            i,
            "manual",
            None,
            "the file is read from the file system",
        );
    }
    passage(&mut idx, 500, "gzip", None, "compressing a file with gzip");
    passage(&mut idx, 501, "notes", None, "files compressed yesterday");
    let hits = idx.search(&q(&["compressed", "file"]), 3, |_| true);
    let mut best: Vec<i64> = hits[..2].iter().map(|h| h.0).collect();
    best.sort();
    assert_eq!(best, vec![500, 501], "{hits:?}");
    assert_eq!(hits.len(), 3);
}

#[test]
fn title_weighs_more_than_text_and_heading_less() {
    let mut idx = TextIndex::new();
    passage(&mut idx, 1, "rsync", None, "copies files to a remote host");
    passage(
        &mut idx,
        2,
        "notes",
        None,
        "rsync copies files to a remote host",
    );
    passage(
        &mut idx,
        3,
        "notes",
        Some("rsync"),
        "copies files to a remote host",
    );
    let ids: Vec<i64> = idx
        .search(&q(&["rsync"]), 3, |_| true)
        .iter()
        .map(|h| h.0)
        .collect();
    assert_eq!(ids, vec![1, 2, 3]);
}

#[test]
fn the_filter_and_removal_hide_passages() {
    let mut idx: TextIndex<&str> = TextIndex::new();
    let fields = TextFields {
        title: "t",
        heading: None,
        text: "secret plans",
    };
    idx.insert(1, fields, "alice");
    idx.insert(2, fields, "bob");
    let mine = idx.search(&q(&["plans"]), 10, |o| *o == "alice");
    assert_eq!(mine.iter().map(|h| h.0).collect::<Vec<_>>(), vec![1]);
    assert!(idx.remove(1));
    assert!(!idx.remove(1));
    assert!(idx.search(&q(&["plans"]), 10, |o| *o == "alice").is_empty());
    assert_eq!(idx.len(), 1);
}

#[test]
fn reinserting_replaces_the_old_text() {
    let mut idx = TextIndex::new();
    passage(&mut idx, 1, "draft", None, "old words");
    passage(&mut idx, 1, "draft", None, "new words");
    assert!(idx.search(&q(&["old"]), 10, |_| true).is_empty());
    assert_eq!(idx.search(&q(&["new"]), 10, |_| true).len(), 1);
    assert_eq!(idx.len(), 1);
}

#[test]
fn many_removals_compact_and_keep_the_rest_searchable() {
    let mut idx = TextIndex::new();
    for i in 0..1000 {
        passage(&mut idx, i, "t", None, &format!("word{} shared", i % 10));
    }
    for i in 0..900 {
        idx.remove(i);
    }
    assert!(idx.docs.len() < 1000, "compaction ran");
    let hits = idx.search(&q(&["shared"]), 1000, |_| true);
    assert_eq!(hits.len(), 100);
    assert!(hits.iter().all(|h| h.0 >= 900));
    assert_eq!(idx.search(&q(&["word3"]), 1000, |_| true).len(), 10);
}

#[test]
fn unknown_words_and_empty_queries_find_nothing() {
    let mut idx = TextIndex::new();
    passage(&mut idx, 1, "t", None, "something");
    assert!(idx.search(&q(&["nothing"]), 10, |_| true).is_empty());
    assert!(idx.search(&[], 10, |_| true).is_empty());
    assert!(idx.search(&q(&["something"]), 0, |_| true).is_empty());
    assert_eq!(idx.score(&q(&["nothing"]), 1), Some(0.0));
    assert_eq!(idx.score(&q(&["something"]), 2), None);
    assert!(idx.score(&q(&["something"]), 1).unwrap() > 0.0);
}
