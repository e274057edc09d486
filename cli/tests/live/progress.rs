//! `apply`'s progress display: a bar on a terminal (a pseudo-terminal from util-linux's
//! `script`), plain lines otherwise.

use std::process::{Command, Stdio};

use crate::common::*;

/// A shell word for `s`, quoted.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Runs `cmd` under a pseudo-terminal (`script -qec CMD /dev/null`): its stdout and stderr
/// are the terminal, whose output comes back as `script`'s stdout.
fn on_a_terminal(cmd: &Command) -> Run {
    let mut line: Vec<String> = vec![quote(&cmd.get_program().to_string_lossy())];
    line.extend(cmd.get_args().map(|a| quote(&a.to_string_lossy())));
    let mut script = Command::new("script");
    script.args(["-qec", &line.join(" "), "/dev/null"]).stdin(Stdio::null());
    if let Some(dir) = cmd.get_current_dir() {
        script.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => script.env(k, v),
            None => script.env_remove(k),
        };
    }
    // indicatif draws only for a terminal it knows the size of.
    script.env("COLUMNS", "120").env("LINES", "40").env("TERM", "xterm");
    run_of(script.output().expect("script runs (util-linux)"))
}

#[test]
fn apply_on_a_terminal_shows_a_progress_bar_and_plain_lines_otherwise() {
    let env = env();
    let shop = env.stack("shop");
    let shop = shop.to_str().unwrap();

    let tty = on_a_terminal(&env.command(&["apply", shop, "--auto-approve"])).code(0);
    assert!(tty.stdout.contains("applying ["), "no progress bar on a terminal:\n{}", tty.stdout);
    assert!(tty.stdout.contains("done, "), "the bar counts finished steps:\n{}", tty.stdout);
    assert!(tty.stdout.contains("Namespace/shop: created"), "finished steps are still listed:\n{}", tty.stdout);
    assert!(tty.stdout.contains("Apply complete"), "{}", tty.stdout);

    // Not a terminal: one plain line per step, no bar, no cursor movement.
    let cfg = env.write_stack("plain", "namespace \"plain\" {}\n");
    let piped = env.cairn(&["apply", cfg.to_str().unwrap(), "--auto-approve"]).code(0);
    assert!(piped.stderr.contains("Namespace/plain: created"), "{}", piped.stderr);
    assert!(
        !piped.all().contains("applying [") && !piped.all().contains('\x1b'),
        "a bar or escape codes without a terminal:\n{}",
        piped.all()
    );

    // `-q` on a terminal: no bar, and successful steps are not listed.
    let quiet = env.write_stack("quiet", "namespace \"quiet\" {}\n");
    let q = on_a_terminal(&env.command(&["-q", "apply", quiet.to_str().unwrap(), "--auto-approve"])).code(0);
    assert!(!q.stdout.contains("applying [") && !q.stdout.contains("Namespace/quiet: created"), "{}", q.stdout);
}
