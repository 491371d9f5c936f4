//! Times of day for scheduled jobs (`"02:00"`), and when such a time next comes round.

/// A local time of day, minute precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOfDay {
    /// 0–23.
    pub hour: u32,
    /// 0–59.
    pub minute: u32,
}

impl TimeOfDay {
    /// Parses `HH:MM` (24-hour clock).
    pub fn parse(s: &str) -> Option<Self> {
        let (h, m) = s.trim().split_once(':')?;
        let (hour, minute) = (h.parse().ok()?, m.parse().ok()?);
        (hour < 24 && minute < 60 && m.len() == 2).then_some(Self { hour, minute })
    }

    /// Seconds from `now_secs_of_day` (seconds since local midnight) until this time next
    /// occurs; a full day when it is exactly now.
    pub fn secs_until(&self, now_secs_of_day: u32) -> u32 {
        let target = self.hour * 3600 + self.minute * 60;
        let day = 24 * 3600;
        (target + day - now_secs_of_day % day - 1) % day + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(
            TimeOfDay::parse("02:00"),
            Some(TimeOfDay { hour: 2, minute: 0 })
        );
        for bad in ["24:00", "2:5", "02:60", "x", ""] {
            assert_eq!(TimeOfDay::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn next_occurrence() {
        let t = TimeOfDay::parse("02:00").unwrap();
        assert_eq!(t.secs_until(3600), 3600);
        assert_eq!(t.secs_until(7200), 24 * 3600);
        assert_eq!(t.secs_until(7201), 24 * 3600 - 1);
    }
}
