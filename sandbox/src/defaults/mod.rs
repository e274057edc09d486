//! Defaulting and normalization per kind, as kube-apiserver 1.33 does.
