//! GCRA accounting for many (key, class) pairs, exactly as governor 0.6.3 computes it.
//!
//! # Design
//! Per class: T = nanoseconds per cell, tau = max(T, 1) * burst. Per (key, class): the theoretical
//! arrival time `tat`, absent at first. A check at `now` (ns since the table's epoch):
//! `tat0 = tat.unwrap_or(now + T)`; if `now < tat0 - tau` refuse with that wait, else allow and store
//! `max(tat0, now) + T`. A refusal changes nothing, so the caller may sleep and retry, as the reference's
//! peers do. Times are f64 nanoseconds from JS and handled as u64.
//!
//! # Not provided
//! Eviction of idle keys: the owner removes a key when its peer goes away.
//!
//! # Example
//! ```
//! let mut t = quorumnet_native::quota::Table::default();
//! t.set_quota(0, 500_000_000, 2);
//! assert_eq!(t.check(1, 0, 0).unwrap(), 0);
//! assert_eq!(t.check(1, 0, 0).unwrap(), 0);
//! assert_eq!(t.check(1, 0, 0).unwrap(), 500_000_000);
//! ```

use std::collections::HashMap;

#[derive(Clone, Copy)]
struct Gcra {
    t: u64,
    tau: u64,
}

#[derive(Default)]
pub struct Table {
    quotas: HashMap<u32, Gcra>,
    state: HashMap<(u32, u32), u64>,
}

impl Table {
    pub fn set_quota(&mut self, class: u32, period_ns: u64, burst: u32) {
        self.quotas.insert(class, Gcra { t: period_ns, tau: period_ns.max(1).saturating_mul(burst as u64) });
    }

    /// 0 if allowed now (a cell is consumed), else nanoseconds to wait. Err for an unknown class.
    pub fn check(&mut self, key: u32, class: u32, now: u64) -> Result<u64, String> {
        let q = *self.quotas.get(&class).ok_or_else(|| format!("no quota for class {class}"))?;
        let tat = self.state.get(&(key, class)).copied().unwrap_or(now.saturating_add(q.t));
        let earliest = tat.saturating_sub(q.tau);
        if now < earliest {
            return Ok(earliest - now);
        }
        self.state.insert((key, class), tat.max(now).saturating_add(q.t));
        Ok(0)
    }

    pub fn remove_key(&mut self, key: u32) {
        self.state.retain(|(k, _), _| *k != key);
    }

    pub fn size(&self) -> usize {
        self.state.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::{Clock, FakeRelativeClock};
    use governor::{Quota, RateLimiter};
    use std::num::NonZeroU32;
    use std::time::Duration;

    /// Our table against governor itself over a pseudo-random schedule, for several quotas.
    #[test]
    fn matches_governor_0_6_3() {
        let quotas = [
            (Quota::per_second(NonZeroU32::new(2).unwrap()), 500_000_000u64, 2u32),
            (Quota::per_second(NonZeroU32::new(5).unwrap()), 200_000_000, 5),
            (Quota::per_minute(NonZeroU32::new(1).unwrap()), 60_000_000_000, 1),
            (Quota::per_second(NonZeroU32::new(3).unwrap()), 333_333_333, 3),
        ];
        for (quota, period, burst) in quotas {
            let clock = FakeRelativeClock::default();
            let limiter = RateLimiter::direct_with_clock(quota, &clock);
            let mut table = Table::default();
            table.set_quota(0, period, burst);
            let mut x: u64 = 0x2545f4914f6cdd1d;
            let mut now = 0u64;
            for _ in 0..500 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let dt = match x % 4 {
                    0 => 0,
                    1 => x % 1_000_000,
                    2 => x % period,
                    _ => x % (3 * period),
                };
                clock.advance(Duration::from_nanos(dt));
                now += dt;
                let expected = match limiter.check() {
                    Ok(()) => 0,
                    Err(not_until) => not_until.wait_time_from(clock.now()).as_nanos() as u64,
                };
                assert_eq!(table.check(9, 0, now).unwrap(), expected, "at {now} ns");
            }
        }
    }

    #[test]
    fn keys_and_classes_are_independent() {
        let mut t = Table::default();
        t.set_quota(0, 1_000, 1);
        t.set_quota(1, 1_000, 1);
        assert_eq!(t.check(1, 0, 0).unwrap(), 0);
        assert_eq!(t.check(2, 0, 0).unwrap(), 0);
        assert_eq!(t.check(1, 1, 0).unwrap(), 0);
        assert_eq!(t.size(), 3);
        t.remove_key(1);
        assert_eq!(t.size(), 1);
        assert!(t.check(1, 7, 0).is_err());
    }
}
