//! Kubernetes resource quantities (`500m`, `1.5Gi`, `1e3`): exact nano-unit arithmetic, parsing
//! as kube-apiserver parses, and rendering in the canonical form of `resource.Quantity`.
//!
//! A [`Quantity`] holds its value as a whole number of nano-units (`value = nanos × 10⁻⁹`) plus
//! the [`Format`] it was written in. Parsing follows apimachinery's `ParseQuantity` byte for
//! byte (`api/resource/quantity.go`): an optional sign, digits with at most one `.`, then a
//! decimal SI suffix (`n u m k M G T P E`), a binary one (`Ki`..`Ei`) or an exponent (`e3`,
//! `E-1`). Anything finer than a nano-unit is rounded up (away from zero), as Kubernetes does,
//! so that a request for "a little" never becomes nothing. Values are bounded by `i64::MAX`
//! whole units: binary values past it are capped as Kubernetes caps them; decimal values past
//! it are [`QuantityError::Overflow`] (Kubernetes would keep them with arbitrary precision).
//! No floating point is involved in parsing, arithmetic or rendering.
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// Nano-units in one whole unit.
const NANO: i128 = 1_000_000_000;

/// Largest magnitude in nano-units: `i64::MAX` whole units, Kubernetes' own cap.
const MAX_NANOS: i128 = 9_223_372_036_854_775_807_000_000_000;

/// Decimal SI suffixes with their power of ten, smallest first.
pub const DECIMAL_SUFFIXES: [(&str, i32); 10] =
    [("n", -9), ("u", -6), ("m", -3), ("", 0), ("k", 3), ("M", 6), ("G", 9), ("T", 12), ("P", 15), ("E", 18)];

/// Binary SI suffixes, index `i` standing for `1024^i`.
pub const BINARY_SUFFIXES: [&str; 7] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

/// The suffixes a quantity literal of the language may carry, longest first so that `Mi` is
/// matched before `M`. `n` and `u` are left out: Kubernetes emits them, people do not write them.
pub const LITERAL_SUFFIXES: [&str; 13] = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "m", "k", "M", "G", "T", "P", "E"];

/// kube-apiserver's `ErrFormatWrong`.
const FORMAT_WRONG: &str = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
/// kube-apiserver's `ErrSuffix`.
const SUFFIX_WRONG: &str = "unable to parse quantity's suffix";
/// kube-apiserver's `ErrNumeric`.
const NUMERIC_WRONG: &str = "unable to parse numeric part of quantity";

/// Errors from parsing, building or combining quantities. `Display` is cairn's wording;
/// [`QuantityError::kubernetes_message`] is kube-apiserver's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The value's magnitude is larger than `i64::MAX` whole units.
    #[error("quantity out of range")]
    Overflow,
    /// A number followed by text that is no suffix (the text after the number).
    #[error("unknown quantity suffix `{0}`")]
    Suffix(String),
    /// The text is not a number followed by a suffix (or a float is NaN or infinite).
    #[error("`{0}` is not a valid quantity")]
    Invalid(String),
    /// A division by zero (an integer divisor or the denominator of a ratio).
    #[error("division by zero")]
    DivisionByZero,
}

impl QuantityError {
    /// The message kube-apiserver gives for the same text: `ErrFormatWrong`, `ErrSuffix` (a
    /// suffix made of suffix characters that names none) or `ErrNumeric`.
    pub fn kubernetes_message(&self) -> &'static str {
        match self {
            QuantityError::Invalid(_) => FORMAT_WRONG,
            QuantityError::Suffix(s) if suffix_shaped(s) => SUFFIX_WRONG,
            QuantityError::Suffix(_) => FORMAT_WRONG,
            QuantityError::Overflow => "quantity out of range",
            QuantityError::DivisionByZero => NUMERIC_WRONG,
        }
    }
}

/// Whether `s` matches the suffix part of Kubernetes' pattern, `[eEinumkKMGTP]*[-+]?[0-9]*`.
fn suffix_shaped(s: &str) -> bool {
    let letters = s.trim_start_matches(|c: char| "eEinumkKMGTP".contains(c));
    let rest = letters.strip_prefix(['-', '+']).unwrap_or(letters);
    rest.bytes().all(|b| b.is_ascii_digit())
}

/// How a quantity was written, which decides how it renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// No suffix or `n u m k M G T P E` (`DecimalSI`).
    DecimalSI,
    /// `Ki`, `Mi`, ... (`BinarySI`).
    BinarySI,
    /// `e<exponent>` or `E<exponent>` (`DecimalExponent`).
    DecimalExponent,
}

/// A Kubernetes quantity with exact nano-unit precision.
///
/// Equality, ordering and hashing look at the value only: `1Gi == 1024Mi` and `1000m == 1`.
/// The format only affects [`Quantity::canonical`].
#[derive(Clone, Copy, Debug)]
pub struct Quantity {
    /// The value in nano-units: `value = nanos × 10⁻⁹`. Always within `±MAX_NANOS`.
    nanos: i128,
    /// How it renders.
    format: Format,
}

/// Multiplier (nano-units per unit of the number) and format for a suffix.
fn suffix_multiplier(suffix: &str, allow_small: bool) -> Option<(i128, Format)> {
    if let Some(power) = BINARY_SUFFIXES.iter().position(|s| !s.is_empty() && *s == suffix) {
        let power = u32::try_from(power).ok()?.checked_mul(10)?;
        let base = 2_i128.checked_pow(power)?;
        return Some((base.checked_mul(NANO)?, Format::BinarySI));
    }
    let &(name, exp) = DECIMAL_SUFFIXES.iter().find(|(s, _)| *s == suffix)?;
    if !allow_small && (name == "n" || name == "u") {
        return None;
    }
    let power = u32::try_from(exp.checked_add(9)?).ok()?;
    Some((10_i128.checked_pow(power)?, Format::DecimalSI))
}

