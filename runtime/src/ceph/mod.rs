//! The Ceph provider for direct mode (DESIGN.md §2 steps 7–10): live state as the monitor
//! reports it ([`state`]).

pub mod state;
