//! The blocks of one import round: which input objects each block stands for, and its text.
//! Namespaces (with their quota and limits), configs, secrets, pools, storage classes, buckets
//! and routes are here; workloads in `workload.rs`; whatever is left becomes a `manifest`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value as Json;

use super::text::{self, Block};
use super::{Candidate, Input, Variable};

/// A conversion of one input into a block.
type Convert<'a> = fn(&mut Cx<'a>, usize) -> Result<Candidate, String>;

/// Builds the candidates of a round.
pub(crate) struct Cx<'a> {
    pub inputs: &'a [Input],
    /// Objects that must be `manifest`s, and why (from earlier rounds).
    forced: &'a BTreeMap<usize, String>,
    pub stack: &'a str,
    by_id: HashMap<String, usize>,
    claimed: Vec<bool>,
    /// Addresses given out.
    taken: BTreeSet<String>,
    /// The block address each claimed input went to.
    pub block_of: HashMap<usize, String>,
    /// Why a conversion failed, per input: the object becomes a manifest.
    pub reasons: BTreeMap<usize, String>,
    existing: BTreeMap<String, Existing>,
    variables: Vec<Variable>,
    /// What the report should say beside the blocks.
    pub notes: Vec<String>,
}

/// An `existing = true` block the imported blocks refer to.
#[derive(Debug, Clone)]
pub(crate) struct Existing {
    pub address: String,
    /// Its namespace (namespaced kinds).
    pub namespace: Option<String>,
    pub file: String,
    pub text: String,
}

/// What a round adds beside the candidates.
pub(crate) struct Extras {
    pub existing: Vec<Existing>,
    pub variables: Vec<Variable>,
    /// Why conversions failed, per input.
    pub reasons: BTreeMap<usize, String>,
    pub notes: Vec<String>,
}

