//! The planner (DESIGN.md §2 step 8). PURE: (desired, live snapshot, options) → [`Plan`]; no
//! I/O, no clock, no randomness.

mod types;

pub use types::{Action, Class, FieldChange, FieldOp, Options, Plan, Refusal, Step};
