//! A text diagnostic quotes source lines; secrets written in the sources must not come out
//! with them (LANGUAGE.md §4: sensitive values are never printed, diagnostics included).

use std::process::Command;

const PLANTED: &str = "planted-literal-xyz";

fn check_text(files: &[(&str, String)]) -> String {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("stack");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write");
    }
    let out =
        Command::new(env!("CARGO_BIN_EXE_cairn")).args(["check", "--color", "never"]).arg(&dir).env("NO_COLOR", "1").output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn literals_in_secret_data_env_defaults_and_password_arguments_are_masked_in_snippets() {
    let main = format!(
        r#"import "std/apps" as apps
namespace "shop" {{}}
secret "db" {{
  namespace = namespace.shop
  data = {{ password = "{PLANTED}-1" }}
  bogus = 1
}}
let token = env("API_TOKEN", "{PLANTED}-2")
apps.database "pg" {{
  namespace     = namespace.shop
  storage_class = "fast"
  password      = "{PLANTED}-3"
  size          = "ten"
}}
"#
    );
    let out = check_text(&[("main.cairn", main)]);
    assert!(out.contains("E0303"), "{out}");
    assert!(out.contains("E0301"), "{out}");
    assert!(!out.contains(PLANTED), "a planted secret was printed:\n{out}");
    assert!(out.contains("*****"), "masked text expected in:\n{out}");
}

#[test]
fn fmt_parse_errors_mask_secrets_too() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let file = tmp.path().join("bad.cairn");
    std::fs::write(&file, format!("secret \"db\" {{\n  data = {{ password = \"{PLANTED}\" }}\n  x = = 1\n}}\n")).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_cairn")).args(["fmt", "--check", "--color", "never"]).arg(&file).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(all.contains("E01"), "{all}");
    assert!(!all.contains(PLANTED), "{all}");
}
