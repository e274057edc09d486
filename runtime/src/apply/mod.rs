//! The executor (DESIGN.md §2 step 10).
