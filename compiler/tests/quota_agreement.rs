//! `std:quota-fit` and the compiler's quota check (E0406, W0404) judge the same stacks the same
//! way, whatever quantities and suffixes they are written with: both read quantities with
//! `cairn-core`'s exact `Quantity`. Random stacks from a fixed xorshift seed, so a failure
//! reproduces.

use std::path::Path;

use cairn_compiler::{compile, MapEnv, MemoryLoader, Mode};
use cairn_stdlib::policy::{builtin, Input, Resource};

const SUFFIXES: [&str; 14] = ["", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A quantity literal: `3`, `1.25Gi`, `500m`, `0.5Pi`.
    fn quantity(&mut self) -> String {
        let whole = match self.below(3) {
            0 => self.below(10),
            1 => self.below(1000),
            _ => self.below(100_000),
        };
        let number = match self.below(3) {
            0 => format!("{whole}.{}", self.below(1000)),
            _ => whole.max(1).to_string(),
        };
        format!("{number}{}", SUFFIXES[self.below(SUFFIXES.len() as u64) as usize])
    }
}

/// Whether the compiler reports `code` on the quota's `attr` line.
fn reports(diagnostics: &[cairn_lang::Diagnostic], text: &str, code: &str, attr: &str) -> bool {
    let start = text.find(&format!("    {attr} =")).expect("the quota sets the attribute");
    let end = start + text[start..].find('\n').unwrap_or(text.len() - start);
    diagnostics.iter().any(|d| d.code == code && (start..end).contains(&(d.span.start as usize)))
}

#[test]
fn std_quota_fit_and_the_compiler_agree_on_every_quantity() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let (mut judged, mut over) = (0, 0);
    for case in 0..1000 {
        let (cpu, memory, cpu_hard, memory_hard) = (rng.quantity(), rng.quantity(), rng.quantity(), rng.quantity());
        let replicas = 1 + rng.below(5);
        // A StatefulSet has no surge pod on either side; a Deployment with `max_surge = 1` has
        // one on both (std:quota-fit counts one per Deployment, the compiler warns with W0404).
        let deployment = rng.below(2) == 0;
        let kind = if deployment { "deployment" } else { "statefulset" };
        let text = format!(
            "namespace \"shop\" {{\n  quota {{\n    cpu = {cpu_hard}\n    memory = {memory_hard}\n  }}\n}}\n\n\
             workload \"web\" {{\n  namespace = namespace.shop\n  kind = \"{kind}\"\n  image = \"nginx:1.27\"\n  replicas = {replicas}\n  \
             resources {{\n    cpu = {cpu}\n    memory = {memory}\n  }}\n  update {{ max_surge = 1 }}\n}}\n"
        );
        let mut loader = MemoryLoader::new();
        loader.insert(Path::new("/stack/main.cairn"), text.clone());
        let c = compile(&loader, &MapEnv(Default::default()), Path::new("/stack"), Mode::Check).expect("the stack loads");
        let unrelated: Vec<_> = c.diagnostics.iter().filter(|d| !matches!(d.code, "E0406" | "W0404")).collect();
        if !unrelated.is_empty() {
            // Quantities out of range, requests above limits and the like: not a quota question.
            continue;
        }
        let resources =
            c.objects.iter().map(|o| Resource { address: o.address.to_string(), kind: o.kind.clone(), object: o.body.clone() }).collect();
        let input = Input { phase: "check".into(), stack: "stack".into(), config: serde_json::Value::Null, resources, changes: Vec::new() };
        let violations = builtin("quota-fit").expect("std:quota-fit exists").evaluate(&input).expect("std:quota-fit judges");
        for (attr, key) in [("cpu", "requests.cpu"), ("memory", "requests.memory")] {
            let policy_denies = violations.iter().any(|v| v.path.as_deref() == Some(&format!("spec.hard.{key}")));
            let compiler_denies =
                reports(&c.diagnostics, &text, "E0406", attr) || (deployment && reports(&c.diagnostics, &text, "W0404", attr));
            assert_eq!(
                policy_denies, compiler_denies,
                "case {case}, {key}:\n{text}\npolicy: {violations:?}\ncompiler: {:?}",
                c.diagnostics
            );
            judged += 1;
            over += usize::from(policy_denies);
        }
    }
    // The cases cover both verdicts, many times.
    assert!(judged > 400 && over > 100 && judged - over > 100, "judged {judged}, over quota {over}");
}