/// Whether `number` is digits with at most one `.` and at least one digit.
fn is_number(number: &str) -> bool {
    number.bytes().filter(|b| *b == b'.').count() <= 1
        && number.bytes().any(|b| b.is_ascii_digit())
        && number.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// `ceil(number × multiplier)` for a non-negative decimal `number` (digits with at most one
/// `.`) and a non-negative `multiplier`, exactly.
///
/// The integer part is multiplied directly; the fraction `0.d₁d₂…dₖ` is folded from its last
/// digit up (`t ← (dᵢ·multiplier + t) / 10`), which keeps every step below `10 × multiplier`
/// however many digits there are, and remembers whether any step dropped a remainder.
fn scaled_ceil(number: &str, multiplier: i128) -> Result<i128, QuantityError> {
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    let mut whole: i128 = 0;
    for b in int_part.bytes() {
        let digit = i128::from(b.wrapping_sub(b'0'));
        whole = whole.checked_mul(10).and_then(|w| w.checked_add(digit)).ok_or(QuantityError::Overflow)?;
    }
    let whole = whole.checked_mul(multiplier).ok_or(QuantityError::Overflow)?;
    let mut frac: i128 = 0;
    let mut inexact = false;
    for b in frac_part.bytes().rev() {
        let digit = i128::from(b.wrapping_sub(b'0'));
        let step = digit.checked_mul(multiplier).and_then(|d| d.checked_add(frac)).ok_or(QuantityError::Overflow)?;
        if step.checked_rem(10) != Some(0) {
            inexact = true;
        }
        frac = step.checked_div(10).ok_or(QuantityError::Overflow)?;
    }
    if inexact {
        frac = frac.checked_add(1).ok_or(QuantityError::Overflow)?;
    }
    whole.checked_add(frac).ok_or(QuantityError::Overflow)
}

/// `ceil(int.frac × 10^exp)` in nano-units, for digit strings `int` and `frac`, exactly and
/// without building huge strings for huge exponents.
fn exponent_nanos(int: &str, frac: &str, exp: i64) -> Result<i128, QuantityError> {
    let digits = format!("{int}{frac}");
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Ok(0);
    }
    let frac_len = i64::try_from(frac.len()).map_err(|_| QuantityError::Overflow)?;
    // nanos = significant × 10^shift
    let shift = exp.checked_add(9).and_then(|e| e.checked_sub(frac_len)).ok_or(QuantityError::Overflow)?;
    if shift >= 0 {
        let power = u32::try_from(shift).map_err(|_| QuantityError::Overflow)?;
        let base = 10_i128.checked_pow(power).ok_or(QuantityError::Overflow)?;
        return scaled_ceil(significant, base);
    }
    let dropped = usize::try_from(shift.unsigned_abs()).unwrap_or(usize::MAX);
    let Some(kept_len) = significant.len().checked_sub(dropped).filter(|n| *n > 0) else {
        // Everything is below one nano-unit, and not zero: rounds up to one.
        return Ok(1);
    };
    let (kept, rest) = significant.split_at(kept_len);
    let value = scaled_ceil(kept, 1)?;
    if rest.bytes().any(|b| b != b'0') {
        value.checked_add(1).ok_or(QuantityError::Overflow)
    } else {
        Ok(value)
    }
}

/// Applies a sign to a non-negative magnitude.
fn signed(negative: bool, magnitude: i128) -> Result<i128, QuantityError> {
    if negative {
        magnitude.checked_neg().ok_or(QuantityError::Overflow)
    } else {
        Ok(magnitude)
    }
}

/// The pieces apimachinery's `parseQuantityString` splits a quantity into.
struct Pieces<'a> {
    negative: bool,
    num: &'a str,
    denom: &'a str,
    suffix: &'a str,
}

/// A port of apimachinery's `parseQuantityString`. On a text that does not match Kubernetes'
/// pattern, the error says where the suffix would have started.
fn split_quantity(s: &str) -> Result<Pieces<'_>, usize> {
    let bytes = s.as_bytes();
    let at = |i: usize| bytes.get(i).copied();
    let mut pieces = Pieces { negative: false, num: "", denom: "", suffix: "" };
    let mut pos = 0_usize;
    match at(0) {
        Some(b'-') => {
            pieces.negative = true;
            pos = 1;
        }
        Some(b'+') => pos = 1,
        _ => {}
    }
    while at(pos) == Some(b'0') {
        pos = pos.saturating_add(1);
    }
    let start = pos;
    while at(pos).is_some_and(|b| b.is_ascii_digit()) {
        pos = pos.saturating_add(1);
    }
    pieces.num = s.get(start..pos).unwrap_or("");
    if at(pos) == Some(b'.') {
        pos = pos.saturating_add(1);
        let start = pos;
        while at(pos).is_some_and(|b| b.is_ascii_digit()) {
            pos = pos.saturating_add(1);
        }
        pieces.denom = s.get(start..pos).unwrap_or("");
    }
    let suffix_start = pos;
    while at(pos).is_some_and(|b| b"eEinumkKMGTP".contains(&b)) {
        pos = pos.saturating_add(1);
    }
    if matches!(at(pos), Some(b'-' | b'+')) {
        pos = pos.saturating_add(1);
    }
    while at(pos).is_some_and(|b| b.is_ascii_digit()) {
        pos = pos.saturating_add(1);
    }
    if pos < bytes.len() {
        return Err(suffix_start);
    }
    pieces.suffix = s.get(suffix_start..).unwrap_or("");
    Ok(pieces)
}

/// How a suffix scales the number (`suffixHandler.interpret`).
enum Scale {
    /// Nano-units per unit of the number, and the format.
    Multiplier(i128, Format),
    /// A power of ten.
    Exponent(i64),
}

fn interpret_suffix(suffix: &str) -> Option<Scale> {
    if let Some((multiplier, format)) = suffix_multiplier(suffix, true) {
        return Some(Scale::Multiplier(multiplier, format));
    }
    let rest = suffix.strip_prefix(['e', 'E']).filter(|r| !r.is_empty())?;
    let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Kubernetes reads the exponent as an int32.
    let exp = rest.parse::<i64>().ok().filter(|e| e.unsigned_abs() <= u64::from(i32::MAX.unsigned_abs()))?;
    Some(Scale::Exponent(exp))
}

impl Quantity {
    /// Builds a quantity from nano-units, checking the range.
    fn new(nanos: i128, format: Format) -> Result<Quantity, QuantityError> {
        if nanos > MAX_NANOS || nanos < MAX_NANOS.wrapping_neg() {
            return Err(QuantityError::Overflow);
        }
        Ok(Quantity { nanos, format })
    }

