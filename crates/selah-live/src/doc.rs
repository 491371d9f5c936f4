//! Collaborative documents: a yrs document per room, spoken to in the Yjs sync and awareness
//! protocols (y-protocols), so that an unmodified `y-websocket` client can edit with Selah.
//!
//! [`SharedDoc::handle`] takes one binary frame from a peer and says what to answer that peer,
//! which updates must be stored before anyone else sees them, and what to relay to the other
//! peers. The caller stores, then relays: an edit another client has seen is on disk.

use std::collections::HashMap;

use bytes::Bytes;
use yrs::encoding::read::Cursor;
use yrs::sync::{Awareness, AwarenessUpdate, Message, MessageReader, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Doc, ReadTxn, StateVector, Transact, Update};

/// A frame the document could not take.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DocError(pub String);

/// What one frame from a peer leads to.
#[derive(Debug, Default)]
pub struct Handled {
    /// Frames for the sending peer.
    pub reply: Vec<Bytes>,
    /// Document updates (Yjs update v1) to store, in order, before relaying; the frame
    /// carrying each to the other peers is at the same index in `updates`.
    pub store: Vec<Vec<u8>>,
    /// The frames relaying `store`'s updates.
    pub updates: Vec<Bytes>,
    /// Awareness frames for every other peer (never stored).
    pub awareness: Vec<Bytes>,
}

/// The peer id under which frames from other instances are applied.
pub const REMOTE_PEER: u64 = u64::MAX;

/// One room's document and the awareness (cursors, names) of those editing it.
pub struct SharedDoc {
    awareness: Awareness,
    /// Which peer introduced each awareness client id: its states go when that peer does.
    /// (Clients also re-send the states of others they have heard of.)
    owner: HashMap<ClientID, u64>,
}

fn frame(msg: Message) -> Bytes {
    Bytes::from(msg.encode_v1())
}

impl SharedDoc {
    /// The document from its last snapshot and the updates stored after it.
    pub fn load(snapshot: Option<&[u8]>, updates: &[Vec<u8>]) -> Result<Self, DocError> {
        let doc = Doc::new();
        {
            let mut txn = doc.transact_mut();
            for u in snapshot
                .into_iter()
                .chain(updates.iter().map(Vec::as_slice))
            {
                let update = Update::decode_v1(u)
                    .map_err(|e| DocError(format!("a stored update is damaged: {e}")))?;
                txn.apply_update(update)
                    .map_err(|e| DocError(e.to_string()))?;
            }
        }
        Ok(Self {
            awareness: Awareness::new(doc),
            owner: HashMap::new(),
        })
    }

    /// Two snapshots (or any updates) as one.
    pub fn merge(a: &[u8], b: &[u8]) -> Result<Vec<u8>, DocError> {
        yrs::merge_updates_v1([a, b]).map_err(|e| DocError(format!("cannot merge snapshots: {e}")))
    }

    /// The whole document as one update (a snapshot).
    pub fn state(&self) -> Vec<u8> {
        self.awareness
            .doc()
            .transact()
            .encode_state_as_update_v1(&StateVector::default())
    }

    /// The text of a `Y.Text` at the root, for tests and previews.
    pub fn text(&self, name: &str) -> String {
        use yrs::GetString;
        let txn = self.awareness.doc().transact();
        txn.get_text(name)
            .map(|t| t.get_string(&txn))
            .unwrap_or_default()
    }

    /// What the server sends a peer that just connected: its state vector (so the peer sends
    /// what the server lacks) and everyone's awareness.
    pub fn greeting(&self) -> Vec<Bytes> {
        let sv = self.awareness.doc().transact().state_vector();
        let mut out = vec![frame(Message::Sync(SyncMessage::SyncStep1(sv)))];
        if let Ok(update) = self.awareness.update()
            && !update.clients.is_empty()
        {
            out.push(frame(Message::Awareness(update)));
        }
        out
    }

    /// Takes one frame from `peer`.
    pub fn handle(&mut self, peer: u64, data: &[u8]) -> Result<Handled, DocError> {
        let mut out = Handled::default();
        let mut decoder = DecoderV1::new(Cursor::new(data));
        let reader = MessageReader::new(&mut decoder);
        let mut any = false;
        for msg in reader {
            any = true;
            let msg = msg.map_err(|e| DocError(format!("not a Yjs message: {e}")))?;
            match msg {
                Message::Sync(SyncMessage::SyncStep1(sv)) => {
                    let update = self
                        .awareness
                        .doc()
                        .transact()
                        .encode_state_as_update_v1(&sv);
                    out.reply
                        .push(frame(Message::Sync(SyncMessage::SyncStep2(update))));
                }
                Message::Sync(SyncMessage::SyncStep2(u))
                | Message::Sync(SyncMessage::Update(u)) => {
                    let update = Update::decode_v1(&u)
                        .map_err(|e| DocError(format!("not a Yjs update: {e}")))?;
                    let before = self.awareness.doc().transact().state_vector();
                    self.awareness
                        .doc()
                        .transact_mut()
                        .apply_update(update)
                        .map_err(|e| DocError(e.to_string()))?;
                    let txn = self.awareness.doc().transact();
                    // Store and relay only what was new here (a resent update changes nothing),
                    // but keep deletions, which the state vector does not count.
                    if txn.state_vector() != before || update_has_deletes(&u) {
                        drop(txn);
                        out.updates
                            .push(frame(Message::Sync(SyncMessage::Update(u.clone()))));
                        out.store.push(u);
                    }
                }
                Message::Auth(_) => {}
                Message::AwarenessQuery => {
                    if let Ok(update) = self.awareness.update() {
                        out.reply.push(frame(Message::Awareness(update)));
                    }
                }
                Message::Awareness(update) => {
                    // Only entries newer than what is known (a clock ahead, or the same clock
                    // saying the client left) are taken and passed on, so echoes die out.
                    let mut accepted = HashMap::new();
                    for (id, entry) in update.clients {
                        let gone = &*entry.json == "null";
                        let newer = match self.awareness.meta(id) {
                            None => true,
                            Some((clock, _)) => {
                                entry.clock > clock || (entry.clock == clock && gone)
                            }
                        };
                        if !newer {
                            continue;
                        }
                        if gone {
                            self.owner.remove(&id);
                        } else {
                            self.owner.entry(id).or_insert(peer);
                        }
                        accepted.insert(id, entry);
                    }
                    if accepted.is_empty() {
                        continue;
                    }
                    let update = AwarenessUpdate { clients: accepted };
                    self.awareness
                        .apply_update(update.clone())
                        .map_err(|e| DocError(e.to_string()))?;
                    // Echoed to the sender too: y-websocket clients count it as a sign of life.
                    let f = frame(Message::Awareness(update));
                    out.reply.push(f.clone());
                    out.awareness.push(f);
                }
                Message::Custom(tag, _) => {
                    return Err(DocError(format!("unknown Yjs message type {tag}")));
                }
            }
        }
        if !any {
            return Err(DocError("an empty frame".into()));
        }
        Ok(out)
    }

