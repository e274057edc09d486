//! The executor (DESIGN.md §2 step 10): runs a [`Plan`]'s steps in graph order against a
//! [`Target`], at most [`ExecOptions::parallelism`] at once. A failed step skips its dependents;
//! independent branches run to the end.
//!
//! Everything runs on the caller's task (a [`FuturesUnordered`], no spawning), so a target's
//! futures need not be `Send`.

mod outcome;
mod stop;
#[cfg(test)]
mod tests;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};

use crate::model::ObjectKey;
use crate::plan::{Action, Plan, Step};

pub use outcome::{Event, Outcome, StepError, Summary};
pub use stop::Stop;

/// Carries out steps: the write and, where it matters, the wait for the object to be ready.
pub trait Target {
    /// Runs one step of the plan. `Ok` holds a short outcome text (`created`,
    /// `rolled out 3/3`).
    fn run(&self, step: &Step) -> impl std::future::Future<Output = Result<String, StepError>>;
}

/// How the executor runs a plan.
#[derive(Clone, Debug)]
pub struct ExecOptions {
    /// How many steps run at once (`--parallelism`); 0 counts as 1.
    pub parallelism: usize,
    /// Once stopped, no step starts; running ones get [`ExecOptions::grace`] to finish.
    pub stop: Stop,
    /// How long running steps may go on after a stop before they are abandoned.
    pub grace: Duration,
}

impl Default for ExecOptions {
    /// Ten at once, as `--parallelism` defaults; 10 s of grace.
    fn default() -> Self {
        ExecOptions { parallelism: 10, stop: Stop::new(), grace: Duration::from_secs(10) }
    }
}

/// Where each step stands while the plan runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for its `after` steps.
    Pending,
    Running,
    /// Succeeded, or a no-op: its dependents may start.
    Cleared,
    /// Failed or skipped: its dependents never start.
    Blocked,
}

