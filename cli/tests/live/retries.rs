//! One retry policy with a budget (DESIGN.md §2 step 10, docs/clusters.md): a persistent 5xx or
//! 429 is retried a bounded number of times, within `--timeout`, and every retry is said on
//! stderr — never minutes of silence while holding the lock.

use std::time::{Duration, Instant};

use cairn_sandbox::{Action, Fault};

use crate::common::*;

fn two_configmaps(env: &Env, both: bool) -> std::path::PathBuf {
    let second = if both { "config \"b\" {\n  namespace = namespace.retry\n  data      = { k = \"v\" }\n}\n" } else { "" };
    env.write_stack(
        "retry",
        &format!("stack \"retry\" {{}}\n\nnamespace \"retry\" {{}}\n\nconfig \"a\" {{\n  namespace = namespace.retry\n  data      = {{ k = \"v\" }}\n}}\n\n{second}"),
    )
}

/// A delete answered 503 every time fails after the policy's attempts, in seconds, with a line
/// per retry naming the call. Before, kube-rs's own retries under cairn's made it 1,698 s of
/// silence.
#[test]
fn a_persistent_503_is_retried_visibly_and_gives_up_in_seconds() {
    let env = env();
    let dir = two_configmaps(&env, true);
    env.cairn(&["apply", dir.to_str().unwrap(), "--auto-approve"]).code(0);
    two_configmaps(&env, false);
    env.faults(vec![Fault {
        action: Action::Error { status: 503 },
        verb: Some("delete".into()),
        resource: Some("configmaps".into()),
        rate: 1.0,
        times: None,
    }]);
    let started = Instant::now();
    let run = env.cairn(&["apply", dir.to_str().unwrap(), "--auto-approve", "--timeout", "60s"]).code(1);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(40), "gave up after {took:?}");
    let retries: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("retrying DELETE ConfigMap/retry/b (503")).collect();
    assert_eq!(retries.len(), 7, "one line per retry (attempts 2 to 8):\n{}", run.stderr);
    assert!(retries.last().is_some_and(|l| l.contains(", 8/8 in ")), "{retries:?}");
    assert!(run.all().contains("ConfigMap/retry/b"), "the failed step is not named:\n{}", run.all());
    assert!(env.get("", "configmaps", "retry", "b").is_some());
}

/// A 429 asking for a pause longer than what is left of `--timeout` is not waited for.
#[test]
fn retries_stop_at_the_timeout_budget() {
    let env = env();
    let dir = two_configmaps(&env, true);
    env.faults(vec![Fault {
        action: Action::Throttle { retry_after: 10 },
        verb: Some("patch".into()),
        resource: Some("configmaps".into()),
        rate: 1.0,
        times: None,
    }]);
    let started = Instant::now();
    let run = env.cairn(&["apply", dir.to_str().unwrap(), "--auto-approve", "--timeout", "3s"]).code(1);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(8), "the 3 s budget was not kept: {took:?}\n{}", run.all());
    assert!(run.all().contains("too many requests") && !run.all().contains("retrying PATCH"), "a 10 s pause was taken:\n{}", run.all());
}

/// `-q` drops the retry lines (they are progress), not the failure.
#[test]
fn quiet_runs_do_not_print_retries() {
    let env = env();
    let dir = two_configmaps(&env, true);
    env.faults(vec![Fault {
        action: Action::Error { status: 503 },
        verb: Some("patch".into()),
        resource: Some("configmaps".into()),
        rate: 1.0,
        times: Some(2),
    }]);
    let run = env.cairn(&["-q", "apply", dir.to_str().unwrap(), "--auto-approve"]).code(0);
    assert!(!run.stderr.contains("retrying"), "{}", run.stderr);
}
