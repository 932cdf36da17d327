//! What the end-to-end tests share.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn root() -> PathBuf {
    // Read at run time: a test binary reused from a shared target dir must look in this checkout.
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
}

/// Runs `fusecast --quiet ARGS` in `cwd`: success, stdout, stderr.
pub fn fusecast(cwd: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fusecast"))
        .current_dir(cwd)
        .arg("--quiet")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The `[data]` and `[features]` sections of a config over a daily long table at `path` with the
/// columns of `data/panels/flights_daily_top20.csv` (`unique_id`, `ds`, `y`), gaps dropped.
pub fn daily_table(path: &str) -> String {
    format!(
        "[data]\nsource = \"table\"\npaths = [\"{path}\"]\nfrequency = \"1d\"\n\
         series_column = \"unique_id\"\ntimestamp_column = \"ds\"\ntarget_column = \"y\"\n\
         fill_missing = \"drop\"\n\n[features]\nstatic = []\n"
    )
}
