use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::time::Duration;

use super::*;
use crate::model::ObjectKey;
use crate::plan::Class;

fn key(name: &str) -> ObjectKey {
    ObjectKey { api_version: "v1".into(), kind: "ConfigMap".into(), namespace: Some("app".into()), name: name.into() }
}

/// A step waiting on the steps at positions `after` ([`plan`] turns them into keys).
fn step(name: &str, action: Action, after: &[usize]) -> Step {
    Step {
        action,
        class: (action != Action::Noop).then_some(Class::Pending),
        after: after.iter().map(|i| key(&format!("#{i}"))).collect(),
        ..Step::create(key(name), format!("config.{name}"))
    }
}

/// A plan of `steps`, each `#i` in an `after` replaced by the key of the step at position i
/// (kept as is when there is none: a key of no step).
fn plan(mut steps: Vec<Step>) -> Plan {
    let keys: Vec<ObjectKey> = steps.iter().map(|s| s.key.clone()).collect();
    for s in &mut steps {
        for a in &mut s.after {
            if let Some(k) = a.name.strip_prefix('#').and_then(|i| i.parse::<usize>().ok()).and_then(|i| keys.get(i)) {
                *a = k.clone();
            }
        }
    }
    Plan { stack: "shop".into(), steps, refusals: Vec::new() }
}

/// The position of the step named `name` in `plan`.
fn position(plan: &Plan, name: &str) -> usize {
    plan.steps.iter().position(|s| s.key.name == name).unwrap_or(usize::MAX)
}

/// Sleeps `ms` per step, fails the steps in `failing`, and records what happened.
#[derive(Default)]
struct Fake {
    /// Step names by position (set by [`run_with`]).
    names: RefCell<Vec<String>>,
    ms: u64,
    failing: BTreeSet<usize>,
    log: RefCell<Vec<String>>,
    running: Cell<usize>,
    max_running: Cell<usize>,
}

impl Fake {
    fn new(ms: u64, failing: &[usize]) -> Fake {
        Fake { ms, failing: failing.iter().copied().collect(), ..Fake::default() }
    }

    fn log(&self) -> Vec<String> {
        self.log.borrow().clone()
    }

    /// Position of `entry` in the log.
    fn at(&self, entry: &str) -> usize {
        self.log.borrow().iter().position(|e| e == entry).unwrap_or_else(|| panic!("{entry} not in {:?}", self.log()))
    }
}

impl Target for Fake {
    async fn run(&self, step: &Step) -> Result<String, StepError> {
        let index = self.names.borrow().iter().position(|n| *n == step.key.name).unwrap_or(usize::MAX);
        self.log.borrow_mut().push(format!("start {index}"));
        self.running.set(self.running.get() + 1);
        self.max_running.set(self.max_running.get().max(self.running.get()));
        tokio::time::sleep(Duration::from_millis(self.ms)).await;
        self.running.set(self.running.get() - 1);
        self.log.borrow_mut().push(format!("end {index}"));
        if self.failing.contains(&index) {
            Err(StepError::with_help(format!("{} refused", step.key.name), "fix it"))
        } else {
            Ok(format!("{}d", step.action.as_str()))
        }
    }
}

/// Runs the plan and returns the summary with the events as text.
async fn run(plan: &Plan, fake: &Fake, parallelism: usize) -> (Summary, Vec<String>) {
    run_with(plan, fake, &ExecOptions { parallelism, ..ExecOptions::default() }).await
}

async fn run_with(plan: &Plan, fake: &Fake, opts: &ExecOptions) -> (Summary, Vec<String>) {
    *fake.names.borrow_mut() = plan.steps.iter().map(|s| s.key.name.clone()).collect();
    let mut events = Vec::new();
    let summary = execute(plan, fake, opts, &mut |e: &Event| {
        events.push(match e {
            Event::Started { step } => format!("started {}", position(plan, &step.key.name)),
            Event::Finished { step, outcome } => format!("finished {}: {}", position(plan, &step.key.name), outcome.describe()),
        })
    })
    .await;
    (summary, events)
}

#[tokio::test]
async fn dependents_run_after_their_dependencies() {
    // 0 ← 1 ← 3, 0 ← 2, 3 also after 2.
    let p = plan(vec![
        step("a", Action::Create, &[]),
        step("b", Action::Create, &[0]),
        step("c", Action::Update, &[0]),
        step("d", Action::Create, &[1, 2]),
    ]);
    let fake = Fake::new(10, &[]);
    let (summary, _) = run(&p, &fake, 10).await;
    assert!(summary.is_success());
    assert!(fake.at("end 0") < fake.at("start 1"));
    assert!(fake.at("end 0") < fake.at("start 2"));
    assert!(fake.at("end 1") < fake.at("start 3"));
    assert!(fake.at("end 2") < fake.at("start 3"));
    // 1 and 2 are independent: they overlap.
    assert!(fake.at("start 2") < fake.at("end 1"));
    assert_eq!(summary.outcomes[2], Some(Outcome::Done("updated".into())));
}

