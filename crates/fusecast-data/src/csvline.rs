//! A minimal RFC 4180 line splitter for the small lookup files (zones, weather, cluster
//! assignments); big data files go through polars.

pub fn split(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.trim_end_matches(['\r', '\n']).chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// Rows of a small CSV with a header: `(1-based row number, fields)`, blank lines skipped.
pub(crate) fn rows(text: &str) -> (Vec<String>, Vec<(usize, Vec<String>)>) {
    let mut lines = text.lines();
    let header = lines
        .next()
        .map(|h| split(h.trim_start_matches('\u{feff}')))
        .unwrap_or_default();
    let rows = lines
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, split(l)))
        .collect();
    (header, rows)
}

/// One CSV field, quoted (RFC 4180) when it holds a comma, quote or newline.
pub fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub(crate) fn column(header: &[String], name: &str) -> Option<usize> {
    header
        .iter()
        .position(|h| h.trim().eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    #[test]
    fn splits_quoted_fields() {
        assert_eq!(
            super::split("1,\"EWR\",\"Newark, \"\"Airport\"\"\",\r\n"),
            vec!["1", "EWR", "Newark, \"Airport\"", ""]
        );
    }

    #[test]
    fn quoted_fields_split_back() {
        for s in ["JFK", "Newark, \"Airport\"", "a\nb", ""] {
            assert_eq!(super::split(&super::quote(s)), vec![s]);
        }
        assert_eq!(super::quote("plain"), "plain");
    }
}