    /// A peer left: the awareness states it introduced go, and the others are told.
    pub fn leave(&mut self, peer: u64) -> Option<Bytes> {
        let ids: Vec<ClientID> = self
            .owner
            .iter()
            .filter(|(_, p)| **p == peer)
            .map(|(id, _)| *id)
            .collect();
        let mut clients = HashMap::new();
        for id in ids {
            self.owner.remove(&id);
            let clock = self.awareness.meta(id).map(|(c, _)| c).unwrap_or(0);
            self.awareness.remove_state(id);
            clients.insert(
                id,
                yrs::sync::awareness::AwarenessUpdateEntry {
                    clock: clock + 1,
                    json: "null".into(),
                },
            );
        }
        if clients.is_empty() {
            return None;
        }
        Some(frame(Message::Awareness(AwarenessUpdate { clients })))
    }
}

fn update_has_deletes(u: &[u8]) -> bool {
    Update::decode_v1(u)
        .map(|u| !u.delete_set().is_empty())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{GetString, Text};

    fn client_update(f: impl FnOnce(&Doc)) -> (Doc, Vec<u8>) {
        let doc = Doc::new();
        f(&doc);
        let u = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        (doc, u)
    }

    #[test]
    fn updates_are_stored_once_relayed_and_survive_a_reload() {
        let mut shared = SharedDoc::load(None, &[]).unwrap();
        let (_, u) = client_update(|d| {
            let t = d.get_or_insert_text("text");
            t.insert(&mut d.transact_mut(), 0, "hello");
        });
        let msg = Message::Sync(SyncMessage::Update(u.clone())).encode_v1();
        let h = shared.handle(1, &msg).unwrap();
        assert_eq!(h.store.len(), 1);
        assert_eq!(h.updates.len(), 1);
        let again = shared.handle(2, &msg).unwrap();
        assert!(again.store.is_empty(), "a resent update changes nothing");
        assert_eq!(shared.text("text"), "hello");
        let reloaded = SharedDoc::load(Some(&shared.state()), &[]).unwrap();
        assert_eq!(reloaded.text("text"), "hello");
        let from_log = SharedDoc::load(None, &h.store).unwrap();
        assert_eq!(from_log.text("text"), "hello");
        let (_, more) = client_update(|d| {
            d.get_or_insert_text("text")
                .insert(&mut d.transact_mut(), 0, "say ");
        });
        let merged = SharedDoc::merge(&shared.state(), &more).unwrap();
        assert_eq!(
            SharedDoc::load(Some(&merged), &[])
                .unwrap()
                .text("text")
                .len(),
            9
        );
    }

    #[test]
    fn a_peer_asking_with_its_state_vector_gets_what_it_lacks() {
        let mut shared = SharedDoc::load(None, &[]).unwrap();
        let (_, u) = client_update(|d| {
            d.get_or_insert_text("text")
                .insert(&mut d.transact_mut(), 0, "abc");
        });
        shared
            .handle(1, &Message::Sync(SyncMessage::Update(u)).encode_v1())
            .unwrap();
        let fresh = Doc::new();
        let sv = fresh.transact().state_vector();
        let h = shared
            .handle(2, &Message::Sync(SyncMessage::SyncStep1(sv)).encode_v1())
            .unwrap();
        let Message::Sync(SyncMessage::SyncStep2(update)) =
            Message::decode_v1(&h.reply[0]).unwrap()
        else {
            panic!()
        };
        let text = fresh.get_or_insert_text("text");
        fresh
            .transact_mut()
            .apply_update(Update::decode_v1(&update).unwrap())
            .unwrap();
        assert_eq!(text.get_string(&fresh.transact()), "abc");
    }

    #[test]
    fn garbage_is_refused() {
        let mut shared = SharedDoc::load(None, &[]).unwrap();
        assert!(shared.handle(1, &[]).is_err());
        assert!(shared.handle(1, &[0, 2, 200, 1, 2]).is_err());
        assert!(shared.handle(1, &[9, 0]).is_err());
        assert!(SharedDoc::load(Some(&[1, 2, 3]), &[]).is_err());
    }
}
