//! The hot loop of trip aggregation: null-free timestamp and zone columns counted (or summed)
//! into a dense zone x period array, split across threads, each thread with its own array.

use rayon::prelude::*;

/// Where a zone id lands: a series slot, or one of these markers.
pub(crate) const NOT_A_SERIES: u32 = u32::MAX;
pub(crate) const NOT_IN_LOOKUP: u32 = u32::MAX - 1;

/// The time axis in the column's own unit (e.g. microseconds), so no per-row unit conversion.
#[derive(Clone, Copy)]
pub(crate) struct Axis {
    pub start: i64,
    pub step: i64,
    pub len: usize,
}

#[derive(Default)]
pub(crate) struct DenseCounts {
    /// `slot * len + period`.
    pub values: Vec<f64>,
    pub used: u64,
    pub out_of_range: u64,
    pub not_a_series: u64,
    pub unknown_zone: u64,
    /// Row (0-based, within the columns given) of the first unknown zone, and the zone.
    pub first_unknown: Option<(usize, i64)>,
}

impl DenseCounts {
    fn new(cells: usize) -> Self {
        DenseCounts {
            values: vec![0.0; cells],
            ..Default::default()
        }
    }

    fn merge(mut self, other: DenseCounts) -> DenseCounts {
        self.values
            .iter_mut()
            .zip(&other.values)
            .for_each(|(a, b)| *a += b);
        self.used += other.used;
        self.out_of_range += other.out_of_range;
        self.not_a_series += other.not_a_series;
        self.unknown_zone += other.unknown_zone;
        self.first_unknown = match (self.first_unknown, other.first_unknown) {
            (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
            (a, b) => a.or(b),
        };
        self
    }
}

/// Counts rows (or sums `values`) per slot and period. `slot[id]` maps a zone id to its slot.
pub(crate) fn count<L>(
    times: &[i64],
    zones: &[L],
    values: Option<&[f64]>,
    axis: Axis,
    slot: &[u32],
    n_slots: usize,
) -> DenseCounts
where
    L: Copy + Into<i64> + Sync,
{
    assert_eq!(times.len(), zones.len());
    let pieces = rayon::current_num_threads().max(1);
    let chunk = times.len().div_ceil(pieces).max(1 << 16);
    let cells = n_slots * axis.len;
    let span = axis.step as u64 * axis.len as u64;
    let inv_step = 1.0 / axis.step as f64;
    times
        .par_chunks(chunk)
        .enumerate()
        .map(|(c, ts)| {
            let base = c * chunk;
            let zs = &zones[base..base + ts.len()];
            let vs = values.map(|v| &v[base..base + ts.len()]);
            let mut acc = DenseCounts::new(cells);
            for (i, (&t, &z)) in ts.iter().zip(zs).enumerate() {
                let offset = t.wrapping_sub(axis.start) as u64;
                if offset >= span {
                    acc.out_of_range += 1;
                    continue;
                }
                let z: i64 = z.into();
                let s = usize::try_from(z)
                    .ok()
                    .and_then(|z| slot.get(z).copied())
                    .unwrap_or(NOT_IN_LOOKUP);
                if s == NOT_A_SERIES {
                    acc.not_a_series += 1;
                    continue;
                }
                if s == NOT_IN_LOOKUP {
                    acc.unknown_zone += 1;
                    if acc.first_unknown.is_none() {
                        acc.first_unknown = Some((base + i, z));
                    }
                    continue;
                }
                // A float multiply instead of a 64-bit division, corrected at period edges.
                let mut p = (offset as f64 * inv_step) as u64;
                if p * axis.step as u64 > offset {
                    p -= 1;
                } else if (p + 1) * (axis.step as u64) <= offset {
                    p += 1;
                }
                acc.values[s as usize * axis.len + p as usize] += vs.map_or(1.0, |v| v[i]);
                acc.used += 1;
            }
            acc
        })
        .reduce(|| DenseCounts::new(cells), DenseCounts::merge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_a_plain_loop_at_period_edges() {
        // Hourly periods in microseconds; times exactly on, just before and just after edges.
        let hour = 3_600_000_000i64;
        let axis = Axis {
            start: 10 * hour,
            step: hour,
            len: 48,
        };
        let mut times = Vec::new();
        let mut zones = Vec::new();
        for k in 0..200_000i64 {
            times.push(10 * hour + (k * 7_919_000_017) % (50 * hour) - hour);
            zones.push((k % 5) as i32);
        }
        times.extend([
            10 * hour,
            11 * hour - 1,
            11 * hour,
            58 * hour - 1,
            58 * hour,
        ]);
        zones.extend([1, 1, 1, 2, 2]);
        // Zone 0 is not a series, zone 4 is unknown, zones 1..=3 are slots 0..=2.
        let slot = [NOT_A_SERIES, 0, 1, 2, NOT_IN_LOOKUP];
        let got = count(&times, &zones, None, axis, &slot, 3);
        let mut expect = vec![0.0; 3 * 48];
        let (mut used, mut out, mut na, mut unknown) = (0, 0, 0, 0);
        for (t, z) in times.iter().zip(&zones) {
            if *t < axis.start || *t >= axis.start + 48 * hour {
                out += 1;
            } else if *z == 0 {
                na += 1;
            } else if *z == 4 {
                unknown += 1;
            } else {
                expect[(*z as usize - 1) * 48 + ((t - axis.start) / hour) as usize] += 1.0;
                used += 1;
            }
        }
        assert_eq!(got.values, expect);
        assert_eq!(
            (
                got.used,
                got.out_of_range,
                got.not_a_series,
                got.unknown_zone
            ),
            (used, out, na, unknown)
        );
        assert_eq!(got.first_unknown.map(|f| f.1), Some(4));
    }
}