    /// Builds a quantity from an unsigned number (`"1"`, `"1.5"`, `"0.25"`: digits with at most
    /// one `.`) and one of [`LITERAL_SUFFIXES`] (or none): how the language writes a quantity
    /// literal. A binary suffix makes the quantity binary-formatted. Precision finer than a
    /// nano-unit is rounded up; values past `i64::MAX` units are an error, binary ones too.
    pub fn from_parts(number: &str, suffix: &str) -> Result<Quantity, QuantityError> {
        if !is_number(number) {
            return Err(QuantityError::Invalid(format!("{number}{suffix}")));
        }
        let (multiplier, format) = suffix_multiplier(suffix, false).ok_or_else(|| QuantityError::Suffix(suffix.to_string()))?;
        Quantity::new(scaled_ceil(number, multiplier)?, format)
    }

    /// Parses a quantity as kube-apiserver's `resource.ParseQuantity` does: `500m`, `1.5Gi`,
    /// `-2`, `+20Gi`, `1e3`, `12E-1`, `.5`, `1.`, even `.` (zero). No surrounding whitespace.
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        if text.is_empty() {
            return Err(QuantityError::Invalid(String::new()));
        }
        let pieces = match split_quantity(text) {
            Ok(pieces) => pieces,
            Err(suffix_start) => {
                // Kubernetes says "format wrong"; when a number came first, name what follows it.
                let (number, rest) = text.split_at(suffix_start.min(text.len()));
                return Err(if number.bytes().any(|b| b.is_ascii_digit()) && !rest.starts_with('.') {
                    QuantityError::Suffix(rest.to_string())
                } else {
                    QuantityError::Invalid(text.to_string())
                });
            }
        };
        let scale = interpret_suffix(pieces.suffix).ok_or_else(|| QuantityError::Suffix(pieces.suffix.to_string()))?;
        let int = if pieces.num.is_empty() { "0" } else { pieces.num };
        let number = format!("{int}.{}", pieces.denom);
        let (magnitude, format) = match scale {
            Scale::Multiplier(multiplier, format) => (scaled_ceil(&number, multiplier), format),
            Scale::Exponent(exp) => (exponent_nanos(int, pieces.denom, exp), Format::DecimalExponent),
        };
        let magnitude = match (magnitude, format) {
            // Kubernetes caps binary quantities at i64::MAX units.
            (Err(QuantityError::Overflow), Format::BinarySI) => MAX_NANOS,
            (Ok(m), Format::BinarySI) if m > MAX_NANOS => MAX_NANOS,
            (m, _) => m?,
        };
        // A binary value between zero and one renders in decimal anyway; Kubernetes says so.
        let format = if format == Format::BinarySI && magnitude > 0 && magnitude < NANO { Format::DecimalSI } else { format };
        Quantity::new(signed(pieces.negative, magnitude)?, format)
    }

    /// Parses a quantity sent as JSON: a string, trimmed first as `Quantity.UnmarshalJSON`
    /// does, or a number (`cpu: 1`, `memory: 1.5`). Other JSON values are
    /// [`QuantityError::Invalid`].
    pub fn from_json(value: &serde_json::Value) -> Result<Quantity, QuantityError> {
        match value {
            serde_json::Value::String(s) => Quantity::parse(s.trim()),
            serde_json::Value::Number(n) => Quantity::parse(&n.to_string()),
            other => Err(QuantityError::Invalid(other.to_string())),
        }
    }

    /// A decimal-formatted quantity equal to the integer `v`.
    pub fn from_int(v: i64) -> Result<Quantity, QuantityError> {
        let nanos = i128::from(v).checked_mul(NANO).ok_or(QuantityError::Overflow)?;
        Quantity::new(nanos, Format::DecimalSI)
    }

    /// A decimal-formatted quantity equal to the shortest decimal representation of `v`
    /// (so `0.1` is exactly one tenth), rounded up (away from zero) to a nano-unit. NaN and
    /// infinities are [`QuantityError::Invalid`].
    pub fn from_f64(v: f64) -> Result<Quantity, QuantityError> {
        if !v.is_finite() {
            return Err(QuantityError::Invalid(format!("{v}")));
        }
        // `Display` for f64 never uses an exponent, so this is always digits with one `.` at most.
        let text = format!("{}", v.abs());
        let magnitude = scaled_ceil(&text, NANO)?;
        Quantity::new(signed(v.is_sign_negative(), magnitude)?, Format::DecimalSI)
    }

    /// The format of a sum or difference: `self`'s, unless `self` is zero (Kubernetes' rule).
    fn combined_format(self, o: Quantity) -> Format {
        if self.is_zero() {
            o.format
        } else {
            self.format
        }
    }

    /// `self + o`, formatted like `self` unless `self` is zero, then like `o`.
    pub fn checked_add(self, o: Quantity) -> Result<Quantity, QuantityError> {
        let nanos = self.nanos.checked_add(o.nanos).ok_or(QuantityError::Overflow)?;
        Quantity::new(nanos, self.combined_format(o))
    }

    /// `self - o`, formatted like `self` unless `self` is zero, then like `o`.
    pub fn checked_sub(self, o: Quantity) -> Result<Quantity, QuantityError> {
        let nanos = self.nanos.checked_sub(o.nanos).ok_or(QuantityError::Overflow)?;
        Quantity::new(nanos, self.combined_format(o))
    }

    /// `self × k`, keeping `self`'s format.
    pub fn checked_mul_int(self, k: i64) -> Result<Quantity, QuantityError> {
        let nanos = self.nanos.checked_mul(i128::from(k)).ok_or(QuantityError::Overflow)?;
        Quantity::new(nanos, self.format)
    }

    /// `self × k` with `k` taken as its shortest decimal representation, exactly, then rounded
    /// up (away from zero) to a nano-unit; keeps `self`'s format. NaN and infinities are
    /// [`QuantityError::Invalid`].
    pub fn checked_mul_f64(self, k: f64) -> Result<Quantity, QuantityError> {
        if !k.is_finite() {
            return Err(QuantityError::Invalid(format!("{k}")));
        }
        if self.is_zero() || k == 0.0 {
            return Ok(Quantity { nanos: 0, format: self.format });
        }
        let text = format!("{}", k.abs());
        let magnitude = scaled_ceil(&text, self.nanos.checked_abs().ok_or(QuantityError::Overflow)?)?;
        let negative = (self.nanos < 0) != k.is_sign_negative();
        Quantity::new(signed(negative, magnitude)?, self.format)
    }

    /// `self ÷ k`, rounded up (toward +∞) to a nano-unit; keeps `self`'s format.
    pub fn checked_div_int(self, k: i64) -> Result<Quantity, QuantityError> {
        if k == 0 {
            return Err(QuantityError::DivisionByZero);
        }
        let k = i128::from(k);
        let quotient = self.nanos.checked_div(k).ok_or(QuantityError::Overflow)?;
        let remainder = self.nanos.checked_rem(k).ok_or(QuantityError::Overflow)?;
        // Truncation went toward zero; step up when the exact quotient is positive.
        let quotient =
            if remainder != 0 && (remainder > 0) == (k > 0) { quotient.checked_add(1).ok_or(QuantityError::Overflow)? } else { quotient };
        Quantity::new(quotient, self.format)
    }

    /// `self ÷ o` as a float (`1Gi.ratio(512Mi) == 2.0`), for the language's `/`.
    pub fn ratio(self, o: Quantity) -> Result<f64, QuantityError> {
        if o.is_zero() {
            return Err(QuantityError::DivisionByZero);
        }
        Ok(self.nanos as f64 / o.nanos as f64)
    }

    /// The value rounded up (away from zero) to a whole number of milli-units, keeping the
    /// format: `Quantity.RoundUp(-3)`, which kube-apiserver applies to every `ResourceList`
    /// value (`1n` → `1m`).
    pub fn round_up_milli(self) -> Quantity {
        const MILLI: u128 = 1_000_000;
        let magnitude = self.nanos.unsigned_abs();
        let below = magnitude.checked_rem(MILLI).unwrap_or(0);
        if below == 0 {
            return self;
        }
        let up = magnitude.saturating_sub(below).saturating_add(MILLI);
        // MAX_NANOS is a multiple of a milli-unit, so rounding up never leaves the range.
        match i128::try_from(up).map(|up| signed(self.nanos < 0, up)) {
            Ok(Ok(nanos)) => Quantity::new(nanos, self.format).unwrap_or(self),
            _ => self,
        }
    }

    /// The exact value in nano-units (`value = nanos × 10⁻⁹`), within `±i64::MAX × 10⁹`.
    pub fn nanos(self) -> i128 {
        self.nanos
    }

    /// True below zero.
    pub fn is_negative(self) -> bool {
        self.nanos < 0
    }

    /// Whether the value is zero.
    pub fn is_zero(self) -> bool {
        self.nanos == 0
    }

    /// Whether the quantity is binary-formatted (was written with `Ki`, `Mi`, ...).
    pub fn is_binary(self) -> bool {
        self.format == Format::BinarySI
    }

    /// The format the quantity renders in.
    pub fn format(self) -> Format {
        self.format
    }

    /// The value as the nearest `f64`.
    pub fn to_f64(self) -> f64 {
        let (whole, frac) = self.split_units();
        let sign = if self.nanos < 0 { "-" } else { "" };
        format!("{sign}{whole}.{frac:09}").parse::<f64>().unwrap_or(self.nanos as f64 / 1e9)
    }

    /// The value rounded up (toward +∞) to a whole number of units, e.g. a byte count.
    pub fn whole_units_ceil(self) -> i128 {
        let floor = self.nanos.checked_div_euclid(NANO).unwrap_or(0);
        if self.nanos.checked_rem_euclid(NANO).unwrap_or(0) > 0 {
            floor.saturating_add(1)
        } else {
            floor
        }
    }

    /// Magnitude split into whole units and the nano-units below one unit.
    fn split_units(self) -> (u128, u128) {
        let magnitude = self.nanos.unsigned_abs();
        let nano = NANO.unsigned_abs();
        (magnitude.checked_div(nano).unwrap_or(0), magnitude.checked_rem(nano).unwrap_or(0))
    }

    /// The canonical text of Kubernetes' `resource.Quantity.String()`.
    ///
    /// Zero is `0`. A binary quantity whose value is a whole number of magnitude at least 1024
    /// renders as `N` followed by the largest binary suffix that divides it (`1Gi`, `1536Mi`);
    /// otherwise the value renders as an integer mantissa and the largest power of ten, a
    /// multiple of three, that keeps it whole: with a suffix `n u m "" k M G T P E` (`500m`,
    /// `1500M`, `2`), or as `e<exponent>` when the quantity was written with an exponent (`1e3`).
    pub fn canonical(self) -> String {
        if self.nanos == 0 {
            return "0".to_string();
        }
        let sign = if self.nanos < 0 { "-" } else { "" };
        let (whole, frac) = self.split_units();
        if self.format == Format::BinarySI && frac == 0 && whole >= 1024 {
            let mut mantissa = whole;
            let mut power = 0_usize;
            while power.saturating_add(1) < BINARY_SUFFIXES.len() && mantissa.checked_rem(1024) == Some(0) {
                mantissa = mantissa.checked_div(1024).unwrap_or(mantissa);
                power = power.saturating_add(1);
            }
            let suffix = BINARY_SUFFIXES.get(power).copied().unwrap_or("");
            return format!("{sign}{mantissa}{suffix}");
        }
        // Decimal: strip trailing zeros off the nano-unit count, then give back zeros until the
        // exponent is a multiple of three.
        let digits = self.nanos.unsigned_abs().to_string();
        let trimmed = digits.trim_end_matches('0');
        let zeros = digits.len().saturating_sub(trimmed.len());
        let max_zeros = 27; // 10^(18 + 9): the `E` suffix.
        let zeros = zeros.min(max_zeros);
        let kept = zeros.saturating_sub(zeros % 3);
        let mantissa = digits.get(..digits.len().saturating_sub(kept)).unwrap_or(&digits);
        let exponent = i32::try_from(kept).unwrap_or(0).saturating_sub(9);
        if self.format == Format::DecimalExponent {
            return if exponent == 0 { format!("{sign}{mantissa}") } else { format!("{sign}{mantissa}e{exponent}") };
        }
        let suffix = DECIMAL_SUFFIXES.iter().find(|(_, e)| *e == exponent).map_or("", |(s, _)| *s);
        format!("{sign}{mantissa}{suffix}")
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Quantity) -> bool {
        self.nanos == other.nanos
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Quantity) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Quantity) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

