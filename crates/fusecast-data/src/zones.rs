//! The TLC taxi zone lookup: LocationID -> borough, zone name, service zone.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::csvline;
use crate::error::{DataError, Result};

const BUILTIN: &str = include_str!("../assets/taxi_zone_lookup.csv");

/// TLC ids above 263 are not places: 264 = Unknown, 265 = Outside of NYC.
pub const LAST_REAL_ZONE: u32 = 263;
pub const JFK: u32 = 132;
pub const LAGUARDIA: u32 = 138;
pub const NEWARK: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    pub id: u32,
    pub borough: String,
    pub name: String,
    pub service_zone: String,
}

#[derive(Clone, Debug)]
pub struct ZoneLookup {
    zones: Vec<Zone>,
}

impl ZoneLookup {
    /// The 265 TLC LocationIDs, shipped with the binary.
    pub fn builtin() -> Self {
        Self::parse(BUILTIN, Path::new("<built-in taxi_zone_lookup.csv>"))
            .expect("the built-in zone lookup parses")
    }

    pub fn from_csv(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    fn parse(text: &str, path: &Path) -> Result<Self> {
        let (header, rows) = csvline::rows(text);
        let col = |name: &str| {
            csvline::column(&header, name).ok_or_else(|| DataError::MissingColumn {
                path: path.to_path_buf(),
                column: name.to_string(),
                why: "a zone lookup needs LocationID, Borough, Zone, service_zone".into(),
                available: header.join(", "),
            })
        };
        let (id, borough, name, service) = (
            col("LocationID")?,
            col("Borough")?,
            col("Zone")?,
            col("service_zone")?,
        );
        let mut zones = Vec::with_capacity(rows.len());
        for (row, fields) in rows {
            let get = |i: usize| fields.get(i).cloned().unwrap_or_default();
            let raw = get(id);
            let zone_id = raw
                .trim()
                .parse::<u32>()
                .map_err(|_| DataError::BadNumber {
                    path: path.to_path_buf(),
                    column: "LocationID".into(),
                    row,
                    value: raw.clone(),
                })?;
            zones.push(Zone {
                id: zone_id,
                borough: get(borough),
                name: get(name),
                service_zone: get(service),
            });
        }
        zones.sort_by_key(|z| z.id);
        if let Some(w) = zones.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(DataError::read(
                path,
                format!("LocationID {} appears twice", w[0].id),
            ));
        }
        if zones.is_empty() {
            return Err(DataError::read(path, "the zone lookup has no rows"));
        }
        Ok(ZoneLookup { zones })
    }

    pub fn get(&self, id: u32) -> Option<&Zone> {
        self.zones
            .binary_search_by_key(&id, |z| z.id)
            .ok()
            .map(|i| &self.zones[i])
    }

    pub fn zones(&self) -> &[Zone] {
        &self.zones
    }

    /// Only the real places (ids 1..=263 in the TLC lookup).
    pub fn real_zones(&self) -> impl Iterator<Item = &Zone> {
        self.zones.iter().filter(|z| z.id <= LAST_REAL_ZONE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_lookup_has_the_tlc_ids() {
        let z = ZoneLookup::builtin();
        assert_eq!(z.zones().len(), 265);
        assert_eq!(z.real_zones().count(), 263);
        assert_eq!(z.get(JFK).unwrap().name, "JFK Airport");
        assert_eq!(z.get(LAGUARDIA).unwrap().name, "LaGuardia Airport");
        assert_eq!(z.get(NEWARK).unwrap().borough, "EWR");
        assert_eq!(z.get(264).unwrap().borough, "Unknown");
        assert!(z.get(266).is_none());
    }
}
