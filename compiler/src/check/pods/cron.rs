//! Cron schedules as a CronJob's `spec.schedule` takes them: five fields (minute, hour,
//! day of month, month, day of week) of lists, ranges, steps, `*` and `?`, month and weekday
//! names, or a macro (`@daily`, `@every 1h`) — the standard parser kube-apiserver validates with.

/// The fields in order: name, lowest, highest, and the names allowed for values.
const FIELDS: [(&str, u32, u32, &[&str]); 5] = [
    ("minute", 0, 59, &[]),
    ("hour", 0, 23, &[]),
    ("day of month", 1, 31, &[]),
    ("month", 1, 12, &["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]),
    ("day of week", 0, 6, &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]),
];

const MACROS: [&str; 7] = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

/// Whether `schedule` is a valid schedule; `Err` says what is wrong.
pub(super) fn check(schedule: &str) -> Result<(), String> {
    let s = schedule.trim();
    if s.starts_with("TZ=") || s.starts_with("CRON_TZ=") {
        return Err("a time zone cannot be set in the schedule".into());
    }
    if let Some(rest) = s.strip_prefix("@every ") {
        return every(rest.trim());
    }
    if s.starts_with('@') {
        return if MACROS.contains(&s) { Ok(()) } else { Err(format!("`{s}` is not a schedule macro ({})", MACROS.join(", "))) };
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!("it has {} field{}, not 5", fields.len(), if fields.len() == 1 { "" } else { "s" }));
    }
    for (text, (name, lo, hi, names)) in fields.iter().zip(FIELDS) {
        for part in text.split(',') {
            item(part, lo, hi, names).map_err(|why| format!("the {name} field `{text}`: {why}"))?;
        }
    }
    Ok(())
}

/// One list item: `*`, `?`, `N`, `N-M`, each with an optional `/STEP`.
fn item(part: &str, lo: u32, hi: u32, names: &[&str]) -> Result<(), String> {
    let (range, step) = match part.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (part, None),
    };
    if let Some(step) = step {
        match step.parse::<u32>() {
            Ok(n) if n > 0 => {}
            _ => return Err(format!("`{step}` is not a step (a number above 0)")),
        }
    }
    if range == "*" || range == "?" {
        return Ok(());
    }
    let (start, end) = match range.split_once('-') {
        Some((a, b)) => (value(a, lo, hi, names)?, Some(value(b, lo, hi, names)?)),
        None => (value(range, lo, hi, names)?, None),
    };
    match end {
        Some(end) if end < start => Err(format!("the range `{range}` ends before it starts")),
        _ => Ok(()),
    }
}

/// A number within `lo..=hi`, or one of `names` (case-insensitive; the first is `lo`).
fn value(text: &str, lo: u32, hi: u32, names: &[&str]) -> Result<u32, String> {
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
        return Ok(lo.saturating_add(u32::try_from(i).unwrap_or(0)));
    }
    match text.parse::<u32>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        Ok(n) => Err(format!("{n} is outside {lo}-{hi}")),
        Err(_) if text.is_empty() => Err("a value is missing".into()),
        Err(_) => Err(format!("`{text}` is not a number")),
    }
}

/// `@every DURATION`: Go durations such as `90m`, `1h30m`, `45s`.
fn every(d: &str) -> Result<(), String> {
    let mut rest = d;
    let mut any = false;
    while !rest.is_empty() {
        let digits = rest.len().saturating_sub(rest.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.').len());
        let (num, tail) = rest.split_at(digits);
        let unit_len = ["ns", "us", "µs", "ms", "s", "m", "h"].iter().find(|u| tail.starts_with(**u)).map(|u| u.len());
        match (num.is_empty(), unit_len) {
            (false, Some(n)) => {
                rest = tail.get(n..).unwrap_or("");
                any = true;
            }
            _ => return Err(format!("`{d}` is not a duration such as `1h30m`")),
        }
    }
    if any {
        Ok(())
    } else {
        Err("`@every` needs a duration such as `1h30m`".into())
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn schedules_kubernetes_accepts_pass() {
        for s in ["0 3 * * *", "*/15 * * * *", "0 0 1,15 * MON-FRI", "5 4 ? jan sun", "0-30/5 9-17 * * 1-5", "@daily", "@every 1h30m"] {
            assert_eq!(check(s), Ok(()), "{s}");
        }
    }

    #[test]
    fn schedules_kubernetes_refuses_say_why() {
        for (s, why) in [
            ("0 3 * *", "it has 4 fields, not 5"),
            ("60 * * * *", "the minute field `60`: 60 is outside 0-59"),
            ("* * 0 * *", "the day of month field `0`: 0 is outside 1-31"),
            ("* * * * 7", "the day of week field `7`: 7 is outside 0-6"),
            ("*/0 * * * *", "the minute field `*/0`: `0` is not a step (a number above 0)"),
            ("5-1 * * * *", "the minute field `5-1`: the range `5-1` ends before it starts"),
            ("x * * * *", "the minute field `x`: `x` is not a number"),
            ("@sometimes", "`@sometimes` is not a schedule macro (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)"),
            ("@every soon", "`soon` is not a duration such as `1h30m`"),
            ("TZ=UTC 0 3 * * *", "a time zone cannot be set in the schedule"),
        ] {
            assert_eq!(check(s), Err(why.to_string()), "{s}");
        }
    }
}
