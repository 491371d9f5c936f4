//! Attendance records across a crash, on both backends: refreshing marks only the refreshing
//! instance's open records, and closing stale ones ends each at the time it was last seen,
//! leaving fresh and already-closed records alone.

use selah_core::Role;
use selah_store::Store;

mod support;
use support::*;

async fn stale_records_close_at_their_last_sighting(store: &Store) {
    let u = store.create_user("u", "h", Role::Member).await.unwrap().id;
    let room = store
        .create_live_room(&personal(&u), "meditation", "sit")
        .await
        .unwrap();
    store.start_live_session(&room, &u, "dead").await.unwrap();
    store.start_live_session(&room, &u, "alive").await.unwrap();
    let ended = store.start_live_session(&room, &u, "alive").await.unwrap();
    store.end_live_session(&ended).await.unwrap();
    // Sightings well clear of the records' own times, so each end is recognisable.
    let last_dead = selah_store::now_ms() + 1_000_000;
    let seen = last_dead + 5_000;
    assert_eq!(
        store.touch_live_sessions("dead", last_dead).await.unwrap(),
        1
    );
    // Only the refreshing instance's open records move (the ended one is left alone).
    assert_eq!(store.touch_live_sessions("alive", seen).await.unwrap(), 1);
    assert_eq!(
        store
            .close_stale_live_sessions(last_dead + 1)
            .await
            .unwrap(),
        1
    );
    let left = || async {
        let rows = store.own_live_sessions(&personal(&u)).await.unwrap();
        rows.iter().map(|r| r.left_at).collect::<Vec<_>>()
    };
    let after = left().await;
    assert_eq!(after.len(), 3);
    assert!(
        after.contains(&Some(last_dead)),
        "the dead instance's record ends where it was last seen: {after:?}"
    );
    assert_eq!(
        after.iter().filter(|l| l.is_none()).count(),
        1,
        "the live instance's record stays open: {after:?}"
    );
    // Closing again changes nothing; later, the live record goes stale too, at its sighting.
    assert_eq!(
        store
            .close_stale_live_sessions(last_dead + 1)
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.close_stale_live_sessions(seen + 1).await.unwrap(), 1);
    let after = left().await;
    assert!(after.contains(&Some(seen)), "{after:?}");
    assert!(after.iter().all(Option::is_some), "{after:?}");
    // A closed record is never refreshed again.
    assert_eq!(
        store.touch_live_sessions("alive", seen + 10).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn sqlite_closes_stale_attendance() {
    let (store, _dir) = sqlite().await;
    stale_records_close_at_their_last_sighting(&store).await;
}

#[tokio::test]
async fn postgres_closes_stale_attendance() {
    let (store, _dir) = postgres().await;
    stale_records_close_at_their_last_sighting(&store).await;
}
