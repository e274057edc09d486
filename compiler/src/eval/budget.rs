//! Bounds on evaluation, so that no stack, however short its text, runs for ever or grows past
//! the machine's memory or stack.
//!
//! Three limits, checked on every expression the evaluator computes:
//! - *work*: one unit per expression evaluated, per resource declared and per element of each
//!   new collection measured. `[for i in range(1000000) : range(1000000)]` stops here.
//! - *size*: a collection's elements counted with repeats, strings by length. Values share
//!   their parts, so `let b = [a, a]` doubles a value in one line, and thirty such lines make
//!   a value of a billion elements that any rendering would expand.
//! - *depth*: how deeply collections nest. Lets evaluated one after another can nest a value
//!   far deeper than any expression, and deeper than the stack that drops or renders it.
//!
//! Measuring a collection walks it once; collections of at least [`CACHE_FROM`] elements
//! remember their measure (by address, with a weak reference that keeps the address from being
//! reused), so reading a big value again costs one lookup.

use std::collections::{BTreeMap, HashMap};
use std::rc::{Rc, Weak};

use crate::value::Value;

/// Work units one compilation may spend in evaluation (about two seconds of a release build).
pub const MAX_WORK: u64 = 20_000_000;
/// Work charged for declaring one resource (checks, lowering and rendering follow it).
pub const RESOURCE_WORK: u64 = 100;
/// The largest value, counted with repeats: elements of every nested collection, plus one per
/// 8 bytes of each string (so a string holds at most 80 MB).
pub const MAX_SIZE: u64 = 10_000_000;
/// The longest string a value may hold, in bytes (a string of `n` bytes measures `n / 8 + 1`);
/// `file()` reads at most this much.
pub const MAX_STRING_BYTES: u64 = (MAX_SIZE - 1) * 8;
/// How deeply collections may nest inside one value.
pub const MAX_VALUE_DEPTH: u32 = 1_000;
/// Names "did you mean" may compare in one compilation. Each suggestion looks at every
/// candidate (every let of a module, every resource of a kind, every key of a map), so a
/// hundred thousand unknown names among a hundred thousand lets would take hours; past this,
/// diagnostics carry a plain help line.
pub const MAX_SUGGESTION_WORK: u64 = 2_000_000;
/// Collections measured at least this large (and within the limits: a measure cut short is
/// not the collection's own) remember their measure.
const CACHE_FROM: u64 = 64;

/// Why a value or an evaluation is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exceeded {
    Work,
    Size,
    Depth,
}

#[derive(Clone, Copy, Debug, Default)]
struct Measure {
    size: u64,
    depth: u32,
}

/// Measures of collections by address; the weak reference tells whether the entry is still
/// about the same collection.
type MeasureCache<T> = HashMap<*const T, (Weak<T>, Measure)>;

/// The counters of one evaluation.
#[derive(Debug, Default)]
pub struct Budget {
    work: u64,
    /// Set once work ran out; evaluation then yields unknown values.
    spent: bool,
    /// Set once running out of work was reported.
    reported: bool,
    /// Candidates compared by "did you mean" so far.
    suggested: u64,
    lists: MeasureCache<Vec<Value>>,
    maps: MeasureCache<BTreeMap<String, Value>>,
}

impl Budget {
    /// Charges `units` of work; false once the budget is spent (the first time it runs out,
    /// the caller reports it).
    pub fn charge(&mut self, units: u64) -> bool {
        self.work = self.work.saturating_add(units);
        if self.work > MAX_WORK {
            self.spent = true;
        }
        !self.spent
    }

    /// Whether work ran out.
    pub fn is_spent(&self) -> bool {
        self.spent
    }

    /// True the first time it is called: running out of work is reported once.
    pub fn first_report(&mut self) -> bool {
        !std::mem::replace(&mut self.reported, true)
    }

    /// Whether a "did you mean" over `candidates` names fits in what is left of
    /// MAX_SUGGESTION_WORK (and if so, takes it).
    pub fn suggest(&mut self, candidates: usize) -> bool {
        let total = self.suggested.saturating_add(candidates as u64);
        if total > MAX_SUGGESTION_WORK {
            return false;
        }
        self.suggested = total;
        true
    }

