//! The HTML report: one self-contained page (inline SVG and CSS, nothing fetched, no script
//! needed) rendered by pure functions from the plain structs of [`content`]. Gathering those
//! structs from a run directory is the pipeline's job; nothing here reads files or knows burn.
//!
//! `content` (what a report holds), `svg` (line, band and bar charts), `tables`, `page` (the
//! document and its sections).

pub mod content;
pub mod page;
pub mod svg;
pub mod tables;

pub use content::*;
pub use page::render;

/// `s` safe as HTML text and as a quoted attribute value.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A score as the evaluation's CSV files write it (4 decimals, `-` when undefined), so a number
/// in the report can be checked against `eval/*.csv` character for character.
pub fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.4}")
    } else {
        "-".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<b a="x">Tom & 'Jerry'</b>"#),
            "&lt;b a=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
        assert_eq!(escape("JFK 132"), "JFK 132");
    }

    #[test]
    fn numbers_read_as_the_csv_files_write_them() {
        assert_eq!(num(0.71264), "0.7126");
        assert_eq!(num("0.7126".parse().unwrap()), "0.7126");
        assert_eq!(num(f64::NAN), "-");
        assert_eq!(num(f64::INFINITY), "-");
    }
}
