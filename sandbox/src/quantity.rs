//! Kubernetes quantities in canonical form.