    /// Checks a value just computed: its size and depth, charging the work of measuring it.
    pub fn check(&mut self, v: &Value) -> Result<(), Exceeded> {
        if !matches!(v, Value::List(_) | Value::Map(_) | Value::Sensitive(_) | Value::Str(_)) {
            return Ok(());
        }
        let m = self.measure(v, 0);
        if m.depth > MAX_VALUE_DEPTH {
            Err(Exceeded::Depth)
        } else if m.size > MAX_SIZE {
            Err(Exceeded::Size)
        } else if self.spent {
            Err(Exceeded::Work)
        } else {
            Ok(())
        }
    }

    /// A value's size and depth. Stops early (with a measure over the limits) once either
    /// limit is passed, so measuring costs at most about MAX_SIZE work.
    fn measure(&mut self, v: &Value, level: u32) -> Measure {
        match v {
            Value::Str(s) => Measure { size: (s.len() as u64 / 8).saturating_add(1), depth: 0 },
            Value::Sensitive(inner) => self.measure(inner, level),
            Value::List(l) => {
                let key = Rc::as_ptr(l);
                if let Some((w, m)) = self.lists.get(&key) {
                    if w.strong_count() > 0 {
                        return *m;
                    }
                }
                let m = self.measure_items(l.iter(), level);
                if m.size >= CACHE_FROM && m.size <= MAX_SIZE && m.depth <= MAX_VALUE_DEPTH {
                    self.lists.insert(key, (Rc::downgrade(l), m));
                }
                m
            }
            Value::Map(map) => {
                let key = Rc::as_ptr(map);
                if let Some((w, m)) = self.maps.get(&key) {
                    if w.strong_count() > 0 {
                        return *m;
                    }
                }
                let m = self.measure_items(map.values(), level);
                if m.size >= CACHE_FROM && m.size <= MAX_SIZE && m.depth <= MAX_VALUE_DEPTH {
                    self.maps.insert(key, (Rc::downgrade(map), m));
                }
                m
            }
            _ => Measure { size: 1, depth: 0 },
        }
    }

    fn measure_items<'v>(&mut self, items: impl Iterator<Item = &'v Value>, level: u32) -> Measure {
        let mut m = Measure { size: 1, depth: 1 };
        if level > MAX_VALUE_DEPTH {
            // Deeper than allowed: no need to look further (nor to recurse deeper).
            m.depth = m.depth.saturating_add(level);
            return m;
        }
        for item in items {
            self.charge(1);
            let inner = stacker::maybe_grow(32 * 1024, 1024 * 1024, || self.measure(item, level.saturating_add(1)));
            m.size = m.size.saturating_add(inner.size);
            m.depth = m.depth.max(inner.depth.saturating_add(1));
            if m.size > MAX_SIZE || m.depth > MAX_VALUE_DEPTH {
                break;
            }
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: Vec<Value>) -> Value {
        Value::list(items)
    }

    #[test]
    fn shared_parts_count_every_time() {
        let mut b = Budget::default();
        let mut v = list(vec![Value::Int(1), Value::Int(2)]);
        for _ in 0..22 {
            assert_eq!(b.check(&v), Ok(()));
            v = list(vec![v.clone(), v]);
        }
        assert_eq!(b.check(&v), Err(Exceeded::Size));
    }

    #[test]
    fn deep_values_are_refused() {
        let mut b = Budget::default();
        let mut v = Value::Int(1);
        for _ in 0..MAX_VALUE_DEPTH {
            v = list(vec![v]);
            assert_eq!(b.check(&v), Ok(()));
        }
        v = list(vec![v]);
        assert_eq!(b.check(&v), Err(Exceeded::Depth));
    }

    #[test]
    fn long_strings_count_by_length() {
        let mut b = Budget::default();
        let s = Value::str("x".repeat(1 << 20));
        let v = list(vec![s; 200]);
        assert_eq!(b.check(&v), Err(Exceeded::Size));
    }

    #[test]
    fn suggestions_run_out() {
        let mut b = Budget::default();
        assert!(b.suggest(MAX_SUGGESTION_WORK as usize - 10));
        assert!(b.suggest(10));
        assert!(!b.suggest(1));
    }

    #[test]
    fn work_runs_out() {
        let mut b = Budget::default();
        assert!(b.charge(MAX_WORK));
        assert!(!b.charge(1));
        assert!(b.is_spent());
    }
}