impl Hash for Quantity {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.nanos.hash(state);
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;
    use std::collections::HashSet;

    fn q(text: &str) -> Quantity {
        Quantity::parse(text).unwrap_or_else(|e| panic!("parse {text:?}: {e}"))
    }

    fn canon(text: &str) -> String {
        q(text).canonical()
    }

    fn hash_of(x: Quantity) -> u64 {
        let mut h = DefaultHasher::new();
        x.hash(&mut h);
        h.finish()
    }

    #[test]
    fn canonical_binary() {
        assert_eq!(canon("1024Mi"), "1Gi");
        assert_eq!(canon("1536Mi"), "1536Mi");
        assert_eq!(canon("1.5Gi"), "1536Mi");
        assert_eq!(canon("2Ki"), "2Ki");
        assert_eq!(canon("0.5Ki"), "512");
        assert_eq!(canon("20Gi"), "20Gi");
        assert_eq!(canon("1Ki"), "1Ki");
        assert_eq!(canon("1025Ki"), "1025Ki");
        assert_eq!(canon("1048576Ki"), "1Gi");
        assert_eq!(canon("1Ei"), "1Ei");
        assert_eq!(canon("7Ei"), "7Ei");
        assert_eq!(canon("0Gi"), "0");
        assert_eq!(canon("-2Ki"), "-2Ki");
        assert_eq!(canon("-1Ki"), "-1Ki");
        assert_eq!(canon("-0.5Ki"), "-512");
        // Between -1024 and 1024: decimal.
        assert_eq!(canon("0.5Mi"), "512Ki");
        assert_eq!(canon("0.0009765625Ki"), "1");
        // Not whole: decimal.
        assert_eq!(canon("1.5Ki"), "1536");
        assert_eq!(canon("1024.5Ki"), "1049088");
        assert_eq!(canon("0.1Ki"), "102400m");
        assert_eq!(canon("1.0001Ki"), "1024102400u");
    }

