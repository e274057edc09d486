//! Fault injection: rules that add latency, answer with a server error, throttle with 429 and
//! `Retry-After`, or drop the connection, for requests that match a verb and resource. Tests set
//! them through [`crate::Handle`] or `PUT /sandbox.cairn.dev/faults`.

use serde::{Deserialize, Serialize};

/// What a fault does to a matching request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Delay the answer by `ms` milliseconds (the request then proceeds).
    Latency {
        /// Milliseconds.
        ms: u64,
    },
    /// Answer with this HTTP status (a 5xx) and a `Status` body.
    Error {
        /// HTTP status code.
        status: u16,
    },
    /// Answer 429 Too Many Requests with `Retry-After`.
    Throttle {
        /// Seconds in `Retry-After`.
        retry_after: u64,
    },
    /// Close the connection without an answer.
    Drop,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// What to do.
    pub action: Action,
    /// Only requests with this verb (`get`, `list`, `watch`, `create`, `update`, `patch`, `delete`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verb: Option<String>,
    /// Only requests for this resource (`deployments`, `deployments.apps`, or a path like `/version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Fraction of matching requests hit, from 0 to 1 (default 1).
    #[serde(default = "one")]
    pub rate: f64,
    /// Stop after hitting this many requests (default: never stop).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
}

fn one() -> f64 {
    1.0
}

/// The rules in force.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Faults {
    /// Rules, checked in order.
    pub rules: Vec<Fault>,
    /// State of the deterministic generator behind `rate`.
    #[serde(default)]
    pub seed: u64,
}

/// What the server does to one request.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Outcome {
    /// Total delay.
    pub latency_ms: u64,
    /// The answer instead of the real one, or a dropped connection.
    pub answer: Option<Action>,
}

impl Faults {
    /// Decides the faults for a request, using up `times` of the rules that hit.
    pub fn decide(&mut self, verb: &str, resource: &str) -> Outcome {
        let mut outcome = Outcome::default();
        let mut seed = self.seed;
        for rule in &mut self.rules {
            let verb_ok = rule.verb.as_deref().is_none_or(|v| v == verb);
            let resource_ok = rule.resource.as_deref().is_none_or(|r| r == resource || resource.split('.').next() == Some(r));
            if !verb_ok || !resource_ok || rule.times == Some(0) {
                continue;
            }
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let draw = (seed >> 11) as f64 / (1u64 << 53) as f64;
            if draw >= rule.rate {
                continue;
            }
            if let Some(times) = rule.times.as_mut() {
                *times -= 1;
            }
            match &rule.action {
                Action::Latency { ms } => outcome.latency_ms = outcome.latency_ms.saturating_add(*ms),
                other if outcome.answer.is_none() => outcome.answer = Some(other.clone()),
                _ => {}
            }
        }
        self.seed = seed;
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_verb_and_resource_and_run_out() {
        let mut faults = Faults {
            rules: vec![
                Fault { action: Action::Latency { ms: 5 }, verb: None, resource: None, rate: 1.0, times: None },
                Fault {
                    action: Action::Error { status: 503 },
                    verb: Some("list".into()),
                    resource: Some("pods".into()),
                    rate: 1.0,
                    times: Some(2),
                },
            ],
            seed: 0,
        };
        assert_eq!(faults.decide("get", "pods"), Outcome { latency_ms: 5, answer: None });
        assert_eq!(faults.decide("list", "pods").answer, Some(Action::Error { status: 503 }));
        assert_eq!(faults.decide("list", "pods").answer, Some(Action::Error { status: 503 }));
        assert_eq!(faults.decide("list", "pods").answer, None);
    }

    #[test]
    fn a_rate_hits_about_that_fraction() {
        let mut faults =
            Faults { rules: vec![Fault { action: Action::Drop, verb: None, resource: None, rate: 0.25, times: None }], seed: 7 };
        let hits = (0..4000).filter(|_| faults.decide("get", "x").answer.is_some()).count();
        assert!((800..1200).contains(&hits), "{hits}");
    }
}
