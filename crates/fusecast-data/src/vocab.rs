//! Vocabularies for categorical inputs, fitted once over all series so that every replica,
//! trial and prediction run sees the same codes (PF#1282: each DDP rank fitting its own).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Code 0 is reserved for values not seen when fitting.
pub const UNKNOWN: &str = "<unknown>";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Classes")]
pub struct Vocabulary {
    pub name: String,
    /// `classes[0]` is [`UNKNOWN`]; the rest sorted.
    pub classes: Vec<String>,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

/// What a vocabulary is saved as; reading it back builds the lookup, so a loaded vocabulary
/// codes exactly as the fitted one did.
#[derive(Deserialize)]
struct Classes {
    name: String,
    classes: Vec<String>,
}

impl From<Classes> for Vocabulary {
    fn from(c: Classes) -> Self {
        Vocabulary::from_classes(&c.name, c.classes)
    }
}

impl Vocabulary {
    pub fn fit<'a>(name: &str, values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut classes: Vec<String> = values.into_iter().map(str::to_string).collect();
        classes.sort();
        classes.dedup();
        classes.retain(|c| c != UNKNOWN);
        classes.insert(0, UNKNOWN.to_string());
        Self::from_classes(name, classes)
    }

    pub fn from_classes(name: &str, classes: Vec<String>) -> Self {
        let index = classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), i))
            .collect();
        Vocabulary {
            name: name.to_string(),
            classes,
            index,
        }
    }

    /// Whether `value` has a code of its own (else it codes as [`UNKNOWN`]).
    pub fn knows(&self, value: &str) -> bool {
        self.index.contains_key(value)
    }

    pub fn code(&self, value: &str) -> usize {
        self.index.get(value).copied().unwrap_or(0)
    }

    pub fn len(&self) -> usize {
        self.classes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.classes.len() <= 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_unknown_is_zero() {
        let v = Vocabulary::fit("borough", ["Queens", "Bronx", "Queens", "Manhattan"]);
        assert_eq!(v.classes, [UNKNOWN, "Bronx", "Manhattan", "Queens"]);
        assert_eq!(v.code("Queens"), 3);
        assert_eq!(v.code("Atlantis"), 0);
        let json = serde_json::to_string(&v).unwrap();
        let back: Vocabulary = serde_json::from_str::<Vocabulary>(&json).unwrap();
        assert_eq!(back.code("Bronx"), 1);
    }
}
