//! A room's stress check-ins as the room sees them: an aggregate (count, mean, distribution,
//! trend) and, for those who opted in, their own level. Nobody else's level is shown.

use serde::Serialize;

/// One check-in as the room keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckIn {
    /// Level 0–10.
    pub level: u8,
    /// Who, with their display name, when they opted in to being seen.
    pub shared_by: Option<(String, String)>,
    /// Factor tags.
    pub factors: Vec<String>,
}

/// Someone who opted in, with their latest check-in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shared {
    /// User id.
    pub user: String,
    /// Display name.
    pub username: String,
    /// Their level.
    pub level: u8,
    /// Their factor tags.
    pub factors: Vec<String>,
}

/// What the room sees.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Aggregate {
    /// Check-ins so far.
    pub count: usize,
    /// Mean level (0 without check-ins), to two decimals.
    pub mean: f64,
    /// How many check-ins at each level 0..=10.
    pub distribution: [u32; 11],
    /// Mean of the later half minus mean of the earlier half: negative is calmer.
    pub trend: f64,
    /// Those who opted in, latest check-in each.
    pub shared: Vec<Shared>,
}

fn mean(levels: &[u8]) -> f64 {
    if levels.is_empty() {
        return 0.0;
    }
    levels.iter().map(|&l| l as f64).sum::<f64>() / levels.len() as f64
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The aggregate of check-ins in the order they were made.
pub fn aggregate(checkins: &[CheckIn]) -> Aggregate {
    let levels: Vec<u8> = checkins.iter().map(|c| c.level.min(10)).collect();
    let mut distribution = [0u32; 11];
    for &l in &levels {
        distribution[l as usize] += 1;
    }
    let half = levels.len() / 2;
    let trend = if levels.len() >= 2 {
        mean(&levels[levels.len() - half..]) - mean(&levels[..half])
    } else {
        0.0
    };
    let mut shared: Vec<Shared> = Vec::new();
    for c in checkins {
        if let Some((user, username)) = &c.shared_by {
            let entry = Shared {
                user: user.clone(),
                username: username.clone(),
                level: c.level,
                factors: c.factors.clone(),
            };
            match shared.iter_mut().find(|s| &s.user == user) {
                Some(s) => *s = entry,
                None => shared.push(entry),
            }
        }
    }
    Aggregate {
        count: levels.len(),
        mean: round2(mean(&levels)),
        distribution,
        trend: round2(trend),
        shared,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(level: u8, who: Option<&str>) -> CheckIn {
        CheckIn {
            level,
            shared_by: who.map(|w| (w.to_string(), format!("name-{w}"))),
            factors: vec![],
        }
    }

    #[test]
    fn the_room_sees_numbers_and_only_opted_in_people() {
        let a = aggregate(&[c(8, None), c(6, Some("u1")), c(4, None), c(2, Some("u1"))]);
        assert_eq!(a.count, 4);
        assert_eq!(a.mean, 5.0);
        assert_eq!(a.distribution[8], 1);
        assert_eq!(a.distribution.iter().sum::<u32>(), 4);
        assert_eq!(a.trend, -4.0, "(4+2)/2 - (8+6)/2");
        assert_eq!(a.shared.len(), 1);
        assert_eq!(
            a.shared[0].level, 2,
            "the latest check-in of the person who shared"
        );
        let empty = aggregate(&[]);
        assert_eq!((empty.count, empty.mean, empty.trend), (0, 0.0, 0.0));
    }
}
