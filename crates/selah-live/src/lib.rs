//! Selah's live sessions (docs/LIVE.md): people in different places doing something together at
//! the same moment. This crate holds everything about them that is not HTTP:
//!
//! - [`protocol`]: the versioned JSON messages, parsed with clear errors, and the server's
//!   envelope;
//! - [`timer`] and [`clock`]: the meditation countdown and breathing phase computed from a
//!   server-owned start time, and the client's clock-offset estimate;
//! - [`stress`]: the room's check-in aggregate (count, mean, distribution, trend);
//! - [`room`]: a room's replica: it applies the room's events in sequence order and says what
//!   each participant receives, keeping a bounded buffer for resuming;
//! - [`hub`]: the rooms of this instance and their connections, with fan-out;
//! - [`bus`]: how events get their sequence numbers: in process, or through Redis so that a
//!   room spans several instances;
//! - [`doc`]: collaborative documents (yrs, the Yjs sync and awareness protocols).

pub mod bus;
pub mod clock;
pub mod doc;
pub mod hub;
pub mod protocol;
pub mod room;
pub mod stress;
pub mod timer;
