//! The built-in synthetic taxi city: 263 TLC zones with archetypes, Zipf-like volumes, hour and
//! weekday profiles per archetype, yearly seasonality, US holidays, weather effects from the real
//! Central Park daily record, an optional demand shock, and negative-binomial noise. Seeded and
//! deterministic. Calibration follows the facts in shared/data/README.md (see the constants).

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Gamma, Poisson, StudentT};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::calendar::HolidayCalendar;
use crate::error::{DataError, Result};
use crate::panel::Panel;
use crate::time::{self, weekday_index, Day, Frequency, TimeGrid};
use crate::weather::WeatherTable;
use crate::zones::{ZoneLookup, JFK, LAGUARDIA, NEWARK};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Archetype {
    Business,
    Residential,
    Nightlife,
    Airport,
}

impl Archetype {
    pub fn name(self) -> &'static str {
        match self {
            Archetype::Business => "business",
            Archetype::Residential => "residential",
            Archetype::Nightlife => "nightlife",
            Archetype::Airport => "airport",
        }
    }

    /// Monday..Sunday demand factors (normalized to mean 1 when used). Manhattan business runs
    /// 0.89 (Mon) to 1.08 (Fri); airports drop to 0.73 on Saturday; outer boroughs peak at 1.34
    /// on Saturday.
    fn weekday_factors(self) -> [f64; 7] {
        match self {
            Archetype::Business => [0.89, 0.97, 1.02, 1.05, 1.08, 0.95, 0.84],
            Archetype::Residential => [0.90, 0.91, 0.94, 0.97, 1.08, 1.34, 1.12],
            Archetype::Nightlife => [0.72, 0.78, 0.88, 1.02, 1.32, 1.48, 0.96],
            Archetype::Airport => [1.06, 0.97, 0.99, 1.08, 1.13, 0.73, 1.08],
        }
    }

    /// Multipliers on the citywide hour-of-day shares for this archetype.
    fn hour_tilt(self, hour: usize) -> f64 {
        match self {
            Archetype::Business => 1.0,
            // Morning trips out of residential areas, fewer in the middle of the night.
            Archetype::Residential => [
                0.9, 0.8, 0.7, 0.7, 0.9, 1.3, 1.6, 1.7, 1.6, 1.3, 1.1, 1.0, 0.95, 0.9, 0.9, 0.9,
                0.9, 0.9, 0.9, 0.95, 1.0, 1.0, 1.0, 0.95,
            ][hour],
            Archetype::Nightlife => [
                2.4, 2.6, 2.8, 2.6, 1.6, 0.6, 0.4, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.85, 0.85, 0.85,
                0.9, 0.95, 1.0, 1.1, 1.3, 1.5, 1.8, 2.1,
            ][hour],
            // Flights land all day; the late-afternoon bank is the busiest.
            Archetype::Airport => [
                0.8, 0.4, 0.2, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 1.0, 1.05, 1.1, 1.15, 1.2, 1.3, 1.4,
                1.45, 1.4, 1.3, 1.25, 1.3, 1.4, 1.4, 1.2,
            ][hour],
        }
    }
}

/// Citywide share of daily trips per hour (percent), weekday and weekend (real TLC averages).
const WEEKDAY_HOURS: [f64; 24] = [
    1.7, 0.9, 0.5, 0.4, 0.4, 0.7, 1.6, 3.4, 4.7, 4.8, 4.7, 4.9, 5.3, 5.4, 5.9, 6.1, 6.2, 7.1, 7.6,
    6.7, 6.0, 6.1, 5.4, 3.8,
];
const WEEKEND_HOURS: [f64; 24] = [
    5.6, 4.5, 3.1, 2.1, 1.2, 0.5, 0.8, 1.2, 1.9, 3.0, 4.0, 4.8, 5.5, 5.8, 5.9, 5.9, 6.2, 6.3, 6.3,
    5.9, 5.1, 4.9, 4.9, 4.7,
];

/// Month factors (mid-month), interpolated by day of year: August ~0.90, spring and autumn peaks.
const MONTH_FACTORS: [f64; 12] = [
    0.93, 0.95, 1.04, 1.03, 1.04, 1.01, 0.94, 0.90, 0.98, 1.05, 1.01, 0.97,
];