    #[test]
    fn canonical_decimal() {
        assert_eq!(canon("2"), "2");
        assert_eq!(canon("0.5"), "500m");
        assert_eq!(canon("1000"), "1k");
        assert_eq!(canon("1500"), "1500");
        assert_eq!(canon("1.5G"), "1500M");
        assert_eq!(canon("2000m"), "2");
        assert_eq!(canon("0.0005"), "500u");
        assert_eq!(canon("40"), "40");
        assert_eq!(canon("100m"), "100m");
        assert_eq!(canon("1.5"), "1500m");
        assert_eq!(canon("0"), "0");
        assert_eq!(canon("0.000"), "0");
        assert_eq!(canon("-0"), "0");
        assert_eq!(canon("1n"), "1n");
        assert_eq!(canon("1500n"), "1500n");
        assert_eq!(canon("1u"), "1u");
        assert_eq!(canon("10u"), "10u");
        assert_eq!(canon("1000u"), "1m");
        assert_eq!(canon("12345678n"), "12345678n");
        assert_eq!(canon("1E"), "1E");
        assert_eq!(canon("9E"), "9E");
        assert_eq!(canon("1000P"), "1E");
        assert_eq!(canon("100M"), "100M");
        assert_eq!(canon("0.1k"), "100");
        assert_eq!(canon("-1500"), "-1500");
        assert_eq!(canon("-0.5"), "-500m");
        assert_eq!(canon("-1k"), "-1k");
        assert_eq!(canon("9223372036854775807"), "9223372036854775807");
        // Sub-nano precision rounds up, away from zero.
        assert_eq!(canon("0.0000000001"), "1n");
        assert_eq!(canon("1.0000000001"), "1000000001n");
        assert_eq!(canon("-0.0000000001"), "-1n");
        assert_eq!(canon("0.1n"), "1n");
        assert_eq!(canon("0.00000000010000000000000000000000000000000000000000"), "1n");
        assert_eq!(canon("0.0000000010000000000000000000000000000000000000000"), "1n");
        assert_eq!(canon("00012"), "12");
    }

    #[test]
    fn display_is_canonical() {
        assert_eq!(q("1536Mi").to_string(), "1536Mi");
        assert_eq!(format!("{}", q("0.5")), "500m");
    }

    #[test]
    fn from_parts_accepts_language_forms() {
        let x = Quantity::from_parts("1.5", "Gi").unwrap();
        assert!(x.is_binary());
        assert_eq!(x.canonical(), "1536Mi");
        assert_eq!(Quantity::from_parts("500", "m").unwrap().canonical(), "500m");
        assert_eq!(Quantity::from_parts("0.25", "").unwrap().canonical(), "250m");
        assert_eq!(Quantity::from_parts("20", "Gi").unwrap().canonical(), "20Gi");
        assert_eq!(Quantity::from_parts(".5", "").unwrap().canonical(), "500m");
        assert_eq!(Quantity::from_parts("5.", "k").unwrap().canonical(), "5k");
        for suffix in ["", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"] {
            let x = Quantity::from_parts("1", suffix).unwrap();
            assert_eq!(x.is_binary(), suffix.ends_with('i'), "{suffix}");
            assert_eq!(x.canonical(), format!("1{suffix}"));
        }
    }

    #[test]
    fn from_parts_errors() {
        assert_eq!(Quantity::from_parts("1", "n"), Err(QuantityError::Suffix("n".into())));
        assert_eq!(Quantity::from_parts("1", "u"), Err(QuantityError::Suffix("u".into())));
        assert_eq!(Quantity::from_parts("1", "K"), Err(QuantityError::Suffix("K".into())));
        assert_eq!(Quantity::from_parts("1", "ki"), Err(QuantityError::Suffix("ki".into())));
        assert_eq!(Quantity::from_parts("1", "min"), Err(QuantityError::Suffix("min".into())));
        for bad in ["", ".", "1.2.3", "-1", "+1", "1_000", "1e3", " 1", "x"] {
            assert_eq!(Quantity::from_parts(bad, "Mi"), Err(QuantityError::Invalid(format!("{bad}Mi"))), "{bad:?}");
        }
    }

    #[test]
    fn parse_forms() {
        assert_eq!(q("500m"), Quantity::from_parts("500", "m").unwrap());
        assert_eq!(q("+2").canonical(), "2");
        assert_eq!(q("-2").canonical(), "-2");
        assert!(q("1Mi").is_binary());
        assert!(!q("1M").is_binary());
        assert!(!q("1").is_binary());
        // Longest suffix: `Mi` is not `M` followed by garbage.
        assert_eq!(q("1Mi"), q("1048576"));
        assert_eq!(q("1Ei"), q("1152921504606846976"));
    }

