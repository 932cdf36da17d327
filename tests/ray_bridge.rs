//! The Ray bridge (python/fusecast_ray) against this build's binary, on a two-node Ray cluster
//! on loopback: python/tests/test_ray_bridge.py, run with the Python that has the pinned Ray
//! (`FUSECAST_RAY_PYTHON`, which `scripts/ray_venv.sh` prints). Without one the test says
//! SKIPPED; with `FUSECAST_REQUIRE_RAY=1` (CI) it fails instead.

mod common;

use std::process::Command;

#[test]
fn ray_bridge_on_a_two_node_loopback_cluster() {
    let Some(python) = std::env::var_os("FUSECAST_RAY_PYTHON") else {
        assert!(
            std::env::var_os("FUSECAST_REQUIRE_RAY").is_none(),
            "FUSECAST_REQUIRE_RAY is set but FUSECAST_RAY_PYTHON is not (bash scripts/ray_venv.sh)"
        );
        eprintln!(
            "SKIPPED: the Ray bridge tests need FUSECAST_RAY_PYTHON, a Python with ray[tune]==2.60.0 (bash scripts/ray_venv.sh prints one)"
        );
        return;
    };
    let root = common::root();
    let status = Command::new(python)
        .current_dir(&root)
        .args(["-m", "unittest", "discover", "-s", "python/tests", "-v"])
        .env("FUSECAST_BIN", env!("CARGO_BIN_EXE_fusecast"))
        .env("PYTHONPATH", root.join("python"))
        .status()
        .expect("the Ray Python starts");
    assert!(status.success(), "python/tests/test_ray_bridge.py failed");
}
