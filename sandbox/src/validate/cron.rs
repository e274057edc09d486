//! A CronJob's `spec.schedule`, checked as kube-apiserver checks it: the standard cron parser
//! (five fields or a `@` descriptor, names for months and weekdays, `*`/`?`, ranges and steps)
//! with its error messages, and no `TZ=`/`CRON_TZ=` in the schedule.

/// A field's bounds and its names.
struct Bounds {
    min: u64,
    max: u64,
    names: &'static [(&'static str, u64)],
}

const MINUTES: Bounds = Bounds { min: 0, max: 59, names: &[] };
const HOURS: Bounds = Bounds { min: 0, max: 23, names: &[] };
const DOM: Bounds = Bounds { min: 1, max: 31, names: &[] };
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
};
const DOW: Bounds = Bounds { min: 0, max: 6, names: &[("sun", 0), ("mon", 1), ("tue", 2), ("wed", 3), ("thu", 4), ("fri", 5), ("sat", 6)] };

/// Go's `strconv.Atoi` then the parser's sign check.
fn parse_int(expr: &str) -> Result<u64, String> {
    let digits = expr.strip_prefix(['+', '-']).unwrap_or(expr);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("failed to parse int from {expr}: strconv.Atoi: parsing \"{expr}\": invalid syntax"));
    }
    let Ok(n) = expr.parse::<i64>() else {
        return Err(format!("failed to parse int from {expr}: strconv.Atoi: parsing \"{expr}\": value out of range"));
    };
    u64::try_from(n).map_err(|_| format!("negative number ({n}) not allowed: {expr}"))
}

fn int_or_name(expr: &str, bounds: &Bounds) -> Result<u64, String> {
    let lower = expr.to_ascii_lowercase();
    match bounds.names.iter().find(|(name, _)| *name == lower) {
        Some((_, n)) => Ok(*n),
        None => parse_int(expr),
    }
}

/// One range: `*`, `?`, `n`, `n-m`, each with an optional `/step`.
fn range(expr: &str, bounds: &Bounds) -> Result<(), String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let (mut start, mut end) = (bounds.min, bounds.max);
    if low_and_high[0] != "*" && low_and_high[0] != "?" {
        start = int_or_name(low_and_high[0], bounds)?;
        end = match low_and_high.len() {
            1 => start,
            2 => int_or_name(low_and_high[1], bounds)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
    }
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = parse_int(range_and_step[1])?;
            if low_and_high.len() == 1 {
                end = bounds.max;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < bounds.min {
        return Err(format!("beginning of range ({start}) below minimum ({}): {expr}", bounds.min));
    }
    if end > bounds.max {
        return Err(format!("end of range ({end}) above maximum ({}): {expr}", bounds.max));
    }
    if start > end {
        return Err(format!("beginning of range ({start}) beyond end of range ({end}): {expr}"));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(())
}

/// Go's `time.ParseDuration` accepts this (a sign, then numbers with units).
fn go_duration(text: &str) -> bool {
    let rest = text.strip_prefix(['+', '-']).unwrap_or(text);
    if rest == "0" {
        return true;
    }
    let mut chars = rest;
    let mut any = false;
    while !chars.is_empty() {
        let number = chars.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
        if number == 0 {
            return false;
        }
        chars = &chars[number..];
        let unit = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"].iter().find(|u| chars.starts_with(**u));
        let Some(unit) = unit else { return false };
        chars = &chars[unit.len()..];
        any = true;
    }
    any
}

/// The parser's error for a schedule, if any (`cron.ParseStandard`).
fn parse_error(schedule: &str) -> Option<String> {
    if schedule.is_empty() {
        return Some("empty spec string".into());
    }
    let mut spec = schedule;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        // The location itself is not checked; what follows it is.
        spec = spec.find(' ').map_or("", |i| spec[i..].trim());
    }
    if let Some(descriptor) = spec.strip_prefix('@') {
        return match descriptor {
            "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly" => None,
            _ => match spec.strip_prefix("@every ") {
                Some(d) if go_duration(d) => None,
                Some(d) => Some(format!("failed to parse duration {spec}: time: invalid duration \"{d}\"")),
                None => Some(format!("unrecognized descriptor: {spec}")),
            },
        };
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Some(format!("expected exactly 5 fields, found {}: [{}]", fields.len(), fields.join(" ")));
    }
    for (field, bounds) in fields.iter().zip([&MINUTES, &HOURS, &DOM, &MONTHS, &DOW]) {
        for expr in field.split(',').filter(|e| !e.is_empty()) {
            if let Err(e) = range(expr, bounds) {
                return Some(e);
            }
        }
    }
    None
}

/// The messages `spec.schedule` gets (`Invalid value: "<schedule>": <message>`).
pub fn schedule_errors(schedule: &str) -> Vec<String> {
    let mut errors: Vec<String> = parse_error(schedule).into_iter().collect();
    if schedule.contains("TZ") {
        errors.push("cannot use TZ or CRON_TZ in schedule, use timeZone field instead".into());
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_are_checked_with_the_cron_parsers_messages() {
        for good in ["0 2 * * *", "*/15 * * * *", "0 0 1 jan,JUL mon-fri", "5-10/2 * ? * sun", "@daily", "@every 1h30m", "0 3 * * 0"] {
            assert_eq!(schedule_errors(good), Vec::<String>::new(), "{good}");
        }
        for (bad, message) in [
            ("nightly", "expected exactly 5 fields, found 1: [nightly]"),
            ("0 2 * *", "expected exactly 5 fields, found 4: [0 2 * *]"),
            ("60 * * * *", "end of range (60) above maximum (59): 60"),
            ("0 24 * * *", "end of range (24) above maximum (23): 24"),
            ("0 0 0 * *", "beginning of range (0) below minimum (1): 0"),
            ("0 0 * * 5-2", "beginning of range (5) beyond end of range (2): 5-2"),
            ("*/0 * * * *", "step of range should be a positive number: */0"),
            ("x * * * *", "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"),
            ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
            ("@fortnightly", "unrecognized descriptor: @fortnightly"),
        ] {
            assert_eq!(schedule_errors(bad), vec![message.to_owned()], "{bad}");
        }
        assert_eq!(
            schedule_errors("TZ=UTC 0 2 * * *"),
            vec!["cannot use TZ or CRON_TZ in schedule, use timeZone field instead".to_owned()]
        );
    }
}