    #[test]
    fn parse_errors() {
        assert_eq!(Quantity::parse("5x"), Err(QuantityError::Suffix("x".into())));
        assert_eq!(Quantity::parse("5min"), Err(QuantityError::Suffix("min".into())));
        assert_eq!(Quantity::parse("1Gi "), Err(QuantityError::Suffix("Gi ".into())));
        assert_eq!(Quantity::parse("1 Gi"), Err(QuantityError::Suffix(" Gi".into())));
        assert_eq!(Quantity::parse("--1"), Err(QuantityError::Suffix("-1".into())));
        assert_eq!(Quantity::parse("+-1"), Err(QuantityError::Suffix("-1".into())));
        for bad in ["", "abc", "1.2.3", "1..2Mi", " 1", "-x"] {
            assert_eq!(Quantity::parse(bad), Err(QuantityError::Invalid(bad.to_string())), "{bad:?}");
        }
    }

    #[test]
    fn parse_accepts_what_kubernetes_accepts() {
        // apimachinery reads a missing number as zero.
        for zero in ["-", "+", ".", "Gi", "-.Mi", "0e5", "0.000"] {
            assert_eq!(canon(zero), "0", "{zero:?}");
        }
        assert_eq!(q("1e3"), q("1k"));
        assert_eq!(q("1e3").format(), Format::DecimalExponent);
        assert_eq!(canon("1."), "1");
        assert_eq!(canon("1.G"), "1G");
        assert_eq!(canon(".001"), "1m");
    }

    #[test]
    fn parse_agrees_with_kubernetes_canonical_forms() {
        let table = [
            ("1000m", "1"),
            ("0.5", "500m"),
            ("1024Mi", "1Gi"),
            ("2048Ki", "2Mi"),
            ("1000M", "1G"),
            ("1024", "1024"),
            ("2000", "2k"),
            ("1023Ki", "1023Ki"),
            ("3.001n", "4n"),
            ("0.00000012345", "124n"),
            ("100.035k", "100035"),
            (".001Ki", "1024m"),
            (".000000000001Ki", "2n"),
            ("-1024Mi", "-1Gi"),
        ];
        for (input, want) in table {
            assert_eq!(canon(input), want, "{input}");
        }
    }

    #[test]
    fn exponent_forms_keep_exponent_notation() {
        // Kubernetes' TestQuantityString / TestQuantityParse: DecimalExponent renders as e<n>.
        let table = [
            ("1e3", "1e3"),
            ("1E6", "1e6"),
            ("1e9", "1e9"),
            ("1E-3", "1e-3"),
            ("12E-1", "1200e-3"),
            ("1.2e3", "1200"),
            ("1.3E+6", "1300e3"),
            ("1.1E-9", "2e-9"),
            ("0.5e-9", "1e-9"),
            ("80e-3", "80e-3"),
            ("300e6", "300e6"),
            ("1e14", "100e12"),
            ("-1e3", "-1e3"),
        ];
        for (input, want) in table {
            assert_eq!(canon(input), want, "{input}");
        }
        assert_eq!(Quantity::parse("1e2147483647"), Err(QuantityError::Overflow));
        assert_eq!(canon("1e-2147483647"), "1e-9");
        assert_eq!(canon(&format!("0.{}1", "0".repeat(5000))), "1n");
    }

    #[test]
    fn errors_carry_kubernetes_messages() {
        for bad in ["", "1.1.M", "1+1.0M", "aoeu", " 1", "1 ", "0.1am", "1Gi "] {
            let e = Quantity::parse(bad).err().map(|e| e.kubernetes_message());
            assert_eq!(e, Some(FORMAT_WRONG), "{bad:?}");
        }
        for bad in ["0.1mi", "-3.01e-", ".5i", "1i", "1e", "1K", "1Ki2", "1e4294967297", "--1"] {
            let e = Quantity::parse(bad).err().map(|e| e.kubernetes_message());
            assert_eq!(e, Some(SUFFIX_WRONG), "{bad:?}");
        }
        assert_eq!(
            QuantityError::Invalid(String::new()).kubernetes_message(),
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        );
        assert_eq!(
            QuantityError::Suffix("x2".into()).kubernetes_message(),
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        );
        assert_eq!(QuantityError::Suffix("K".into()).kubernetes_message(), "unable to parse quantity's suffix");
    }

    #[test]
    fn json_numbers_and_padded_strings() {
        let j = |v: serde_json::Value| Quantity::from_json(&v).map(Quantity::canonical);
        assert_eq!(j(serde_json::json!(1)).as_deref(), Ok("1"));
        assert_eq!(j(serde_json::json!(1.5)).as_deref(), Ok("1500m"));
        assert_eq!(j(serde_json::json!(2048)).as_deref(), Ok("2048"));
        assert_eq!(j(serde_json::json!(" 1Gi ")).as_deref(), Ok("1Gi"));
        assert_eq!(j(serde_json::json!(1e20)), Err(QuantityError::Overflow));
        assert!(matches!(j(serde_json::json!(true)), Err(QuantityError::Invalid(_))));
    }

    #[test]
    fn binary_values_cap_like_kubernetes() {
        assert_eq!(canon("9Ei"), "9223372036854775807");
        assert_eq!(canon("-9Ei"), "-9223372036854775807");
        assert_eq!(canon("1024Ei"), "9223372036854775807");
        assert_eq!(Quantity::parse("10E"), Err(QuantityError::Overflow));
        // Between zero and one, binary is decimal.
        assert_eq!(q("0.0001Ki").format(), Format::DecimalSI);
    }

    #[test]
    fn resource_lists_round_up_to_milli_units() {
        let r = |s: &str| q(s).round_up_milli().canonical();
        assert_eq!(r("1n"), "1m");
        assert_eq!(r("1500u"), "2m");
        assert_eq!(r("-1n"), "-1m");
        assert_eq!(r("1.5Gi"), "1536Mi");
        assert_eq!(r("250m"), "250m");
        assert_eq!(r("1e-6"), "1e-3");
    }