/// The 38 busiest yellow-cab pickup zones, busiest first (2018-2019 TLC data); they carry ~90%
/// of trips, the first 10 ~36%.
const BUSIEST: [u32; 38] = [
    237, 161, 236, 162, 230, 186, 132, 142, 170, 234, 48, 163, 239, 138, 68, 79, 141, 107, 238,
    140, 164, 100, 249, 263, 229, 43, 113, 90, 137, 233, 262, 114, 246, 231, 75, 151, 87, 148,
];
const NIGHTLIFE: [u32; 12] = [79, 148, 249, 114, 113, 158, 144, 211, 4, 232, 255, 256];
const MANHATTAN_RESIDENTIAL: [u32; 24] = [
    236, 237, 238, 239, 140, 141, 262, 263, 43, 151, 75, 74, 41, 42, 116, 152, 166, 24, 127, 128,
    243, 244, 120, 153,
];

/// Volume weight by popularity rank (1-based): a mild power law over the busiest 38
/// (exponent 0.3674 puts 40% of their trips in the top 10) and a steeper one over the rest
/// (exponent 0.9238 leaves the other 225 zones 10% of all trips). Both exponents were solved
/// numerically for those two shares.
fn rank_weight(rank: usize) -> f64 {
    const HEAD: f64 = 0.367_445;
    const TAIL: f64 = 0.923_842;
    if rank <= 38 {
        (rank as f64).powf(-HEAD)
    } else {
        38f64.powf(-HEAD) * ((rank - 37) as f64).powf(-TAIL)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shock {
    pub start: Day,
    pub end: Day,
    /// Demand multiplier inside the shock (0.04 for April 2020's -96%).
    pub factor: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SynthConfig {
    pub seed: u64,
    pub start: Day,
    pub end: Day,
    pub frequency: Frequency,
    /// Mean citywide pickups per day before seasonal factors.
    pub trips_per_day: f64,
    /// Only the first `zones` zones by popularity (all 263 by default).
    pub zones: usize,
    /// Negative-binomial dispersion of each zone-period count (larger = closer to Poisson).
    pub dispersion: f64,
    /// Citywide day-to-day noise (log scale, Student-t with 4 degrees of freedom).
    pub daily_noise: f64,
    /// Relative change of demand per year.
    pub trend_per_year: f64,
    pub weather_effects: bool,
    pub shock: Option<Shock>,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            seed: 7,
            start: Day::ymd(2022, 1, 1),
            end: Day::ymd(2023, 12, 31),
            frequency: Frequency::Daily,
            trips_per_day: 110_000.0,
            zones: 263,
            dispersion: 25.0,
            daily_noise: 0.025,
            trend_per_year: 0.0,
            weather_effects: true,
            shock: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct SynthZone {
    pub id: u32,
    pub borough: String,
    pub service_zone: String,
    pub archetype: Archetype,
    /// Share of citywide trips.
    pub share: f64,
}

/// The zones of the synthetic city, busiest first.
pub fn city(zones: usize) -> Result<Vec<SynthZone>> {
    let lookup = ZoneLookup::builtin();
    let real: Vec<_> = lookup.real_zones().collect();
    if zones == 0 || zones > real.len() {
        return Err(DataError::config(
            "data.synthetic.zones",
            format!("must be in 1..={}", real.len()),
        ));
    }
    let busiest_rank: HashMap<u32, usize> =
        BUSIEST.iter().enumerate().map(|(i, z)| (*z, i)).collect();
    let borough_order = |b: &str| match b {
        "Manhattan" => 0,
        "Brooklyn" => 1,
        "Queens" => 2,
        "Bronx" => 3,
        "Staten Island" => 4,
        _ => 5,
    };
    let mut order: Vec<_> = real.clone();
    order.sort_by_key(|z| match busiest_rank.get(&z.id) {
        Some(r) => (0, *r, 0),
        None => (1, borough_order(&z.borough), z.id as usize),
    });
    let weights: Vec<f64> = (1..=order.len()).map(rank_weight).collect();
    let total: f64 = weights[..zones].iter().sum();
    Ok(order
        .into_iter()
        .take(zones)
        .zip(weights)
        .map(|(z, w)| {
            let archetype = if [JFK, LAGUARDIA, NEWARK].contains(&z.id) {
                Archetype::Airport
            } else if NIGHTLIFE.contains(&z.id) {
                Archetype::Nightlife
            } else if z.borough == "Manhattan" && !MANHATTAN_RESIDENTIAL.contains(&z.id) {
                Archetype::Business
            } else {
                Archetype::Residential
            };
            SynthZone {
                id: z.id,
                borough: z.borough.clone(),
                service_zone: z.service_zone.clone(),
                archetype,
                share: w / total,
            }
        })
        .collect())
}

fn month_factor(date: NaiveDate) -> f64 {
    // Linear between mid-month anchors, wrapping around the year.
    let doy = date.ordinal0() as f64;
    let pos = (doy - 15.0) / (365.0 / 12.0);
    let i = pos.floor();
    let frac = pos - i;
    let a = MONTH_FACTORS[(i as i64).rem_euclid(12) as usize];
    let b = MONTH_FACTORS[((i as i64) + 1).rem_euclid(12) as usize];
    a + (b - a) * frac
}

fn holiday_factor(name: Option<&str>) -> f64 {
    match name {
        None => 1.0,
        Some(n) if n.starts_with("Thanksgiving") => 0.6,
        Some(n) if n.starts_with("Christmas") => 0.5,
        Some(n) if n.starts_with("New Year") => 0.7,
        Some(n)
            if n.starts_with("Independence")
                || n.starts_with("Memorial")
                || n.starts_with("Labor") =>
        {
            0.78
        }
        Some(_) => 0.9,
    }
}

/// Demand multiplier from one day of real Central Park weather.
fn weather_factor(prcp: f64, snow: f64, tmax: f64) -> f64 {
    let mut f = 1.0;
    if snow >= 10.0 {
        f *= 0.3; // blizzards: 0.13-0.37 of a normal day
    } else if snow >= 4.0 {
        f *= 0.72; // 4+ inches of snow: about -28%
    }
    if prcp >= 2.5 {
        f *= 0.75;
    } else if prcp >= 0.1 {
        f *= 1.03; // rain sends people into cabs
    }
    if tmax >= 95.0 {
        f *= 0.97;
    }
    f
}

/// Expected citywide trips on each day (before noise), with the reason factors applied.
fn daily_expectation(cfg: &SynthConfig, days: &[NaiveDate]) -> Vec<f64> {
    let holidays = HolidayCalendar::us_federal(days[0].year(), days[days.len() - 1].year());
    let weather: HashMap<NaiveDate, (f64, f64, f64)> = if cfg.weather_effects {
        let w = WeatherTable::central_park();
        let get = |name: &str| {
            w.variables
                .iter()
                .find(|v| v.0 == name)
                .map(|v| v.1.clone())
                .unwrap_or_default()
        };
        let (p, s, t) = (get("prcp"), get("snow"), get("tmax"));
        w.times
            .iter()
            .enumerate()
            .map(|(i, ts)| (time::to_datetime(*ts).date(), (p[i], s[i], t[i])))
            .collect()
    } else {
        HashMap::new()
    };
    days.iter()
        .map(|d| {
            let years = (*d - cfg.start.0).num_days() as f64 / 365.25;
            let mut f =
                cfg.trips_per_day * month_factor(*d) * (1.0 + cfg.trend_per_year).powf(years);
            f *= holiday_factor(holidays.name(*d));
            // Days outside the weather record (before 2009, after Feb 2024) get no weather effect.
            if let Some((p, s, t)) = weather.get(d) {
                let clean = |v: f64| if v.is_finite() { v } else { 0.0 };
                f *= weather_factor(clean(*p), clean(*s), if t.is_finite() { *t } else { 70.0 });
            }
            if let Some(shock) = cfg.shock {
                if *d >= shock.start.0 && *d <= shock.end.0 {
                    f *= shock.factor;
                }
            }
            f
        })
        .collect()
}

fn normalized(mut v: [f64; 7]) -> [f64; 7] {
    let mean = v.iter().sum::<f64>() / 7.0;
    v.iter_mut().for_each(|x| *x /= mean);
    v
}

/// Hour shares (summing to 1) for an archetype on a weekday or a weekend day.
fn hour_shares(a: Archetype, weekend: bool) -> [f64; 24] {
    let base = if weekend {
        WEEKEND_HOURS
    } else {
        WEEKDAY_HOURS
    };
    let mut s = [0.0; 24];
    for h in 0..24 {
        s[h] = base[h] * a.hour_tilt(h);
    }
    let total: f64 = s.iter().sum();
    s.iter_mut().for_each(|x| *x /= total);
    s
}

/// The expected count of every zone and period, zone-major, before noise.
fn expectations(cfg: &SynthConfig, zones: &[SynthZone], grid: &TimeGrid) -> Vec<Vec<f64>> {
    let days: Vec<NaiveDate> = {
        let mut d = Vec::new();
        let mut day = grid.first_day();
        while day <= grid.last_day() {
            d.push(day);
            day = day.succ_opt().expect("date in range");
        }
        d
    };
    let city = daily_expectation(cfg, &days);
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let t4 = StudentT::new(4.0).expect("valid dof");
    // Student-t with 4 dof has variance 2: scale to the requested sigma, heavy tails kept.
    let city_noise: Vec<f64> = days
        .iter()
        .map(|_| (cfg.daily_noise / 2f64.sqrt() * t4.sample(&mut rng)).exp())
        .collect();
    zones
        .iter()
        .map(|z| {
            let dow = normalized(z.archetype.weekday_factors());
            let mut out = Vec::with_capacity(grid.len);
            for (i, day) in days.iter().enumerate() {
                let mean_day = city[i] * city_noise[i] * z.share * dow[weekday_index(*day)];
                match grid.frequency {
                    Frequency::Daily => out.push(mean_day),
                    Frequency::Hourly => {
                        let weekend = weekday_index(*day) >= 5;
                        out.extend(
                            hour_shares(z.archetype, weekend)
                                .iter()
                                .map(|s| mean_day * s),
                        );
                    }
                }
            }
            out
        })
        .collect()
}

/// Negative-binomial draw as a gamma-Poisson mixture with mean `mu`, dispersion `r`.
fn negative_binomial(mu: f64, r: f64, rng: &mut StdRng) -> f64 {
    if mu <= 0.0 {
        return 0.0;
    }
    let lambda = Gamma::new(r, mu / r).expect("valid gamma").sample(rng);
    if lambda <= 0.0 {
        return 0.0;
    }
    Poisson::new(lambda).map(|p| p.sample(rng)).unwrap_or(0.0)
}

/// The synthetic panel: pickups per zone, with borough, service zone and archetype statics.
pub fn generate(cfg: &SynthConfig) -> Result<Panel> {
    if cfg.end < cfg.start {
        return Err(DataError::config(
            "data.synthetic.end",
            format!("{} is before start {}", cfg.end, cfg.start),
        ));
    }
    let positive = |v: f64| v.is_finite() && v > 0.0;
    if !positive(cfg.dispersion) || !positive(cfg.trips_per_day) {
        return Err(DataError::config(
            "data.synthetic",
            "dispersion and trips_per_day must be positive",
        ));
    }
    let zones = city(cfg.zones)?;
    let grid = TimeGrid::from_days(cfg.start.0, cfg.end.0, cfg.frequency);
    let means = expectations(cfg, &zones, &grid);
    // One generator per zone, seeded from the zone id: the same city whatever the thread count.
    let counts: Vec<Vec<f64>> = zones
        .par_iter()
        .zip(means.par_iter())
        .map(|(z, mu)| {
            let mut rng =
                StdRng::seed_from_u64(cfg.seed ^ (z.id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            mu.iter()
                .map(|m| negative_binomial(*m, cfg.dispersion, &mut rng))
                .collect()
        })
        .collect();
    let mut panel = Panel::new(
        grid,
        "pickups",
        zones.iter().map(|z| z.id.to_string()).collect(),
        counts.concat(),
    )?;
    panel.set_static("borough", zones.iter().map(|z| z.borough.clone()).collect())?;
    panel.set_static(
        "service_zone",
        zones.iter().map(|z| z.service_zone.clone()).collect(),
    )?;
    panel.set_static(
        "archetype",
        zones
            .iter()
            .map(|z| z.archetype.name().to_string())
            .collect(),
    )?;
    Ok(panel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_follow_the_tlc_concentration() {
        let zones = city(263).unwrap();
        let top10: f64 = zones[..10].iter().map(|z| z.share).sum();
        let top38: f64 = zones[..38].iter().map(|z| z.share).sum();
        assert!((top10 - 0.36).abs() < 0.005, "top 10 share {top10}");
        assert!((top38 - 0.90).abs() < 0.005, "top 38 share {top38}");
        assert_eq!(
            zones
                .iter()
                .filter(|z| z.archetype == Archetype::Airport)
                .count(),
            3
        );
        assert!(zones.iter().all(|z| z.share > 0.0));
    }

    #[test]
    fn hour_shares_sum_to_one_and_peak_where_expected() {
        for a in [
            Archetype::Business,
            Archetype::Residential,
            Archetype::Nightlife,
            Archetype::Airport,
        ] {
            for weekend in [false, true] {
                let s = hour_shares(a, weekend);
                assert!((s.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            }
        }
        let night = hour_shares(Archetype::Nightlife, true);
        let business = hour_shares(Archetype::Business, false);
        assert!(night[1] > 2.0 * business[1]);
        let peak = business
            .iter()
            .enumerate()
            .fold(0, |b, (i, v)| if *v > business[b] { i } else { b });
        assert_eq!(peak, 18);
    }
}