impl<'a> Cx<'a> {
    pub fn new(inputs: &'a [Input], forced: &'a BTreeMap<usize, String>, stack: &'a str) -> Cx<'a> {
        let by_id = inputs.iter().enumerate().map(|(i, o)| (o.id.clone(), i)).collect();
        Cx {
            inputs,
            forced,
            stack,
            by_id,
            claimed: vec![false; inputs.len()],
            taken: BTreeSet::new(),
            block_of: HashMap::new(),
            reasons: BTreeMap::new(),
            existing: BTreeMap::new(),
            variables: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Every block of the round, in the order kinds depend on each other.
    pub fn candidates(&mut self) -> Vec<Candidate> {
        let mut out = Vec::new();
        let order: [(&str, Convert<'a>); 11] = [
            ("Namespace", Cx::namespace),
            ("ConfigMap", Cx::config),
            ("Secret", Cx::secret),
            ("ServiceAccount", Cx::service_account),
            ("CephBlockPool", Cx::pool),
            ("CephFilesystem", Cx::filesystem),
            ("CephObjectStore", Cx::object_store),
            ("StorageClass", Cx::storage_class),
            ("ObjectBucketClaim", Cx::bucket),
            ("*workload", Cx::workload_candidate),
            ("Ingress", Cx::route),
        ];
        for (kind, convert) in order {
            for i in 0..self.inputs.len() {
                let Some(input) = self.inputs.get(i) else { continue };
                let matches = if kind == "*workload" { super::workload::is_workload(input) } else { input.kind == kind };
                if !matches || self.is_claimed(i) || self.forced.contains_key(&i) {
                    continue;
                }
                match convert(self, i) {
                    Ok(c) => {
                        for &j in &c.claims {
                            self.claim(j, &c.address);
                        }
                        out.push(c);
                    }
                    Err(reason) => {
                        self.reasons.insert(i, reason);
                    }
                }
            }
        }
        for i in 0..self.inputs.len() {
            if !self.is_claimed(i) {
                out.push(self.manifest(i));
            }
        }
        out
    }

    /// The existing blocks and variables the round needed.
    pub fn finish(self) -> Extras {
        Extras { existing: self.existing.into_values().collect(), variables: self.variables, reasons: self.reasons, notes: self.notes }
    }

    /// The `existing` blocks needed so far.
    pub fn existing_blocks(&self) -> impl Iterator<Item = &Existing> {
        self.existing.values()
    }

    /// The `env()` variables written so far.
    pub fn variable_names(&self) -> Vec<String> {
        self.variables.iter().map(|v| v.name.clone()).collect()
    }

    pub fn is_claimed(&self, i: usize) -> bool {
        self.claimed.get(i).copied().unwrap_or(true)
    }

    fn claim(&mut self, i: usize, address: &str) {
        if let Some(c) = self.claimed.get_mut(i) {
            *c = true;
        }
        self.block_of.insert(i, address.to_string());
    }

    /// The input with this id, unless it is taken or must be a manifest.
    pub fn free(&self, id: &str) -> Option<usize> {
        let i = *self.by_id.get(id)?;
        (!self.is_claimed(i) && !self.forced.contains_key(&i)).then_some(i)
    }

    /// The input with this id.
    pub fn find(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// Reserves an address; an error when another block has it (cairn names resources by kind
    /// and name, across namespaces).
    pub fn address(&mut self, kind: &str, name: &str) -> Result<String, String> {
        let address = format!("{kind}.{name}");
        if !self.taken.insert(address.clone()) {
            return Err(format!(
                "another `{kind}` named `{name}` is imported already (cairn names resources by kind and name, across namespaces)"
            ));
        }
        Ok(address)
    }

    /// The expression for a namespaced resource's `namespace`: a reference when the Namespace
    /// is an imported block, else its name.
    pub fn namespace_expr(&self, ns: &str) -> String {
        match self.find(&format!("Namespace/{ns}")).and_then(|i| self.block_of.get(&i)) {
            Some(_) => text::reference("namespace", ns),
            None => text::string(ns),
        }
    }

    /// A reference to resource `kind` (`secret`, `config`, `storage_class`, `pool`) named `name`
    /// for the object `id`: the imported block, or an `existing` block when the object is not
    /// imported; `None` when it is imported as a `manifest` (no reference can reach it).
    pub fn reference(&mut self, kind: &str, object_id: &str, name: &str, namespace: Option<&str>) -> Option<String> {
        match self.find(object_id) {
            Some(i) => {
                let address = self.block_of.get(&i)?;
                address.starts_with(&format!("{kind}.")).then(|| text::reference(kind, name))
            }
            None => {
                let address = format!("{kind}.{name}");
                if self.taken.contains(&address) && !self.existing.contains_key(&address) {
                    return None; // the name is another namespace's block
                }
                if self.existing.get(&address).is_some_and(|e| e.namespace.as_deref() != namespace) {
                    return None; // an existing block of that name stands in another namespace
                }
                if !self.existing.contains_key(&address) {
                    self.taken.insert(address.clone());
                    let mut b = Block::new(kind, Some(name));
                    if let Some(ns) = namespace {
                        b.attr("namespace", self.namespace_expr(ns));
                    }
                    b.attr("existing", "true");
                    let file = match namespace {
                        Some(ns) => namespace_file(ns),
                        None => "cluster.cairn".into(),
                    };
                    let namespace = namespace.map(str::to_string);
                    self.existing.insert(address.clone(), Existing { address, namespace, file, text: b.text() });
                }
                Some(text::reference(kind, name))
            }
        }
    }

    fn namespace(&mut self, i: usize) -> Result<Candidate, String> {
        let input = self.input(i)?;
        only(&input.obj, &["apiVersion", "kind", "metadata"])?;
        only_meta(&input.obj)?;
        let name = input.name.clone();
        let address = self.address("namespace", &name)?;
        let mut b = Block::new("namespace", Some(&name));
        let mut labels = input.labels();
        if let Some(level) = labels.get("pod-security.kubernetes.io/enforce").cloned() {
            if labels.get("pod-security.kubernetes.io/enforce-version").map(String::as_str) == Some("latest") {
                labels.remove("pod-security.kubernetes.io/enforce");
                labels.remove("pod-security.kubernetes.io/enforce-version");
                b.str("pod_security", &level);
            }
        }
        let own_annotations = input.annotations();
        meta_attrs(&mut b, &labels, &own_annotations);
        let mut claims = vec![i];
        if let Some(q) = self.free(&format!("ResourceQuota/{name}/{name}-quota")) {
            match quota(self.input(q)?, &labels, &own_annotations) {
                Ok(block) => {
                    b.block(block);
                    claims.push(q);
                }
                Err(why) => {
                    self.reasons.insert(q, format!("not namespace `{name}`'s `quota`: {why}"));
                }
            }
        }
        if let Some(l) = self.free(&format!("LimitRange/{name}/{name}-limits")) {
            match limits(self.input(l)?, &labels, &own_annotations) {
                Ok(block) => {
                    b.block(block);
                    claims.push(l);
                }
                Err(why) => {
                    self.reasons.insert(l, format!("not namespace `{name}`'s `limits`: {why}"));
                }
            }
        }
        Ok(Candidate { address, file: namespace_file(&name), text: b.text(), claims, manifest: None })
    }

    fn service_account(&mut self, i: usize) -> Result<Candidate, String> {
        let input = self.input(i)?;
        only(&input.obj, &["apiVersion", "kind", "metadata"])?;
        only_meta(&input.obj)?;
        let ns = input.namespace.clone().unwrap_or_default();
        let (labels, annotations, name) = (input.labels(), input.annotations(), input.name.clone());
        let address = self.address("service_account", &name)?;
        let mut b = Block::new("service_account", Some(&name));
        b.attr("namespace", self.namespace_expr(&ns));
        meta_attrs(&mut b, &labels, &annotations);
        Ok(Candidate { address, file: namespace_file(&ns), text: b.text(), claims: vec![i], manifest: None })
    }

    /// A reference to an input imported as a block of `kind`; `None` otherwise (no `existing`
    /// block is made).
    pub fn reference_if_imported(&self, kind: &str, object_id: &str, name: &str) -> Option<String> {
        let i = self.find(object_id)?;
        self.block_of.get(&i).filter(|a| a.starts_with(&format!("{kind}."))).map(|_| text::reference(kind, name))
    }

    fn config(&mut self, i: usize) -> Result<Candidate, String> {
        let input = self.input(i)?;
        only(&input.obj, &["apiVersion", "kind", "metadata", "data"])?;
        only_meta(&input.obj)?;
        let ns = input.namespace.clone().unwrap_or_default();
        let data = input.obj.get("data").cloned().unwrap_or(Json::Object(Default::default()));
        let (labels, annotations, name) = (input.labels(), input.annotations(), input.name.clone());
        let address = self.address("config", &name)?;
        let mut b = Block::new("config", Some(&name));
        b.attr("namespace", self.namespace_expr(&ns));
        meta_attrs(&mut b, &labels, &annotations);
        b.value("data", &data);
        Ok(Candidate { address, file: namespace_file(&ns), text: b.text(), claims: vec![i], manifest: None })
    }

    fn secret(&mut self, i: usize) -> Result<Candidate, String> {
        let input = self.input(i)?;
        only(&input.obj, &["apiVersion", "kind", "metadata", "data", "type"])?;
        only_meta(&input.obj)?;
        let ns = input.namespace.clone().unwrap_or_default();
        let (labels, annotations, name) = (input.labels(), input.annotations(), input.name.clone());
        let ty = input.obj.get("type").and_then(Json::as_str).map(str::to_string);
        let keys: Vec<String> = match input.obj.get("data") {
            Some(Json::Object(d)) => d.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let address = self.address("secret", &name)?;
        let mut b = Block::new("secret", Some(&name));
        b.attr("namespace", self.namespace_expr(&ns));
        if let Some(t) = ty.filter(|t| t != "Opaque") {
            b.str("type", &t);
        }
        meta_attrs(&mut b, &labels, &annotations);
        let mut data = String::from("{\n");
        for k in keys {
            let var = self.variable(&ns, &name, &k);
            data.push_str(&format!("{} = env({})\n", text::key(&k), text::string(&var)));
        }
        data.push('}');
        b.attr("data", data);
        Ok(Candidate { address, file: namespace_file(&ns), text: b.text(), claims: vec![i], manifest: None })
    }

    /// The `env()` variable for one secret value: `<NAME>_<KEY>`, upper case, with the
    /// namespace in front when two namespaces have a secret of that name.
    pub fn variable(&mut self, namespace: &str, secret: &str, key: &str) -> String {
        if let Some(v) = self.variables.iter().find(|v| v.namespace == namespace && v.secret == secret && v.key == key) {
            return v.name.clone();
        }
        let taken = |n: &str| self.variables.iter().any(|v| v.name == n);
        let mut name = env_name(&format!("{secret}_{key}"));
        if taken(&name) {
            name = env_name(&format!("{namespace}_{secret}_{key}"));
        }
        // Two secrets whose names and keys read alike (`a-b`/`c`, `a`/`b-c`): number them, so
        // no variable ever stands for two values.
        let base = name.clone();
        let mut n: u32 = 2;
        while taken(&name) {
            name = format!("{base}_{n}");
            n = n.saturating_add(1);
        }
        self.variables.push(Variable { name: name.clone(), namespace: namespace.into(), secret: secret.into(), key: key.into() });
        name
    }

    fn pool(&mut self, i: usize) -> Result<Candidate, String> {
        let input = self.input(i)?;
        if input.namespace.as_deref() != Some("rook-ceph") {
            return Err("a CephBlockPool outside the `rook-ceph` namespace needs a `cluster` block; import does not write one".into());
        }
        only(&input.obj, &["apiVersion", "kind", "metadata", "spec"])?;
        only_meta(&input.obj)?;
        let spec = input.spec().cloned().unwrap_or_default();
        only(&spec, &["failureDomain", "replicated", "erasureCoded", "deviceClass", "application", "quotas", "parameters"])?;
        let (labels, annotations, name) = (input.labels(), input.annotations(), input.name.clone());
        let address = self.address("pool", &name)?;
        let mut b = Block::new("pool", Some(&name));
        if let Some(ec) = spec.get("erasureCoded") {
            b.str("type", "erasure");
            let mut e = Block::new("erasure", None);
            e.value("k", ec.get("dataChunks").unwrap_or(&Json::Null));
            e.value("m", ec.get("codingChunks").unwrap_or(&Json::Null));
            b.block(e);
        } else if let Some(size) = spec.pointer("/replicated/size").filter(|s| s.as_i64() != Some(3)) {
            b.value("size", size);
        }
        if let Some(fd) = spec.get("failureDomain").and_then(Json::as_str).filter(|f| *f != "host") {
            b.str("failure_domain", fd);
        }
        if let Some(dc) = spec.get("deviceClass").and_then(Json::as_str) {
            b.str("device_class", dc);
        }
        if let Some(app) = spec.get("application").and_then(Json::as_str).filter(|a| *a != "rbd") {
            b.str("application", app);
        }
        if let Some(Json::Object(q)) = spec.get("quotas") {
            let mut qb = Block::new("quota", None);
            if let Some(bytes) = q.get("maxBytes") {
                qb.attr("max_bytes", text::quantity(bytes).ok_or("maxBytes is not a number")?);
            }
            if let Some(o) = q.get("maxObjects") {
                qb.value("max_objects", o);
            }
            b.block(qb);
        }
        if let Some(Json::Object(p)) = spec.get("parameters") {
            for (param, attr) in [("min_size", "min_size"), ("pg_num", "pg_num")] {
                if let Some(v) = p.get(param).and_then(Json::as_str) {
                    b.attr(attr, v.parse::<i64>().map_err(|_| format!("parameter {param} is not a number"))?.to_string());
                }
            }
            if let Some(v) = p.get("pg_autoscale_mode").and_then(Json::as_str) {
                b.str("autoscale", v);
            }
        }
        meta_attrs(&mut b, &labels, &annotations);
        Ok(Candidate { address, file: "storage.cairn".into(), text: b.text(), claims: vec![i], manifest: None })
    }

    fn filesystem(&mut self, i: usize) -> Result<Candidate, String> {
        let input = self.input(i)?;
        let spec = rook_spec(input, &["metadataPool", "dataPools", "metadataServer", "preserveFilesystemOnDelete"])?;
        let (labels, annotations, name) = (input.labels(), input.annotations(), input.name.clone());
        let address = self.address("filesystem", &name)?;
        let mut b = Block::new("filesystem", Some(&name));
        let mut m = Block::new("metadata", None);
        rook_pool(&mut m, spec.get("metadataPool").unwrap_or(&Json::Null), false)?;
        b.block(m);
        let Some(Json::Array(data)) = spec.get("dataPools") else { return Err("no data pools".into()) };
        for d in data {
            let label = d.get("name").and_then(Json::as_str).ok_or("a data pool without a name")?;
            let mut db = Block::new("data", Some(label));
            rook_pool(&mut db, d, true)?;
            b.block(db);
        }
        if let Some(server) = spec.get("metadataServer") {
            only(server, &["activeCount", "activeStandby"])?;
            if let Some(n) = server.get("activeCount").filter(|n| n.as_i64() != Some(1)) {
                b.value("active", n);
            }
            if server.get("activeStandby").and_then(Json::as_bool) == Some(false) {
                b.attr("standby", "false");
            }
        }
        protect_attr(&mut b, spec.get("preserveFilesystemOnDelete"));
        meta_attrs(&mut b, &labels, &annotations);
        Ok(Candidate { address, file: "storage.cairn".into(), text: b.text(), claims: vec![i], manifest: None })
    }

    fn object_store(&mut self, i: usize) -> Result<Candidate, String> {
        let input = self.input(i)?;
        let spec = rook_spec(input, &["metadataPool", "dataPool", "gateway", "preservePoolsOnDelete"])?;
        let (labels, annotations, name) = (input.labels(), input.annotations(), input.name.clone());
        let address = self.address("object_store", &name)?;
        let mut b = Block::new("object_store", Some(&name));
        for (key, block) in [("metadataPool", "metadata"), ("dataPool", "data")] {
            let mut pb = Block::new(block, None);
            rook_pool(&mut pb, spec.get(key).unwrap_or(&Json::Null), false)?;
            b.block(pb);
        }
        if let Some(g) = spec.get("gateway") {
            only(g, &["port", "instances"])?;
            let mut gb = Block::new("gateway", None);
            if let Some(p) = g.get("port").filter(|p| p.as_i64() != Some(80)) {
                gb.value("port", p);
            }
            if let Some(n) = g.get("instances").filter(|n| n.as_i64() != Some(1)) {
                gb.value("instances", n);
            }
            if !gb.is_empty() {
                b.block(gb);
            }
        }
        protect_attr(&mut b, spec.get("preservePoolsOnDelete"));
        meta_attrs(&mut b, &labels, &annotations);
        // The bucket classes cairn makes for the store's buckets.
        let mut claims = vec![i];
        for suffix in ["buckets", "buckets-retain", "buckets-delete"] {
            if let Some(c) = self.free(&format!("StorageClass/{name}-{suffix}")) {
                claims.push(c);
            }
        }
        Ok(Candidate { address, file: "storage.cairn".into(), text: b.text(), claims, manifest: None })
    }

    fn storage_class(&mut self, i: usize) -> Result<Candidate, String> {
        let input = self.input(i)?;
        only(
            &input.obj,
            &["apiVersion", "kind", "metadata", "provisioner", "parameters", "reclaimPolicy", "allowVolumeExpansion", "volumeBindingMode"],
        )?;
        only_meta(&input.obj)?;
        let obj = input.obj.clone();
        let provisioner = obj.get("provisioner").and_then(Json::as_str).unwrap_or_default();
        if provisioner != "rook-ceph.rbd.csi.ceph.com" && provisioner != "rook-ceph.cephfs.csi.ceph.com" {
            return Err(format!("provisioner `{provisioner}` is not Rook's RBD or CephFS driver"));
        }
        let param = |k: &str| obj.pointer(&format!("/parameters/{}", k.replace('/', "~1"))).and_then(Json::as_str).map(str::to_string);
        if param("clusterID").as_deref() != Some("rook-ceph") {
            return Err("a storage class of a Rook cluster outside `rook-ceph` needs a `cluster` block; import does not write one".into());
        }
        let (labels, mut annotations, name) = (input.labels(), input.annotations(), input.name.clone());
        let address = self.address("storage_class", &name)?;
        let mut b = Block::new("storage_class", Some(&name));
        if provisioner.contains("cephfs") {
            let fs = param("fsName").ok_or("no fsName parameter")?;
            let fs_ref = self
                .reference("filesystem", &format!("CephFilesystem/rook-ceph/{fs}"), &fs, None)
                .ok_or("its file system is a manifest")?;
            b.attr("filesystem", fs_ref);
            let pool = param("pool").unwrap_or_default();
            let data = pool.strip_prefix(&format!("{fs}-")).ok_or("its pool is not one of the file system's data pools")?;
            b.str("data", data);
        } else {
            let pool = param("pool").ok_or("no pool parameter")?;
            let pool_ref =
                self.reference("pool", &format!("CephBlockPool/rook-ceph/{pool}"), &pool, None).ok_or("its pool is a manifest")?;
            b.attr("pool", pool_ref);
            if let Some(fs) = param("csi.storage.k8s.io/fstype").filter(|f| f != "ext4") {
                b.str("fs_type", &fs);
            }
        }
        if let Some(secret) = param("csi.storage.k8s.io/provisioner-secret-name") {
            let default = if provisioner.contains("cephfs") { "rook-csi-cephfs-provisioner" } else { "rook-csi-rbd-provisioner" };
            if secret != default {
                b.str("csi_secret", &secret);
            }
        }
        if let Some(ns) = param("csi.storage.k8s.io/provisioner-secret-namespace").filter(|n| n != "rook-ceph") {
            b.str("csi_secret_namespace", &ns);
        }
        if let Some(r) = obj.get("reclaimPolicy").and_then(Json::as_str).filter(|r| *r != "Delete") {
            b.str("reclaim", r);
        }
        match obj.get("allowVolumeExpansion").and_then(Json::as_bool) {
            Some(true) => {}
            Some(false) => {
                b.attr("expansion", "false");
            }
            None => return Err("allowVolumeExpansion is unset; cairn always sets it".into()),
        }
        if let Some(m) = obj.get("volumeBindingMode").and_then(Json::as_str) {
            b.str("binding", m);
        }
        if annotations.remove("storageclass.kubernetes.io/is-default-class").as_deref() == Some("true") {
            b.attr("default", "true");
        }
        meta_attrs(&mut b, &labels, &annotations);
        Ok(Candidate { address, file: "storage.cairn".into(), text: b.text(), claims: vec![i], manifest: None })
    }

    fn bucket(&mut self, i: usize) -> Result<Candidate, String> {
        let input = self.input(i)?;
        only(&input.obj, &["apiVersion", "kind", "metadata", "spec"])?;
        only_meta(&input.obj)?;
        let spec = input.spec().cloned().unwrap_or_default();
        only(&spec, &["generateBucketName", "storageClassName"])?;
        let ns = input.namespace.clone().unwrap_or_default();
        let (labels, annotations, name) = (input.labels(), input.annotations(), input.name.clone());
        if spec.get("generateBucketName").and_then(Json::as_str) != Some(name.as_str()) {
            return Err("its bucket name is not generated from the claim's name".into());
        }
        let class = spec.get("storageClassName").and_then(Json::as_str).unwrap_or_default();
        let (store, reclaim) = match class.strip_suffix("-buckets-retain") {
            Some(s) => (s.to_string(), Some("Retain")),
            None => (class.strip_suffix("-buckets").ok_or("its storage class is not an object store's bucket class")?.to_string(), None),
        };
        let store_ref = self
            .reference("object_store", &format!("CephObjectStore/rook-ceph/{store}"), &store, None)
            .ok_or("its object store is a manifest")?;
        let address = self.address("bucket", &name)?;
        let mut b = Block::new("bucket", Some(&name));
        b.attr("namespace", self.namespace_expr(&ns));
        b.attr("store", store_ref);
        if let Some(r) = reclaim {
            b.str("reclaim", r);
        }
        meta_attrs(&mut b, &labels, &annotations);
        Ok(Candidate { address, file: namespace_file(&ns), text: b.text(), claims: vec![i], manifest: None })
    }

    fn route(&mut self, i: usize) -> Result<Candidate, String> {
        let input = self.input(i)?;
        only(&input.obj, &["apiVersion", "kind", "metadata", "spec"])?;
        only_meta(&input.obj)?;
        let spec = input.spec().cloned().unwrap_or_default();
        only(&spec, &["ingressClassName", "rules", "tls"])?;
        let ns = input.namespace.clone().unwrap_or_default();
        let (labels, annotations, name) = (input.labels(), input.annotations(), input.name.clone());
        let Some(Json::Array(rules)) = spec.get("rules") else { return Err("no rules".into()) };
        let [rule] = rules.as_slice() else { return Err("more than one rule (a route has one host)".into()) };
        only(rule, &["host", "http"])?;
        let host = rule.get("host").and_then(Json::as_str).ok_or("a rule without a host")?.to_string();
        let mut b = Block::new("route", Some(&name));
        b.attr("namespace", self.namespace_expr(&ns));
        b.str("host", &host);
        if let Some(c) = spec.get("ingressClassName").and_then(Json::as_str) {
            b.str("class", c);
        }
        if let Some(Json::Array(tls)) = spec.get("tls") {
            let [t] = tls.as_slice() else { return Err("more than one TLS entry".into()) };
            if t.get("hosts") != Some(&serde_json::json!([host])) {
                return Err("its TLS hosts are not the rule's host".into());
            }
            let secret = t.get("secretName").and_then(Json::as_str).ok_or("TLS without a secret")?.to_string();
            let r = self.reference("secret", &format!("Secret/{ns}/{secret}"), &secret, Some(&ns)).ok_or("its TLS secret is a manifest")?;
            b.attr("tls", r);
        }
        let Some(Json::Array(paths)) = rule.pointer("/http/paths") else { return Err("a rule without paths".into()) };
        for p in paths {
            only(p, &["path", "pathType", "backend"])?;
            if p.get("pathType").and_then(Json::as_str) != Some("Prefix") {
                return Err("a path whose pathType is not Prefix".into());
            }
            let path = p.get("path").and_then(Json::as_str).ok_or("a path without `path`")?;
            let service = p.pointer("/backend/service/name").and_then(Json::as_str).ok_or("a backend that is not a Service")?;
            let port = p.pointer("/backend/service/port/number").and_then(Json::as_i64).ok_or("a backend port that is not a number")?;
            let to = self.find(&format!("Deployment/{ns}/{service}")).or_else(|| self.find(&format!("StatefulSet/{ns}/{service}")));
            let to = to
                .and_then(|w| self.block_of.get(&w))
                .filter(|a| a.starts_with("workload."))
                .ok_or("its Service is not an imported workload's `expose`")?;
            let mut pb = Block::new("path", Some(path));
            pb.attr("to", to.clone());
            pb.attr("port", port.to_string());
            b.block(pb);
        }
        let address = self.address("route", &name)?;
        meta_attrs(&mut b, &labels, &annotations);
        Ok(Candidate { address, file: namespace_file(&ns), text: b.text(), claims: vec![i], manifest: None })
    }

    /// The object as a `manifest` block: the object literal, a Secret's values as placeholders.
    fn manifest(&mut self, i: usize) -> Candidate {
        let Some(input) = self.inputs.get(i) else {
            return Candidate { address: String::new(), file: "cluster.cairn".into(), text: String::new(), claims: vec![], manifest: None };
        };
        let input = input.clone();
        let base = match &input.namespace {
            Some(ns) => format!("{ns}-{}-{}", input.kind.to_lowercase(), input.name),
            None => format!("{}-{}", input.kind.to_lowercase(), input.name),
        };
        let mut label = base.clone();
        let mut n: u32 = 2;
        while self.taken.contains(&format!("manifest.{label}")) {
            label = format!("{base}-{n}");
            n = n.saturating_add(1);
        }
        self.taken.insert(format!("manifest.{label}"));
        let mut obj = input.obj.clone();
        let mut b = Block::new("manifest", Some(&label));
        let file = match &input.namespace {
            Some(ns) => namespace_file(ns),
            None if is_storage(&input.kind) => "storage.cairn".into(),
            None => "cluster.cairn".into(),
        };
        if input.kind == "Secret" {
            // Never a value: each becomes `base64encode(sensitive(env("…")))`.
            let ns = input.namespace.clone().unwrap_or_default();
            let keys: Vec<String> = obj.get("data").and_then(Json::as_object).map(|d| d.keys().cloned().collect()).unwrap_or_default();
            if let Some(m) = obj.as_object_mut() {
                m.remove("data");
            }
            let mut data = String::from("{\n");
            for k in keys {
                let var = self.variable(&ns, &input.name, &k);
                data.push_str(&format!("{} = base64encode(sensitive(env({})))\n", text::key(&k), text::string(&var)));
            }
            data.push('}');
            let mut literal = text::literal(&obj);
            if literal.ends_with('}') {
                literal.pop();
                literal.push_str(&format!("data = {data}\n}}"));
            }
            b.attr("object", literal);
        } else {
            b.value("object", &obj);
        }
        let address = format!("manifest.{label}");
        self.block_of.insert(i, address.clone());
        if let Some(c) = self.claimed.get_mut(i) {
            *c = true;
        }
        Candidate { address, file, text: b.text(), claims: vec![i], manifest: Some(String::new()) }
    }

    pub fn input(&self, i: usize) -> Result<&'a Input, String> {
        self.inputs.get(i).ok_or_else(|| "internal: no such input".to_string())
    }
}

/// The spec of a Rook object in `rook-ceph` (elsewhere it needs a `cluster` block) whose
/// fields are all in `allowed`.
fn rook_spec(input: &Input, allowed: &[&str]) -> Result<Json, String> {
    if input.namespace.as_deref() != Some("rook-ceph") {
        return Err(format!("a {} outside the `rook-ceph` namespace needs a `cluster` block; import does not write one", input.kind));
    }
    only(&input.obj, &["apiVersion", "kind", "metadata", "spec"])?;
    only_meta(&input.obj)?;
    let spec = input.spec().cloned().unwrap_or_default();
    only(&spec, allowed)?;
    Ok(spec)
}

/// The attributes of a pool in Rook's form (`replicated.size` or `erasureCoded`,
/// `failureDomain`, `deviceClass`; `name` when `named`).
fn rook_pool(b: &mut Block, pool: &Json, named: bool) -> Result<(), String> {
    let allowed: &[&str] = if named {
        &["name", "replicated", "erasureCoded", "failureDomain", "deviceClass"]
    } else {
        &["replicated", "erasureCoded", "failureDomain", "deviceClass"]
    };
    only(pool, allowed)?;
    if let Some(ec) = pool.get("erasureCoded") {
        only(ec, &["dataChunks", "codingChunks"])?;
        b.str("type", "erasure");
        let mut e = Block::new("erasure", None);
        e.value("k", ec.get("dataChunks").unwrap_or(&Json::Null));
        e.value("m", ec.get("codingChunks").unwrap_or(&Json::Null));
        b.block(e);
    } else if let Some(r) = pool.get("replicated") {
        only(r, &["size"])?;
        if let Some(size) = r.get("size").filter(|s| s.as_i64() != Some(3)) {
            b.value("size", size);
        }
    }
    if let Some(fd) = pool.get("failureDomain").and_then(Json::as_str).filter(|f| *f != "host") {
        b.str("failure_domain", fd);
    }
    if let Some(dc) = pool.get("deviceClass").and_then(Json::as_str) {
        b.str("device_class", dc);
    }
    Ok(())
}

/// `protect = false` when Rook is told not to keep the data.
fn protect_attr(b: &mut Block, preserve: Option<&Json>) {
    if preserve.and_then(Json::as_bool) == Some(false) {
        b.attr("protect", "false");
    }
}

/// Kinds that go to `storage.cairn`.
fn is_storage(kind: &str) -> bool {
    matches!(kind, "StorageClass" | "CephBlockPool" | "CephFilesystem" | "CephObjectStore")
}

/// The file of a namespace's blocks.
pub(crate) fn namespace_file(ns: &str) -> String {
    format!("{ns}.cairn")
}

/// An environment variable name from free text: upper case, `_` for anything else.
fn env_name(s: &str) -> String {
    let mut out: String = s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// An error naming the first field of `v` that is not in `allowed`.
pub(crate) fn only(v: &Json, allowed: &[&str]) -> Result<(), String> {
    match v {
        Json::Object(m) => match m.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(format!("field `{k}` has no cairn attribute")),
            None => Ok(()),
        },
        Json::Null => Ok(()),
        _ => Err("not a map".into()),
    }
}

/// An error unless the object's metadata has only name, namespace, labels and annotations.
pub(crate) fn only_meta(obj: &Json) -> Result<(), String> {
    only(obj.get("metadata").unwrap_or(&Json::Null), &["name", "namespace", "labels", "annotations"]).map_err(|e| format!("metadata: {e}"))
}

/// `labels = {…}` and `annotations = {…}` when not empty.
pub(crate) fn meta_attrs(b: &mut Block, labels: &BTreeMap<String, String>, annotations: &BTreeMap<String, String>) {
    for (attr, m) in [("labels", labels), ("annotations", annotations)] {
        if !m.is_empty() {
            let map: serde_json::Map<String, Json> = m.iter().map(|(k, v)| (k.clone(), Json::String(v.clone()))).collect();
            b.value(attr, &Json::Object(map));
        }
    }
}

/// A namespace's `quota` block from its ResourceQuota.
/// (Its labels and annotations are the namespace's, as cairn writes them.)
fn quota(q: &Input, labels: &BTreeMap<String, String>, annotations: &BTreeMap<String, String>) -> Result<Block, String> {
    only(&q.obj, &["apiVersion", "kind", "metadata", "spec"])?;
    only(q.spec().unwrap_or(&Json::Null), &["hard"])?;
    if &q.labels() != labels || &q.annotations() != annotations {
        return Err("its labels or annotations are not the namespace's".into());
    }
    let mut b = Block::new("quota", None);
    quantities(
        &mut b,
        q.obj.pointer("/spec/hard"),
        &[
            ("requests.cpu", "cpu"),
            ("requests.memory", "memory"),
            ("limits.cpu", "limits_cpu"),
            ("limits.memory", "limits_memory"),
            ("pods", "pods"),
            ("requests.storage", "storage"),
            ("persistentvolumeclaims", "pvcs"),
        ],
    )?;
    Ok(b)
}

/// A namespace's `limits` block from its LimitRange.
fn limits(l: &Input, labels: &BTreeMap<String, String>, annotations: &BTreeMap<String, String>) -> Result<Block, String> {
    only(&l.obj, &["apiVersion", "kind", "metadata", "spec"])?;
    if &l.labels() != labels || &l.annotations() != annotations {
        return Err("its labels or annotations are not the namespace's".into());
    }
    let Some(Json::Array(items)) = l.obj.pointer("/spec/limits") else { return Err("no limits".into()) };
    let [item] = items.as_slice() else { return Err("more than one limit".into()) };
    only(item, &["type", "default", "defaultRequest", "max"])?;
    if item.get("type").and_then(Json::as_str) != Some("Container") {
        return Err("not a Container limit".into());
    }
    let mut b = Block::new("limits", None);
    for (key, cpu, memory) in [
        ("default", "default_cpu", "default_memory"),
        ("defaultRequest", "default_request_cpu", "default_request_memory"),
        ("max", "max_cpu", "max_memory"),
    ] {
        quantities(&mut b, item.get(key), &[("cpu", cpu), ("memory", memory)])?;
    }
    Ok(b)
}

/// Quantity attributes from a resource list; an error for a key not in `pairs`.
pub(crate) fn quantities(b: &mut Block, list: Option<&Json>, pairs: &[(&str, &str)]) -> Result<(), String> {
    let Some(Json::Object(m)) = list else { return Ok(()) };
    for (k, v) in m {
        let (_, attr) = pairs.iter().find(|(key, _)| key == k).ok_or_else(|| format!("`{k}` has no cairn attribute"))?;
        let q = text::quantity(v).ok_or_else(|| format!("`{k}` is not a quantity"))?;
        b.attr(attr, q);
    }
    Ok(())
}