    #[test]
    fn error_messages() {
        assert_eq!(QuantityError::Overflow.to_string(), "quantity out of range");
        assert_eq!(QuantityError::Suffix("x".into()).to_string(), "unknown quantity suffix `x`");
        assert_eq!(QuantityError::Invalid("a".into()).to_string(), "`a` is not a valid quantity");
        assert_eq!(QuantityError::DivisionByZero.to_string(), "division by zero");
    }

    #[test]
    fn range_limits() {
        assert!(Quantity::parse("9223372036854775807").is_ok());
        assert!(Quantity::parse("-9223372036854775807").is_ok());
        assert_eq!(Quantity::parse("9223372036854775808"), Err(QuantityError::Overflow));
        assert_eq!(Quantity::parse("9223372036854775807.000000001"), Err(QuantityError::Overflow));
        // Rounding up past the limit overflows too.
        assert_eq!(Quantity::parse("9223372036854775807.0000000001"), Err(QuantityError::Overflow));
        assert!(Quantity::parse("7Ei").is_ok());
        // Literals do not cap (the parser does, as Kubernetes).
        assert_eq!(Quantity::from_parts("8", "Ei"), Err(QuantityError::Overflow));
        assert_eq!(Quantity::parse("10E"), Err(QuantityError::Overflow));
        assert_eq!(Quantity::from_parts("1024", "Ei"), Err(QuantityError::Overflow));
        assert_eq!(Quantity::parse(&format!("1{}", "0".repeat(500))), Err(QuantityError::Overflow));
        // Many leading zeros are fine.
        assert_eq!(canon(&format!("{}1Ki", "0".repeat(500))), "1Ki");
        assert_eq!(Quantity::from_int(i64::MAX).unwrap().canonical(), "9223372036854775807");
        assert_eq!(Quantity::from_int(i64::MIN), Err(QuantityError::Overflow));
        assert_eq!(Quantity::from_int(-i64::MAX).unwrap().canonical(), "-9223372036854775807");
    }

    #[test]
    fn overflow_in_arithmetic() {
        let big = q("4Ei");
        assert_eq!(big.checked_add(big), Err(QuantityError::Overflow));
        assert_eq!(big.checked_mul_int(i64::MAX), Err(QuantityError::Overflow));
        assert_eq!(big.checked_mul_int(2), Err(QuantityError::Overflow));
        assert_eq!(big.checked_mul_f64(2.0), Err(QuantityError::Overflow));
        assert_eq!(big.checked_mul_f64(1e300), Err(QuantityError::Overflow));
        assert_eq!(q("-4Ei").checked_sub(big), Err(QuantityError::Overflow));
        assert_eq!(q("-4Ei").checked_mul_int(-2), Err(QuantityError::Overflow));
        assert_eq!(q("7Ei").checked_mul_int(i64::MIN), Err(QuantityError::Overflow));
        assert_eq!(Quantity::from_f64(1e19), Err(QuantityError::Overflow));
        assert_eq!(Quantity::from_f64(-1e300), Err(QuantityError::Overflow));
        assert_eq!(big.checked_sub(big).unwrap().canonical(), "0");
        assert_eq!(big.checked_mul_int(1).unwrap(), big);
    }

    #[test]
    fn addition_and_subtraction() {
        assert_eq!(q("1Gi").checked_add(q("512Mi")).unwrap().canonical(), "1536Mi");
        assert_eq!(q("1Gi").checked_add(q("512Mi")).unwrap(), q("1536Mi"));
        assert_eq!(q("1Gi").checked_sub(q("512Mi")).unwrap().canonical(), "512Mi");
        assert_eq!(q("500m").checked_add(q("500m")).unwrap().canonical(), "1");
        assert_eq!(q("1").checked_sub(q("1500m")).unwrap().canonical(), "-500m");
        // Format comes from the left operand...
        assert_eq!(q("1").checked_add(q("1023")).unwrap().canonical(), "1024");
        assert_eq!(q("1Ki").checked_add(q("1024")).unwrap().canonical(), "2Ki");
        assert_eq!(q("1k").checked_add(q("1Ki")).unwrap().canonical(), "2024");
        // ...unless it is zero.
        assert_eq!(q("0").checked_add(q("2Ki")).unwrap().canonical(), "2Ki");
        assert_eq!(q("0").checked_sub(q("2Ki")).unwrap().canonical(), "-2Ki");
        assert_eq!(q("0Mi").checked_add(q("2048")).unwrap().canonical(), "2048");
        assert!(q("0Mi").checked_add(q("2048")).is_ok_and(|x| !x.is_binary()));
        assert!(q("1Mi").checked_sub(q("1Mi")).is_ok_and(|x| x.is_binary() && x.is_zero()));
    }

    #[test]
    fn multiplication() {
        assert_eq!(q("256Mi").checked_mul_int(2).unwrap().canonical(), "512Mi");
        assert_eq!(q("256Mi").checked_mul_int(4).unwrap().canonical(), "1Gi");
        assert_eq!(q("500m").checked_mul_int(3).unwrap().canonical(), "1500m");
        assert_eq!(q("500m").checked_mul_int(-3).unwrap().canonical(), "-1500m");
        assert_eq!(q("1Gi").checked_mul_int(0).unwrap().canonical(), "0");
        assert_eq!(q("1Gi").checked_mul_f64(1.5).unwrap().canonical(), "1536Mi");
        assert_eq!(q("1Gi").checked_mul_f64(0.5).unwrap().canonical(), "512Mi");
        assert_eq!(q("1").checked_mul_f64(0.1).unwrap().canonical(), "100m");
        assert_eq!(q("3").checked_mul_f64(0.1).unwrap().canonical(), "300m");
        assert_eq!(q("1n").checked_mul_f64(0.5).unwrap().canonical(), "1n");
        assert_eq!(q("1n").checked_mul_f64(-0.5).unwrap().canonical(), "-1n");
        assert_eq!(q("-1").checked_mul_f64(-0.25).unwrap().canonical(), "250m");
        assert_eq!(q("1").checked_mul_f64(1e-12).unwrap().canonical(), "1n");
        assert_eq!(q("1").checked_mul_f64(5e-324).unwrap().canonical(), "1n");
        assert_eq!(q("2Gi").checked_mul_f64(0.0).unwrap().canonical(), "0");
        assert_eq!(q("0").checked_mul_f64(1e300).unwrap().canonical(), "0");
        assert!(q("2Gi").checked_mul_f64(1.0).unwrap().is_binary());
        assert!(matches!(q("1").checked_mul_f64(f64::NAN), Err(QuantityError::Invalid(_))));
        assert!(matches!(q("1").checked_mul_f64(f64::INFINITY), Err(QuantityError::Invalid(_))));
    }

