//! Schema checks: unknown attributes and blocks (with "did you mean"), missing required
//! attributes, labels of nested blocks, duplicates, and the type of every value.

use cairn_lang::{Diagnostic, Span};

use super::Checker;
use crate::access::{as_quantity, scalar_string};
use crate::eval::{did_you_mean, BodyValue, Resource};
use crate::schema::{BlockSchema, Kind, LabelRule, Ty};
use crate::value::Value;

pub(super) fn check_resource(cx: &mut Checker<'_>, res: &Resource) {
    let schema = res.addr.kind.schema();
    if res.is_existing() {
        check_existing(cx, res);
        return;
    }
    check_body(cx, res, schema, &res.body, res.label_span, &res.addr.to_string());
}

/// E0434: an `existing` block names a live resource and nothing else — every other attribute
/// or block would describe a resource cairn does not manage. What remains, its identity, is
/// checked against the schema as any body is (types, and a secret's or config's `namespace`).
fn check_existing(cx: &mut Checker<'_>, res: &Resource) {
    let kind = res.addr.kind;
    let keep = kind.identity_attrs();
    let identity = keep.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ");
    let help = format!(
        "remove it: cairn reads `{}` from the cluster and never writes it, so an `existing` {} takes only {identity}; to manage it, remove `existing = true` instead",
        res.addr,
        kind.as_str()
    );
    let (kept, extra): (Vec<_>, Vec<_>) = res.body.attrs.iter().partition(|a| keep.contains(&a.name.as_str()));
    for a in extra {
        cx.report(
            res,
            Diagnostic::error("E0434", a.name_span, format!("`{}` is `existing`: it takes no `{}`", res.addr, a.name))
                .with_help(help.clone()),
        );
    }
    for b in &res.body.blocks {
        cx.report(
            res,
            Diagnostic::error("E0434", b.kind_span, format!("`{}` is `existing`: it takes no `{}` block", res.addr, b.kind))
                .with_help(help.clone()),
        );
    }
    let identity_body = BodyValue { attrs: kept.into_iter().cloned().collect(), blocks: Vec::new() };
    check_body(cx, res, kind.schema(), &identity_body, res.label_span, &res.addr.to_string());
}

fn check_body(cx: &mut Checker<'_>, res: &Resource, schema: &'static BlockSchema, body: &BodyValue, at: Span, what: &str) {
    for a in &body.attrs {
        let Some(attr) = schema.attr(&a.name) else {
            let d = if schema.block(&a.name).is_some() {
                Diagnostic::error("E0303", a.name_span, format!("`{}` is a block in `{}`, not an attribute", a.name, schema.name))
                    .with_help(format!("write `{} {{ … }}` without `=`", a.name))
            } else {
                let help = match did_you_mean(&a.name, schema.attr_names()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("`{}` accepts: {}", schema.name, schema.attr_names().collect::<Vec<_>>().join(", ")),
                };
                Diagnostic::error("E0303", a.name_span, format!("unknown attribute `{}` in `{}`", a.name, schema.name)).with_help(help)
            };
            cx.report(res, d);
            continue;
        };
        if a.value.contains_sensitive() && !may_hold_sensitive(res.addr.kind, schema.name, &a.name) {
            cx.report(
                res,
                Diagnostic::error("E0306", a.span, format!("`{}` cannot hold a sensitive value: it would be printed", a.name))
                    .with_help("keep secrets in a `secret` block's `data` and pass them to workloads as env values (`secret.db.password`)"),
            );
            continue;
        }
        if attr.ty != Ty::EnvMap && super::storage::bucket_reference(&a.value).is_some() {
            continue; // E0426 says where bucket references may go
        }
        if let Err(why) = check_type(attr.ty, &a.value) {
            // A value passed through a template parameter: the error is where it was written,
            // the template's use of the parameter a second label.
            let (span, passed) = match a.origin {
                Some(origin) => (origin, Some(a.span)),
                None => (a.span, None),
            };
            let mut d = Diagnostic::error("E0301", span, format!("`{}` {why}", a.name)).with_help(format!(
                "`{}` takes {}: {}",
                a.name,
                describe_with_range(attr.ty),
                attr.doc
            ));
            if let Some(at) = passed {
                d = d.with_label(at, format!("the template passes it to `{}` here", a.name));
            }
            cx.report(res, d);
        }
    }
    for attr in schema.attrs.iter().filter(|a| a.required) {
        if body.attr(attr.name).is_none() {
            cx.report(
                res,
                Diagnostic::error("E0304", at, format!("`{what}` is missing the required attribute `{}`", attr.name)).with_help(format!(
                    "add `{} = …` ({}): {}",
                    attr.name,
                    attr.ty.describe(),
                    attr.doc
                )),
            );
        }
    }
    let mut seen: Vec<(&str, Option<&str>, Span)> = Vec::new();
    for b in &body.blocks {
        let Some(inner) = schema.block(&b.kind) else {
            let names: Vec<&str> = schema.blocks.iter().map(|s| s.name).collect();
            let help = match did_you_mean(&b.kind, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None if names.is_empty() => format!("`{}` has no nested blocks", schema.name),
                None => format!("`{}` accepts the blocks: {}", schema.name, names.join(", ")),
            };
            let d = if schema.attr(&b.kind).is_some() {
                Diagnostic::error("E0303", b.kind_span, format!("`{}` is an attribute of `{}`, not a block", b.kind, schema.name))
                    .with_help(format!("write `{} = …`", b.kind))
            } else {
                Diagnostic::error("E0303", b.kind_span, format!("unknown block `{}` in `{}`", b.kind, schema.name)).with_help(help)
            };
            cx.report(res, d);
            continue;
        };
        let label = b.label.as_ref().map(|(l, _)| l.as_str());
        match (inner.label, &b.label) {
            (LabelRule::None, Some((_, span))) => {
                cx.report(
                    res,
                    Diagnostic::error("E0301", *span, format!("a `{}` block takes no label", b.kind)).with_help("remove the label"),
                );
            }
            (LabelRule::Required, None) => {
                cx.report(
                    res,
                    Diagnostic::error("E0302", b.kind_span, format!("a `{}` block needs a name", b.kind))
                        .with_help(format!("write `{} \"name\" {{ … }}`", b.kind)),
                );
            }
            _ => {}
        }
        let span = b.label.as_ref().map_or(b.kind_span, |(_, s)| *s);
        if let Some((_, _, first)) = seen.iter().find(|(k, l, _)| *k == b.kind && (!inner.repeated || *l == label)) {
            let msg = match label {
                Some(l) if inner.repeated => format!("`{} \"{l}\"` is declared twice", b.kind),
                _ => format!("`{}` is declared twice", b.kind),
            };
            cx.report(
                res,
                Diagnostic::error("E0204", span, msg)
                    .with_label(*first, "first declared here")
                    .with_help("merge the two blocks or remove one"),
            );
            continue;
        }
        seen.push((&b.kind, label, span));
        let inner_what = match label {
            Some(l) => format!("{} \"{l}\"", b.kind),
            None => b.kind.clone(),
        };
        check_body(cx, res, inner, &b.body, span, &inner_what);
    }
}

