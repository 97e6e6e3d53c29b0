//! A bad configuration stops `tessera` at start-up with a message naming the key.

use std::process::Command;

fn start_with(env: &[(&str, &str)]) -> (bool, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.arg("migrate").env("TESSERA_DATA_DIR", dir.path()).env_remove("DATABASE_URL").env_remove("REDIS_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("tessera runs");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_default_configuration_starts() {
    let (ok, stderr) = start_with(&[]);
    assert!(ok, "{stderr}");
}

#[test]
fn an_unknown_key_fails_start_up_naming_it() {
    let (ok, stderr) = start_with(&[("TESSERA_AUTH__DATABSE_URL", "postgres://u@127.0.0.1/auth")]);
    assert!(!ok);
    assert!(stderr.contains("databse_url"), "{stderr}");
}

#[test]
fn a_malformed_url_fails_start_up_naming_the_key_and_variable() {
    let (ok, stderr) = start_with(&[("TESSERA_USERS__DATABASE_URL", "not a url")]);
    assert!(!ok);
    assert!(stderr.contains("database_url") && stderr.contains("TESSERA_USERS__DATABASE_URL"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_unknown_key_in_the_yaml_file_fails_start_up_naming_it_and_the_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("tessera.yaml");
    std::fs::write(&file, "router:\n  lisen: 127.0.0.1:4000\n").expect("writes");
    let (ok, stderr) = start_with(&[("TESSERA_CONFIG", file.to_str().expect("UTF-8 path"))]);
    assert!(!ok);
    assert!(stderr.contains("lisen") && stderr.contains("tessera.yaml"), "{stderr}");
}