    #[test]
    fn division() {
        assert_eq!(q("1Gi").checked_div_int(2).unwrap().canonical(), "512Mi");
        assert_eq!(q("1").checked_div_int(3).unwrap().canonical(), "333333334n");
        assert_eq!(q("-1").checked_div_int(3).unwrap().canonical(), "-333333333n");
        assert_eq!(q("1").checked_div_int(-3).unwrap().canonical(), "-333333333n");
        assert_eq!(q("-1").checked_div_int(-3).unwrap().canonical(), "333333334n");
        assert_eq!(q("1500m").checked_div_int(3).unwrap().canonical(), "500m");
        assert_eq!(q("3Gi").checked_div_int(3).unwrap().canonical(), "1Gi");
        assert!(q("3Gi").checked_div_int(3).unwrap().is_binary());
        assert_eq!(q("1").checked_div_int(0), Err(QuantityError::DivisionByZero));
        assert_eq!(q("7Ei").checked_div_int(i64::MIN).unwrap().canonical(), "-875m");
    }

    #[test]
    fn ratio() {
        assert_eq!(q("1Gi").ratio(q("512Mi")), Ok(2.0));
        assert_eq!(q("500m").ratio(q("2")), Ok(0.25));
        assert_eq!(q("-1").ratio(q("4")), Ok(-0.25));
        assert_eq!(q("1").ratio(q("0Mi")), Err(QuantityError::DivisionByZero));
    }

    #[test]
    fn from_int_and_f64() {
        assert_eq!(Quantity::from_int(2).unwrap().canonical(), "2");
        assert_eq!(Quantity::from_int(1000).unwrap().canonical(), "1k");
        assert_eq!(Quantity::from_int(-1500).unwrap().canonical(), "-1500");
        assert_eq!(Quantity::from_int(2048).unwrap().canonical(), "2048");
        assert!(!Quantity::from_int(2048).unwrap().is_binary());
        assert_eq!(Quantity::from_f64(0.5).unwrap().canonical(), "500m");
        assert_eq!(Quantity::from_f64(0.1).unwrap().canonical(), "100m");
        assert_eq!(Quantity::from_f64(1.5).unwrap().canonical(), "1500m");
        assert_eq!(Quantity::from_f64(2.0).unwrap().canonical(), "2");
        assert_eq!(Quantity::from_f64(-0.25).unwrap().canonical(), "-250m");
        assert_eq!(Quantity::from_f64(-0.0).unwrap().canonical(), "0");
        assert_eq!(Quantity::from_f64(1e-10).unwrap().canonical(), "1n");
        assert_eq!(Quantity::from_f64(-1e-10).unwrap().canonical(), "-1n");
        assert_eq!(Quantity::from_f64(1.0000000001).unwrap().canonical(), "1000000001n");
        assert_eq!(Quantity::from_f64(1e18).unwrap().canonical(), "1E");
        assert_eq!(Quantity::from_f64(5e-324).unwrap().canonical(), "1n");
        assert_eq!(Quantity::from_f64(f64::NAN), Err(QuantityError::Invalid("NaN".into())));
        assert_eq!(Quantity::from_f64(f64::NEG_INFINITY), Err(QuantityError::Invalid("-inf".into())));
    }

    #[test]
    fn conversions() {
        assert_eq!(q("500m").to_f64(), 0.5);
        assert_eq!(q("-1.5Gi").to_f64(), -1610612736.0);
        assert_eq!(q("0.1").to_f64(), 0.1);
        assert_eq!(q("1n").to_f64(), 1e-9);
        assert_eq!(q("7Ei").to_f64(), 7.0 * 1152921504606846976.0);
        assert_eq!(q("0").to_f64(), 0.0);
        assert_eq!(q("100Gi").whole_units_ceil(), 107_374_182_400);
        assert_eq!(q("1500m").whole_units_ceil(), 2);
        assert_eq!(q("2").whole_units_ceil(), 2);
        assert_eq!(q("1n").whole_units_ceil(), 1);
        assert_eq!(q("-1500m").whole_units_ceil(), -1);
        assert_eq!(q("-2").whole_units_ceil(), -2);
        assert_eq!(q("0").whole_units_ceil(), 0);
        assert!(q("0Ki").is_zero());
        assert!(!q("1n").is_zero());
    }

    #[test]
    fn equality_ignores_format() {
        assert_eq!(q("1Gi"), q("1024Mi"));
        assert_eq!(q("1000m"), q("1"));
        assert_eq!(q("1Ki"), q("1024"));
        assert_eq!(q("0"), q("0Gi"));
        assert_ne!(q("1G"), q("1Gi"));
    }

    #[test]
    fn ordering() {
        let mut v = vec![q("1Gi"), q("1G"), q("-1"), q("500m"), q("0"), q("1Mi"), q("1n")];
        v.sort();
        let rendered: Vec<String> = v.into_iter().map(Quantity::canonical).collect();
        assert_eq!(rendered, ["-1", "0", "1n", "500m", "1Mi", "1G", "1Gi"]);
        assert!(q("1Gi") > q("1G"));
        assert!(q("999m") < q("1"));
        assert_eq!(q("1024Mi").cmp(&q("1Gi")), Ordering::Equal);
        assert_eq!(q("1024Mi").partial_cmp(&q("1Gi")), Some(Ordering::Equal));
        assert_eq!(q("1Gi").max(q("1000Mi")), q("1Gi"));
    }

    #[test]
    fn hashing_agrees_with_eq() {
        let equal_pairs = [("1Gi", "1024Mi"), ("1000m", "1"), ("0", "0Ki"), ("1Ki", "1024")];
        for (a, b) in equal_pairs {
            assert_eq!(q(a), q(b));
            assert_eq!(hash_of(q(a)), hash_of(q(b)), "{a} vs {b}");
        }
        let set: HashSet<Quantity> = ["1Gi", "1024Mi", "1073741824", "1G", "1000M"].into_iter().map(q).collect();
        assert_eq!(set.len(), 2);
    }
}
