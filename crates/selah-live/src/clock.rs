//! A client's estimate of the server's clock, from a few `ping`/`pong` exchanges (docs/LIVE.md,
//! "Time"): NTP's offset formula, keeping the sample with the smallest round trip, whose error is
//! at most half that round trip.

/// One exchange: `t0` client send, `t1` server receive, `t2` server send, `t3` client receive (ms).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Client clock when the ping left.
    pub t0: f64,
    /// Server clock when the ping arrived.
    pub t1: f64,
    /// Server clock when the pong left.
    pub t2: f64,
    /// Client clock when the pong arrived.
    pub t3: f64,
}

impl Sample {
    /// Server clock minus client clock, assuming the two legs took equal time.
    pub fn offset(&self) -> f64 {
        ((self.t1 - self.t0) + (self.t2 - self.t3)) / 2.0
    }

    /// Time on the wire, both ways.
    pub fn round_trip(&self) -> f64 {
        (self.t3 - self.t0) - (self.t2 - self.t1)
    }
}

/// The estimate: add `offset_ms` to the client clock to get the server's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Server minus client, in ms.
    pub offset_ms: f64,
    /// The chosen sample's round trip: the estimate is within half of it.
    pub round_trip_ms: f64,
}

/// The estimate from the sample with the smallest round trip; `None` without samples.
pub fn estimate(samples: &[Sample]) -> Option<Estimate> {
    samples
        .iter()
        .filter(|s| s.round_trip() >= 0.0)
        .min_by(|a, b| a.round_trip().total_cmp(&b.round_trip()))
        .map(|s| Estimate {
            offset_ms: s.offset(),
            round_trip_ms: s.round_trip(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shortest_round_trip_wins() {
        // Client 2 s behind the server; the first exchange was slow one way.
        let slow = Sample {
            t0: 0.0,
            t1: 2_300.0,
            t2: 2_300.0,
            t3: 310.0,
        };
        let quick = Sample {
            t0: 1_000.0,
            t1: 3_005.0,
            t2: 3_006.0,
            t3: 1_011.0,
        };
        let e = estimate(&[slow, quick]).unwrap();
        assert_eq!(e.round_trip_ms, 10.0);
        assert!((e.offset_ms - 2_000.0).abs() <= 5.0, "{e:?}");
        assert!(estimate(&[]).is_none());
    }
}