#[tokio::test]
async fn parallelism_one_runs_one_at_a_time_in_plan_order() {
    let p = plan(vec![
        step("a", Action::Create, &[]),
        step("b", Action::Create, &[]),
        step("c", Action::Delete, &[]),
        step("d", Action::Create, &[0]),
    ]);
    let fake = Fake::new(5, &[]);
    let (summary, events) = run(&p, &fake, 1).await;
    assert_eq!(fake.max_running.get(), 1);
    assert_eq!(fake.log(), ["start 0", "end 0", "start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]);
    assert_eq!(events[..2], ["started 0".to_string(), "finished 0: created".to_string()]);
    assert_eq!(summary.succeeded(), 4);
}

#[tokio::test]
async fn parallelism_zero_counts_as_one() {
    let p = plan(vec![step("a", Action::Create, &[]), step("b", Action::Create, &[])]);
    let fake = Fake::new(5, &[]);
    let (summary, _) = run(&p, &fake, 0).await;
    assert_eq!(fake.max_running.get(), 1);
    assert_eq!(summary.succeeded(), 2);
}

#[tokio::test]
async fn parallelism_three_overlaps_but_never_exceeds_three() {
    let p = plan((0..8).map(|i| step(&format!("s{i}"), Action::Create, &[])).collect());
    let fake = Fake::new(20, &[]);
    let (summary, _) = run(&p, &fake, 3).await;
    assert_eq!(fake.max_running.get(), 3);
    assert_eq!(summary.succeeded(), 8);
    // The first three start before any ends, in plan order.
    assert_eq!(fake.log()[..3], ["start 0".to_string(), "start 1".to_string(), "start 2".to_string()]);
}

#[tokio::test]
async fn a_failure_skips_exactly_its_transitive_dependents() {
    // Branch A: 0 ← 1 ← 2, and 3 after 1 and 4 (4 is independent). Branch B: 4 ← 5 (slow-ish).
    // 6 after 2 (transitive). 0 fails after the first round.
    let p = plan(vec![
        step("ns", Action::Create, &[]),
        step("cfg", Action::Create, &[0]),
        step("web", Action::Create, &[1]),
        step("svc", Action::Create, &[1, 4]),
        step("db", Action::Create, &[]),
        step("db-svc", Action::Create, &[4]),
        step("ingress", Action::Create, &[2]),
    ]);
    let fake = Fake::new(5, &[0]);
    let (summary, events) = run(&p, &fake, 10).await;
    assert_eq!(summary.outcomes[0], Some(Outcome::Failed(StepError::with_help("ns refused", "fix it"))));
    for i in [1, 2, 3, 6] {
        assert_eq!(summary.outcomes[i], Some(Outcome::Skipped { because: key("ns") }), "step {i}");
        assert!(!fake.log().contains(&format!("start {i}")), "step {i} ran");
    }
    assert_eq!(summary.outcomes[4], Some(Outcome::Done("created".into())));
    assert_eq!(summary.outcomes[5], Some(Outcome::Done("created".into())));
    assert_eq!((summary.succeeded(), summary.failed(), summary.skipped()), (2, 1, 4));
    assert!(!summary.is_success());
    assert!(events.contains(&"finished 2: skipped: ConfigMap/app/ns failed".to_string()), "{events:?}");
    // Skips are reported once each, without a start.
    assert_eq!(events.iter().filter(|e| e.starts_with("finished")).count(), 7);
    assert!(!events.contains(&"started 3".to_string()));
}

#[tokio::test]
async fn a_step_after_a_noop_runs() {
    let p = plan(vec![
        step("ns", Action::Noop, &[]),
        step("cfg", Action::Create, &[0]),
        step("same", Action::Noop, &[1]),
        step("web", Action::Update, &[2]),
    ]);
    let fake = Fake::new(1, &[]);
    let (summary, events) = run(&p, &fake, 10).await;
    assert_eq!(summary.outcomes, vec![None, Some(Outcome::Done("created".into())), None, Some(Outcome::Done("updated".into()))]);
    // No-ops count as done at once: 3 waits on no-op 2 only, so it need not wait for 1.
    assert_eq!(fake.log()[..2], ["start 1".to_string(), "start 3".to_string()]);
    assert_eq!(fake.log().len(), 4);
    assert_eq!(events.len(), 4, "no events for no-ops: {events:?}");
    assert!(summary.is_success());
}

#[tokio::test]
async fn summary_counts() {
    let p = plan(vec![
        step("a", Action::Noop, &[]),
        step("b", Action::Create, &[]),
        step("c", Action::Replace, &[]),
        step("d", Action::Delete, &[2]),
        step("e", Action::Delete, &[]),
    ]);
    let fake = Fake::new(1, &[2]);
    let (summary, _) = run(&p, &fake, 2).await;
    assert_eq!(summary.outcomes.len(), 5);
    assert_eq!(summary.outcomes[0], None);
    assert_eq!((summary.succeeded(), summary.failed(), summary.skipped()), (2, 1, 1));
    assert_eq!(summary.outcomes[3].as_ref().map(|o| o.describe()), Some("skipped: ConfigMap/app/c failed".into()));
    assert!(!summary.is_success());
}

#[tokio::test]
async fn an_empty_plan_succeeds_at_once() {
    let fake = Fake::new(1, &[]);
    let (summary, events) = run(&Plan::default(), &fake, 10).await;
    assert_eq!(summary, Summary::default());
    assert!(summary.is_success());
    assert!(events.is_empty());
    assert!(fake.log().is_empty());
}

#[tokio::test]
async fn a_cycle_fails_instead_of_hanging_and_bad_indexes_are_ignored() {
    let p = plan(vec![step("a", Action::Create, &[1]), step("b", Action::Create, &[0]), step("c", Action::Create, &[99])]);
    let fake = Fake::new(1, &[]);
    let (summary, _) = run(&p, &fake, 10).await;
    assert_eq!(summary.outcomes[2], Some(Outcome::Done("created".into())));
    assert_eq!(summary.failed(), 2);
    let Some(Outcome::Failed(e)) = &summary.outcomes[0] else { panic!("{:?}", summary.outcomes[0]) };
    assert!(e.message.contains("ConfigMap/app/b"), "{}", e.message);
}

/// A stop starts nothing more: running steps finish within the grace period, pending ones are
/// reported not started, and the summary is not a success.
#[tokio::test]
async fn a_stop_lets_running_steps_finish_and_starts_nothing_more() {
    let p = plan(vec![step("a", Action::Create, &[]), step("b", Action::Create, &[]), step("c", Action::Create, &[0])]);
    let fake = Fake::new(100, &[]);
    let stop = Stop::new();
    let opts = ExecOptions { parallelism: 1, stop: stop.clone(), grace: Duration::from_secs(5) };
    let stopper = async {
        tokio::time::sleep(Duration::from_millis(30)).await;
        stop.stop("interrupted (SIGINT)");
    };
    let ((summary, _), ()) = tokio::join!(run_with(&p, &fake, &opts), stopper);
    assert_eq!(fake.log(), ["start 0", "end 0"], "only the running step went on");
    assert_eq!(summary.outcomes[0], Some(Outcome::Done("created".into())));
    assert_eq!(summary.outcomes[1], Some(Outcome::NotStarted("interrupted (SIGINT)".into())));
    assert_eq!(summary.outcomes[2], Some(Outcome::NotStarted("interrupted (SIGINT)".into())));
    assert_eq!(summary.stopped(), 2);
    assert!(!summary.is_success());
}

/// A step still running when the grace period ends is abandoned, not waited for.
#[tokio::test]
async fn a_step_outliving_the_grace_period_is_abandoned() {
    let p = plan(vec![step("slow", Action::Create, &[])]);
    let fake = Fake::new(5_000, &[]);
    let stop = Stop::new();
    let opts = ExecOptions { parallelism: 1, stop: stop.clone(), grace: Duration::from_millis(50) };
    let started = std::time::Instant::now();
    let stopper = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        stop.stop("the lock was lost");
    };
    let ((summary, events), ()) = tokio::join!(run_with(&p, &fake, &opts), stopper);
    assert!(started.elapsed() < Duration::from_secs(2), "waited {:?}", started.elapsed());
    assert_eq!(summary.outcomes[0], Some(Outcome::Abandoned("the lock was lost".into())));
    assert!(events.last().is_some_and(|e| e.contains("abandoned")), "{events:?}");
}

/// Written, but the read-back failed: a step of its own kind — counted apart, not a success,
/// not a failure, and its dependents do not start.
#[tokio::test]
async fn an_unverified_step_is_neither_done_nor_failed_and_blocks_its_dependents() {
    struct Unverifying;
    impl Target for Unverifying {
        async fn run(&self, step: &Step) -> Result<String, StepError> {
            if step.key.name == "web" {
                Err(StepError { unverified: true, ..StepError::new("read Deployment/app/web: 503") })
            } else {
                Ok("created".into())
            }
        }
    }
    let p = plan(vec![step("web", Action::Create, &[]), step("after", Action::Create, &[0]), step("other", Action::Create, &[])]);
    let summary = execute(&p, &Unverifying, &ExecOptions::default(), &mut |_| {}).await;
    let first = summary.outcomes[0].clone().unwrap();
    assert!(matches!(first, Outcome::Unverified(_)), "{first:?}");
    assert_eq!(first.describe(), "written, not verified: read Deployment/app/web: 503");
    assert_eq!(summary.outcomes[1], Some(Outcome::Skipped { because: key("web") }));
    assert_eq!((summary.succeeded(), summary.failed(), summary.skipped(), summary.unverified()), (1, 0, 1, 1));
    assert!(!summary.is_success());
}