/// Runs the plan's steps that change something, each once every step in its
/// [`Step::after`] succeeded or is a no-op, at most `opts.parallelism` at once; among ready
/// steps the earliest in the plan starts first.
///
/// No-op steps count as done at once (their outcome is `None`) and never block or skip
/// anything. When a step fails, every step depending on it (through `after`, transitively) is
/// [`Outcome::Skipped`] without running. `after` keys of no step in the plan are ignored; steps
/// that can never start (a dependency cycle) fail. `on_event` hears of every start and finish
/// (skips included) as they happen.
///
/// Once `opts.stop` is stopped, nothing more starts: pending steps end [`Outcome::NotStarted`],
/// and running ones that do not finish within `opts.grace` end [`Outcome::Abandoned`].
pub async fn execute<T: Target>(plan: &Plan, target: &T, opts: &ExecOptions, on_event: &mut dyn FnMut(&Event)) -> Summary {
    let n = plan.steps.len();
    let parallelism = opts.parallelism.max(1);
    let mut state: Vec<State> = plan.steps.iter().map(|s| if s.action == Action::Noop { State::Cleared } else { State::Pending }).collect();
    let mut outcomes: Vec<Option<Outcome>> = vec![None; n];
    // dependents[j]: the steps whose `after` names j.
    // after[i]: the positions of the steps step i waits on (keys of no step are ignored).
    let position: std::collections::HashMap<&ObjectKey, usize> = plan.steps.iter().enumerate().map(|(i, s)| (&s.key, i)).collect();
    let after: Vec<Vec<usize>> = plan.steps.iter().map(|s| s.after.iter().filter_map(|k| position.get(k).copied()).collect()).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, waits) in after.iter().enumerate() {
        for &j in waits {
            if let Some(d) = dependents.get_mut(j) {
                d.push(i);
            }
        }
    }

    // waiting[i]: how many of step i's `after` entries have not cleared yet; at 0 it is ready.
    let mut waiting: Vec<usize> =
        after.iter().map(|a| a.iter().filter(|&&j| state.get(j).is_some_and(|st| *st != State::Cleared)).count()).collect();
    // Ready steps, earliest in the plan first.
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|&i| state.get(i) == Some(&State::Pending) && waiting.get(i) == Some(&0)).map(Reverse).collect();
    let mut running = FuturesUnordered::new();

    let mut grace_ends: Option<tokio::time::Instant> = None;
    loop {
        while running.len() < parallelism && !opts.stop.is_stopped() {
            let Some(Reverse(i)) = ready.pop() else { break };
            let (Some(step), Some(s @ State::Pending)) = (plan.steps.get(i), state.get_mut(i)) else { continue };
            *s = State::Running;
            on_event(&Event::Started { step });
            running.push(start(target, i, step));
        }

        if running.is_empty() {
            break;
        }
        let next = if opts.stop.is_stopped() {
            let ends = *grace_ends.get_or_insert_with(|| tokio::time::Instant::now() + opts.grace);
            match tokio::time::timeout_at(ends, running.next()).await {
                Ok(next) => next,
                // The grace period is over: what still runs is dropped mid-way.
                Err(_) => break,
            }
        } else {
            tokio::select! {
                next = running.next() => next,
                () = opts.stop.stopped() => continue,
            }
        };
        let Some((index, result)) = next else {
            break;
        };
        let outcome = Outcome::of(result);
        let failed = outcome.blocks();
        if let Some(s) = state.get_mut(index) {
            *s = if failed { State::Blocked } else { State::Cleared };
        }
        finish(plan, index, outcome, &mut outcomes, on_event);
        if failed {
            skip_dependents(plan, index, &dependents, &mut state, &mut outcomes, on_event);
        } else {
            for &d in dependents.get(index).map_or(&[][..], Vec::as_slice) {
                if let Some(w) = waiting.get_mut(d) {
                    *w = w.saturating_sub(1);
                    if *w == 0 && state.get(d) == Some(&State::Pending) {
                        ready.push(Reverse(d));
                    }
                }
            }
        }
    }

    drop(running);
    if let Some(why) = opts.stop.reason() {
        for i in 0..n {
            let outcome = match state.get(i) {
                Some(State::Pending) => Outcome::NotStarted(why.clone()),
                Some(State::Running) => Outcome::Abandoned(why.clone()),
                _ => continue,
            };
            if let Some(s) = state.get_mut(i) {
                *s = State::Blocked;
            }
            finish(plan, i, outcome, &mut outcomes, on_event);
        }
    }

    // Nothing runs and nothing can start: whatever is still pending waits on a cycle.
    for i in 0..n {
        if state.get(i) == Some(&State::Pending) {
            let waits_on: Vec<String> = after
                .get(i)
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .filter(|&&j| state.get(j) == Some(&State::Pending))
                .filter_map(|&j| plan.steps.get(j))
                .map(|s| s.key.id())
                .collect();
            let error = StepError::with_help(
                format!("never started: it waits on {} (a dependency cycle)", waits_on.join(", ")),
                "this is a bug in cairn's planner; please report it with the plan",
            );
            if let Some(s) = state.get_mut(i) {
                *s = State::Blocked;
            }
            finish(plan, i, Outcome::Failed(error), &mut outcomes, on_event);
        }
    }

    Summary { outcomes }
}

/// Runs one step, tagged with its position.
async fn start<T: Target>(target: &T, index: usize, step: &Step) -> (usize, Result<String, StepError>) {
    (index, target.run(step).await)
}

fn finish(plan: &Plan, index: usize, outcome: Outcome, outcomes: &mut [Option<Outcome>], on_event: &mut dyn FnMut(&Event)) {
    if let Some(step) = plan.steps.get(index) {
        on_event(&Event::Finished { step, outcome: &outcome });
    }
    if let Some(o) = outcomes.get_mut(index) {
        *o = Some(outcome);
    }
}

/// Marks every pending step depending on `failed` (transitively) as skipped, in plan order.
fn skip_dependents(
    plan: &Plan,
    failed: usize,
    dependents: &[Vec<usize>],
    state: &mut [State],
    outcomes: &mut [Option<Outcome>],
    on_event: &mut dyn FnMut(&Event),
) {
    let mut skipped = Vec::new();
    let mut queue = vec![failed];
    while let Some(j) = queue.pop() {
        for &d in dependents.get(j).map_or(&[][..], Vec::as_slice) {
            if let Some(s @ State::Pending) = state.get_mut(d) {
                *s = State::Blocked;
                skipped.push(d);
                queue.push(d);
            }
        }
    }
    skipped.sort_unstable();
    let Some(because) = plan.steps.get(failed).map(|s| s.key.clone()) else { return };
    for d in skipped {
        finish(plan, d, Outcome::Skipped { because: because.clone() }, outcomes, on_event);
    }
}
