//! The context builder in a running server with the real SmolLM2 model and a small window:
//! once the conversation outgrows the window, older messages are left out, the model writes a
//! rolling summary that is stored on the session and sent in their place, each prompt stays
//! within the window minus the reply reserve, and the reply's usage says what was included.

use reqwest::StatusCode;
use selah_store::Scope;
use serde_json::json;

use crate::ai_support::app_with_model_on;
use crate::chat_messages::{chat, greedy, messages, new_session};
use crate::common::Db;

#[tokio::test]
async fn older_messages_are_summarised_and_the_prompt_fits_the_window() {
    summarised_on(Db::Sqlite).await;
}

#[tokio::test]
async fn older_messages_are_summarised_on_postgres() {
    summarised_on(Db::Postgres).await;
}

async fn summarised_on(db: Db) {
    let app = app_with_model_on(db, |c| {
        c.ai.context_size = 512;
        c.ai.reply_reserve_tokens = 128;
    })
    .await;
    let founder = app.founder().await;
    let me = founder.get("/api/v1/auth/me").await;
    let scope = Scope::Personal {
        user_id: me.body["user"]["id"].as_str().unwrap().to_string(),
    };
    let r = founder
        .put(
            "/api/v1/chat/preferences",
            json!({"system_prompt": "You are a helpful assistant.", "preferences": {"tone": "brief"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let sid = new_session(&founder).await;

    let facts = [
        "My name is Ada and I keep the lighthouse on the northern cape.",
        "The lamp burns paraffin and I trim the wick every evening at six.",
        "My cat is called Pepper and she sleeps on the lens cover.",
        "The supply boat comes on Thursdays with bread, oil and letters.",
        "Last winter a storm broke two panes of the lantern room.",
        "I am writing a book about the ships that pass the cape.",
    ];
    let mut summarised_once = false;
    let mut last_through: Option<usize> = None;
    for (turn, fact) in facts.iter().enumerate() {
        // Long enough that a few turns outgrow a 384-token budget.
        let content = format!(
            "{fact} {}",
            "Please remember this detail carefully. ".repeat(12)
        );
        let before = messages(&founder, &sid).await.len();
        let (_, done) = chat(&founder, &sid, &content, greedy(8)).await;
        let ctx = &done["context"];
        let prompt = done["usage"]["prompt_tokens"].as_u64().unwrap();
        assert!(
            prompt <= 512 - 128,
            "turn {turn}: prompt of {prompt} tokens: {done}"
        );
        let (inc, omit) = (
            ctx["included_messages"].as_u64().unwrap() as usize,
            ctx["omitted_messages"].as_u64().unwrap() as usize,
        );
        assert_eq!(inc + omit, before + 1, "turn {turn}: {ctx}");
        assert!(inc >= 1);
        assert!(ctx["tokens"]["instructions"].as_u64().unwrap() > 0);

        let rows = messages(&founder, &sid).await;
        let summary = app.state.store.chat_summary(&scope, &sid).await.unwrap();
        if omit == 0 {
            assert_eq!(ctx["summarised"], false, "{ctx}");
            continue;
        }
        // Everything left out is covered by the stored summary, which the prompt carried.
        let s = summary.expect("a summary once messages are left out");
        assert!(!s.text.trim().is_empty());
        let through = rows
            .iter()
            .position(|m| m["id"] == s.through.as_str())
            .unwrap();
        // It may reach further than what was left out: once a turn needs no new summary, the
        // room kept for one goes back to messages and a few summarised ones fit again.
        assert!(
            omit <= through + 1,
            "turn {turn}: omitted {omit}, summary through {through}"
        );
        assert_eq!(ctx["summarised"], true, "{ctx}");
        assert!(ctx["tokens"]["summary"].as_u64().unwrap() > 0);
        // Rolling: it only ever moves forward.
        assert!(last_through.is_none_or(|t| t <= through));
        last_through = Some(through);
        summarised_once = true;
    }
    assert!(summarised_once, "the conversation never outgrew the window");

    // The meter still counts every stored message, not just the prompt.
    let r = founder
        .get(&format!("/api/v1/chat/sessions/{sid}/token-count"))
        .await;
    assert!(r.body["total_tokens"].as_u64().unwrap() > 512, "{}", r.text);
    assert_eq!(r.body["warning"], true);
    app.stop().await;
}