/// Whether an attribute may hold sensitive values (LANGUAGE.md §4: they are never printed):
/// only where lowering keeps them marked (a secret's `data`, workload `env` values, manifest
/// objects) and a policy's `config`, which only the policy sees.
fn may_hold_sensitive(kind: Kind, block: &str, attr: &str) -> bool {
    matches!(
        (kind, block, attr),
        (Kind::Secret, "secret", "data")
            | (Kind::Workload, "workload" | "container" | "init", "env")
            | (Kind::Manifest, "manifest", "object")
            | (Kind::Policy, "policy", "config")
    )
}

/// A type as in the reference's tables, with an int's range (`int 1..10`, `int ≥ 0`).
fn describe_with_range(ty: Ty) -> String {
    match ty {
        Ty::Int { min: i64::MIN, max: i64::MAX } => ty.describe(),
        Ty::Int { min, max: i64::MAX } => format!("int ≥ {min}"),
        Ty::Int { min: i64::MIN, max } => format!("int ≤ {max}"),
        Ty::Int { min, max } => format!("int {min}..{max}"),
        _ => ty.describe(),
    }
}

/// Checks a value against a type; `Err` says what is wrong ("must be …").
pub(crate) fn check_type(ty: Ty, v: &Value) -> Result<(), String> {
    let (v, _) = v.unwrap_sensitive();
    if matches!(v, Value::Unknown) {
        return Ok(());
    }
    let found = || format!("must be {}, found {}", ty.describe(), v.type_name());
    match ty {
        Ty::Bool => matches!(v, Value::Bool(_)).then_some(()).ok_or_else(found),
        Ty::Str => matches!(v, Value::Str(_)).then_some(()).ok_or_else(found),
        Ty::Int { min, max } => match v {
            Value::Int(i) if *i < min || *i > max => Err(range_message(min, max, *i)),
            Value::Int(_) => Ok(()),
            _ => Err(found()),
        },
        Ty::Enum(values) => match v {
            Value::Str(s) if values.contains(&s.as_ref()) => Ok(()),
            Value::Str(s) => {
                let hint = did_you_mean(s, values.iter().copied()).map(|d| format!(" (did you mean \"{d}\"?)")).unwrap_or_default();
                Err(format!("must be one of {}, found \"{s}\"{hint}", ty.describe()))
            }
            _ => Err(found()),
        },
        Ty::Quantity => match as_quantity(v) {
            Some(q) if q.is_negative() => Err(format!("must not be negative, found {}", q.canonical())),
            Some(_) => Ok(()),
            None if matches!(v, Value::Str(_)) => {
                Err(format!("must be a quantity such as `500m`, `2` or `10Gi`, found \"{}\"", v.display()))
            }
            None => Err(found()),
        },
        Ty::Ref(kind) => match v {
            Value::Ref(r) if r.key.is_none() && r.kind == kind => Ok(()),
            Value::Str(s) => Err(format!("must be a reference such as `{}.{s}`, found a string", kind.as_str())),
            _ => Err(found()),
        },
        Ty::RefOrStr(kind) => match v {
            Value::Ref(r) if r.key.is_none() && r.kind == kind => Ok(()),
            Value::Str(_) => Ok(()),
            _ => Err(found()),
        },
        Ty::Refs => match v {
            Value::List(items) => items
                .iter()
                .all(|i| matches!(i.unwrap_sensitive().0, Value::Ref(r) if r.key.is_none()) || matches!(i, Value::Unknown))
                .then_some(())
                .ok_or_else(|| "must be a list of references such as `[pool.fast]`".to_string()),
            _ => Err(found()),
        },
        Ty::StrList => match v {
            Value::List(items) => items
                .iter()
                .all(|i| matches!(i.unwrap_sensitive().0, Value::Str(_) | Value::Unknown))
                .then_some(())
                .ok_or_else(|| "must be a list of strings".to_string()),
            _ => Err(found()),
        },
        Ty::StrMap => match v {
            Value::Map(m) => {
                match m.iter().find(|(_, x)| !matches!(x.unwrap_sensitive().0, Value::Unknown) && scalar_string(x).is_none()) {
                    Some((k, x)) => Err(format!("must map names to strings, but `{k}` is a {}", x.type_name())),
                    None => Ok(()),
                }
            }
            _ => Err(found()),
        },
        Ty::IntMap => match v {
            Value::Map(m) => match m.iter().find(|(_, x)| !matches!(x.unwrap_sensitive().0, Value::Int(1..=65535) | Value::Unknown)) {
                Some((k, x)) => Err(format!("must map names to port numbers (1..65535), but `{k}` is {}", x.display())),
                None => Ok(()),
            },
            // Unnamed ports.
            Value::List(items) => match items.iter().find(|x| !matches!(x.unwrap_sensitive().0, Value::Int(1..=65535) | Value::Unknown)) {
                Some(x) => Err(format!("must list port numbers (1..65535), but holds {}", x.display())),
                None => Ok(()),
            },
            _ => Err(found()),
        },
        Ty::EnvMap => match v {
            Value::Map(m) => {
                for (k, x) in m.iter() {
                    match x.unwrap_sensitive().0 {
                        Value::Ref(r) if r.key.is_some() && matches!(r.kind, Kind::Secret | Kind::Config | Kind::Bucket) => {}
                        Value::Ref(r) => {
                            return Err(format!(
                                "must map names to values, but `{k}` is a reference to `{}.{}`; use a key such as `{}.{}.KEY`, or `\"${{{}.{}}}\"` for its name",
                                r.kind.as_str(),
                                r.name,
                                r.kind.as_str(),
                                r.name,
                                r.kind.as_str(),
                                r.name
                            ))
                        }
                        Value::Unknown => {}
                        other if scalar_string(other).is_some() => {}
                        other => return Err(format!("must map names to strings, numbers or key references, but `{k}` is a {}", other.type_name())),
                    }
                }
                Ok(())
            }
            _ => Err(found()),
        },
        Ty::Port => match v {
            Value::Int(1..=65535) | Value::Str(_) => Ok(()),
            Value::Int(i) => Err(range_message(1, 65535, *i)),
            _ => Err(found()),
        },
        Ty::IntOrPercent => match v {
            Value::Int(i) if *i < 0 => Err(range_message(0, i64::MAX, *i)),
            Value::Int(_) => Ok(()),
            Value::Str(s) if s.strip_suffix('%').is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) => Ok(()),
            Value::Str(_) => Err("must be a number or a percentage such as \"25%\"".to_string()),
            _ => Err(found()),
        },
        Ty::Any => Ok(()),
    }
}

fn range_message(min: i64, max: i64, found: i64) -> String {
    match (min, max) {
        (i64::MIN, _) => format!("must be at most {max}, found {found}"),
        (_, i64::MAX) => format!("must be at least {min}, found {found}"),
        _ => format!("must be between {min} and {max}, found {found}"),
    }
}
