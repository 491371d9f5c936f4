//! Chat messages in the store, on SQLite and PostgreSQL: scope-confined writes and reads,
//! paging, replies flushed and finished, interrupted replies kept as incomplete, summaries,
//! preferences, cascade on session delete, and the idle-session archive.

use selah_core::Role;
use selah_store::chat_messages::{MessageStatus, NewMessage, SessionSummary};
use selah_store::chat_preferences::ChatPreferences;
use selah_store::{Store, now_ms};

mod support;
use support::*;

fn msg<'a>(role: &'a str, content: &'a str, status: MessageStatus) -> NewMessage<'a> {
    NewMessage {
        role,
        content,
        model: Some("local:m"),
        prompt_tokens: Some(3),
        completion_tokens: None,
        status,
    }
}

async fn messages_stay_in_scope(store: &Store) {
    let a = store.create_user("a", "h", Role::Member).await.unwrap().id;
    let b = store.create_user("b", "h", Role::Member).await.unwrap().id;
    let t = store.create_team("t", &a).await.unwrap().team.id;
    let (pa, pb, ta, tb) = (personal(&a), personal(&b), team(&a, &t), team(&b, &t));
    let mine = store
        .create_chat_session(&pa, "mine")
        .await
        .unwrap()
        .unwrap();
    let ours = store
        .create_chat_session(&ta, "ours")
        .await
        .unwrap()
        .unwrap();

    // Writes outside the scope write nothing.
    let done = MessageStatus::Complete;
    assert!(
        store
            .insert_chat_message(&pb, &mine.id, &msg("user", "x", done))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .insert_chat_message(&tb, &ours.id, &msg("user", "x", done))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .insert_chat_message(&pa, &ours.id, &msg("user", "x", done))
            .await
            .unwrap()
            .is_none()
    );

    let mut ids = Vec::new();
    for i in 0..5 {
        let role = if i % 2 == 0 { "user" } else { "assistant" };
        let m = store
            .insert_chat_message(&pa, &mine.id, &msg(role, &format!("m{i}"), done))
            .await
            .unwrap()
            .unwrap();
        ids.push(m.id);
    }
    assert!(
        store
            .insert_chat_message(&ta, &ours.id, &msg("user", "team", done))
            .await
            .unwrap()
            .is_some()
    );

    // Reads: the owner pages through in order; others see no session.
    let all = store
        .all_chat_messages(&pa, &mine.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(all.iter().map(|m| m.id.clone()).collect::<Vec<_>>(), ids);
    let page = store
        .list_chat_messages(&pa, &mine.id, Some(&ids[1]), 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        page.iter().map(|m| m.content.as_str()).collect::<Vec<_>>(),
        ["m2", "m3"]
    );
    // A cursor from another session is no cursor.
    let team_msg = store
        .all_chat_messages(&ta, &ours.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(team_msg.len(), 1);
    assert!(
        store
            .list_chat_messages(&pa, &mine.id, Some(&team_msg[0].id), 10)
            .await
            .unwrap()
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .all_chat_messages(&pb, &mine.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .all_chat_messages(&tb, &ours.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !store
            .delete_chat_message(&pb, &mine.id, &ids[0])
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_chat_message(&pa, &ours.id, &team_msg[0].id)
            .await
            .unwrap()
    );

    // A reply: streaming, flushed, finished.
    let r = store
        .insert_chat_message(
            &pa,
            &mine.id,
            &msg("assistant", "", MessageStatus::Streaming),
        )
        .await
        .unwrap()
        .unwrap();
    store.flush_chat_reply(&r.id, "partial").await.unwrap();
    let last = store
        .all_chat_messages(&pa, &mine.id)
        .await
        .unwrap()
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(
        (last.content.as_str(), last.status),
        ("partial", MessageStatus::Streaming)
    );
    store
        .finish_chat_reply(
            &r.id,
            "partial and done",
            MessageStatus::Complete,
            Some(10),
            Some(4),
        )
        .await
        .unwrap();
    // A late flush does not overwrite a finished reply.
    store.flush_chat_reply(&r.id, "stale").await.unwrap();
    let last = store
        .all_chat_messages(&pa, &mine.id)
        .await
        .unwrap()
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(last.content, "partial and done");
    assert_eq!(
        (last.prompt_tokens, last.completion_tokens),
        (Some(10), Some(4))
    );

    // Interrupted replies become incomplete, keeping their text.
    let s = store
        .insert_chat_message(
            &pa,
            &mine.id,
            &msg("assistant", "", MessageStatus::Streaming),
        )
        .await
        .unwrap()
        .unwrap();
    store.flush_chat_reply(&s.id, "cut here").await.unwrap();
    assert_eq!(store.mark_interrupted_replies().await.unwrap(), 1);
    let last = store
        .all_chat_messages(&pa, &mine.id)
        .await
        .unwrap()
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(
        (last.content.as_str(), last.status),
        ("cut here", MessageStatus::Incomplete)
    );

    // Summaries are scoped too.
    let sum = SessionSummary {
        text: "so far".into(),
        through: ids[1].clone(),
    };
    assert!(
        !store
            .set_chat_summary(&pb, &mine.id, Some(&sum))
            .await
            .unwrap()
    );
    assert!(
        store
            .set_chat_summary(&pa, &mine.id, Some(&sum))
            .await
            .unwrap()
    );
    assert_eq!(store.chat_summary(&pa, &mine.id).await.unwrap(), Some(sum));
    assert_eq!(store.chat_summary(&pb, &mine.id).await.unwrap(), None);
    assert!(store.set_chat_summary(&pa, &mine.id, None).await.unwrap());
    assert_eq!(store.chat_summary(&pa, &mine.id).await.unwrap(), None);

    // Model switch.
    let s = store
        .set_chat_session_model(&pa, &mine.id, Some("local:x"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.active_model.as_deref(), Some("local:x"));
    assert!(
        store
            .set_chat_session_model(&pb, &mine.id, None)
            .await
            .unwrap()
            .is_none()
    );

    // Deleting the session deletes its messages.
    assert!(store.delete_chat_session(&pa, &mine.id).await.unwrap());
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM chat_messages WHERE session_id = $1")
        .bind(&mine.id)
        .fetch_one(store.reader())
        .await
        .unwrap();
    assert_eq!(n, 0);

    // Preferences.
    assert_eq!(
        store.chat_preferences(&a).await.unwrap(),
        ChatPreferences::default()
    );
    let mut p = ChatPreferences {
        system_prompt: Some("Be brief.".into()),
        ..Default::default()
    };
    p.preferences.insert("tone".into(), "dry".into());
    store.put_chat_preferences(&a, &p).await.unwrap();
    p.default_model = Some("local:y".into());
    store.put_chat_preferences(&a, &p).await.unwrap();
    assert_eq!(store.chat_preferences(&a).await.unwrap(), p);
    assert_eq!(
        store.chat_preferences(&b).await.unwrap(),
        ChatPreferences::default()
    );

    // Archive: only sessions idle past the cutoff.
    let old = store
        .create_chat_session(&pb, "old")
        .await
        .unwrap()
        .unwrap();
    store
        .force_chat_activity(&old.id, now_ms() - 100_000)
        .await
        .unwrap();
    assert_eq!(
        store
            .archive_idle_chat_sessions(now_ms() - 50_000)
            .await
            .unwrap(),
        1
    );
    assert!(
        store
            .chat_session(&pb, &old.id)
            .await
            .unwrap()
            .unwrap()
            .archived
    );
    assert!(
        !store
            .chat_session(&ta, &ours.id)
            .await
            .unwrap()
            .unwrap()
            .archived
    );
    assert_eq!(
        store
            .archive_idle_chat_sessions(now_ms() - 50_000)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn messages_stay_in_scope_on_sqlite() {
    let (store, _dir) = sqlite().await;
    messages_stay_in_scope(&store).await;
}

#[tokio::test]
async fn messages_stay_in_scope_on_postgres() {
    let (store, _dir) = postgres().await;
    messages_stay_in_scope(&store).await;
}
