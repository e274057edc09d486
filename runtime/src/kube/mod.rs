//! The Kubernetes provider (kube-rs).
