//! Kubernetes quantities in canonical form.
//!
//! Parsing follows `resource.ParseQuantity` (apimachinery `api/resource/quantity.go`): an
//! optional sign, digits with at most one `.`, then a suffix that is decimal SI (`n u m k M G T P
//! E`), binary SI (`Ki Mi Gi Ti Pi Ei`) or a decimal exponent (`e3`, `E-1`, `e+6`). Rendering
//! follows `Quantity.String()`: binary values keep a binary suffix when they are whole and at
//! least 1024 in magnitude, exponent-written values keep exponent form (`1e3` stays `1e3`,
//! `12E-1` is `1200e-3`), everything else is decimal SI (`1000m` is `1`, `0.5` is `500m`).
//!
//! The arithmetic is [`cairn_compiler::quantity::Quantity`]'s (exact nano-units, rounded up).
//! Binary values past `i64::MAX` are capped there as Kubernetes caps them; decimal values past it
//! are an error here ([`QuantityError::Overflow`]) where Kubernetes keeps arbitrary precision.

use std::cmp::Ordering;
use std::fmt;

use cairn_compiler::quantity::{Quantity as Exact, QuantityError as ExactError};
use serde_json::Value;

/// Why a quantity does not parse. The messages are Kubernetes' own (`ErrFormatWrong`,
/// `ErrNumeric`, `ErrSuffix`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The text is not a number followed by a suffix.
    #[error("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    FormatWrong,
    /// The number part does not parse.
    #[error("unable to parse numeric part of quantity")]
    Numeric,
    /// The suffix is not one Kubernetes knows.
    #[error("unable to parse quantity's suffix")]
    Suffix,
    /// A decimal value larger than `i64::MAX` units (Kubernetes would accept it).
    #[error("quantity out of range")]
    Overflow,
}

/// How a quantity was written, which decides how it renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `Ki`, `Mi`, ... (`BinarySI`).
    BinarySI,
    /// No suffix or `n u m k M G T P E` (`DecimalSI`).
    DecimalSI,
    /// `e<exponent>` or `E<exponent>` (`DecimalExponent`).
    DecimalExponent,
}

/// A parsed quantity: an exact value and the format it renders in. Equality and ordering look
/// at the value only (`1Gi == 1024Mi`).
#[derive(Debug, Clone, Copy)]
pub struct Quantity {
    value: Exact,
    format: Format,
}

impl Quantity {
    /// The exact value.
    pub fn value(&self) -> Exact {
        self.value
    }

    /// The format the quantity renders in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.value.is_zero()
    }

    /// Whether the value is below zero.
    pub fn is_negative(&self) -> bool {
        self.value.is_negative()
    }

    /// The value rounded up (away from zero) to a whole number of milli-units, keeping the
    /// format: `Quantity.RoundUp(-3)`, which kube-apiserver applies to every `ResourceList`
    /// value (`1n` → `1m`).
    pub fn round_up_milli(&self) -> Quantity {
        let magnitude = if self.value.is_negative() { self.value.checked_mul_int(-1) } else { Ok(self.value) };
        let Ok(milli) = magnitude.and_then(|m| m.checked_mul_int(1000)).map(Exact::whole_units_ceil) else { return *self };
        let sign = if self.value.is_negative() { "-" } else { "" };
        match Exact::parse(&format!("{sign}{milli}m")) {
            Ok(rounded) if rounded == self.value => *self,
            Ok(rounded) => Quantity { value: rounded, format: self.format },
            Err(_) => *self,
        }
    }

    /// The text of Kubernetes' `Quantity.String()`: `1Gi`, `1536Mi`, `500m`, `1e3`.
    pub fn canonical(&self) -> String {
        if self.value.is_zero() {
            return "0".to_owned();
        }
        let text = self.value.canonical();
        if self.format != Format::DecimalExponent {
            return text;
        }
        // The exact value was built decimal, so its canonical form is a mantissa and an SI
        // suffix whose exponent is a multiple of three; exponent form writes that exponent out.
        let split = text.find(|c: char| !(c.is_ascii_digit() || c == '-')).unwrap_or(text.len());
        let (mantissa, suffix) = text.split_at(split);
        match decimal_suffix_exponent(suffix) {
            Some(0) | None => mantissa.to_owned(),
            Some(exp) => format!("{mantissa}e{exp}"),
        }
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Quantity) -> bool {
        self.value == other.value
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
        self.value.cmp(&other.value)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

const DECIMAL_SUFFIXES: [(&str, i32); 10] =
    [("n", -9), ("u", -6), ("m", -3), ("", 0), ("k", 3), ("M", 6), ("G", 9), ("T", 12), ("P", 15), ("E", 18)];
const BINARY_SUFFIXES: [&str; 6] = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

fn decimal_suffix_exponent(suffix: &str) -> Option<i32> {
    DECIMAL_SUFFIXES.iter().find(|(s, _)| *s == suffix).map(|(_, e)| *e)
}

/// The pieces `parseQuantityString` splits a quantity into.
struct Pieces<'a> {
    positive: bool,
    num: &'a str,
    denom: &'a str,
    suffix: &'a str,
}

/// A port of apimachinery's `parseQuantityString`, byte for byte.
fn split_quantity(s: &str) -> Result<Pieces<'_>, QuantityError> {
    let bytes = s.as_bytes();
    let end = bytes.len();
    let mut pieces = Pieces { positive: true, num: "0", denom: "", suffix: "" };
    let mut pos = 0;
    match bytes.first() {
        Some(b'-') => {
            pieces.positive = false;
            pos = 1;
        }
        Some(b'+') => pos = 1,
        _ => {}
    }
    // Leading zeros.
    while pos < end && bytes.get(pos) == Some(&b'0') {
        pos += 1;
    }
    if pos >= end {
        return Ok(pieces);
    }
    // Numerator.
    let start = pos;
    while pos < end && bytes.get(pos).is_some_and(u8::is_ascii_digit) {
        pos += 1;
    }
    let num = s.get(start..pos).unwrap_or("");
    pieces.num = if num.is_empty() { "0" } else { num };
    if pos >= end {
        return Ok(pieces);
    }
    // Denominator.
    if bytes.get(pos) == Some(&b'.') {
        pos += 1;
        let start = pos;
        while pos < end && bytes.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        pieces.denom = s.get(start..pos).unwrap_or("");
        if pos >= end {
            return Ok(pieces);
        }
    }
    // Suffix: letters from the set, an optional sign, digits, then the end.
    let suffix_start = pos;
    while pos < end && bytes.get(pos).is_some_and(|b| b"eEinumkKMGTP".contains(b)) {
        pos += 1;
    }
    if pos < end && matches!(bytes.get(pos), Some(b'-') | Some(b'+')) {
        pos += 1;
    }
    while pos < end && bytes.get(pos).is_some_and(u8::is_ascii_digit) {
        pos += 1;
    }
    if pos < end {
        return Err(QuantityError::FormatWrong);
    }
    pieces.suffix = s.get(suffix_start..).unwrap_or("");
    Ok(pieces)
}

/// How a suffix scales the number (`suffixHandler.interpret`).
enum Scale<'a> {
    Decimal(&'a str),
    Binary(&'a str),
    Exponent(i64),
}

fn interpret_suffix(suffix: &str) -> Result<Scale<'_>, QuantityError> {
    if decimal_suffix_exponent(suffix).is_some() {
        return Ok(Scale::Decimal(suffix));
    }
    if BINARY_SUFFIXES.contains(&suffix) {
        return Ok(Scale::Binary(suffix));
    }
    let mut chars = suffix.chars();
    if suffix.len() > 1 && matches!(chars.next(), Some('e') | Some('E')) {
        let rest = chars.as_str();
        let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(exp) = rest.parse::<i64>() {
                if exp.unsigned_abs() <= u64::from(i32::MAX.unsigned_abs()) {
                    return Ok(Scale::Exponent(exp));
                }
            }
        }
    }
    Err(QuantityError::Suffix)
}

/// `num.denom × 10^exp` as a plain decimal string, bounded so that absurd exponents cannot
/// allocate: anything past the range overflows, anything far below a nano-unit becomes a tiny
/// non-zero value that rounds up to one nano-unit like Kubernetes'.
fn shift_decimal(num: &str, denom: &str, exp: i64) -> Result<String, QuantityError> {
    let digits = format!("{num}{denom}");
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Ok("0".to_owned());
    }
    let leading_zeros = digits.len() - significant.len();
    // Position of the decimal point within `significant`.
    let point = i64::try_from(num.len()).unwrap_or(i64::MAX).saturating_sub(i64::try_from(leading_zeros).unwrap_or(0)).saturating_add(exp);
    if point > 40 {
        return Err(QuantityError::Overflow);
    }
    if point < -30 {
        return Ok("0.000000000000000000000000000000001".to_owned());
    }
    let len = i64::try_from(significant.len()).unwrap_or(i64::MAX);
    Ok(if point <= 0 {
        format!("0.{}{significant}", "0".repeat(usize::try_from(-point).unwrap_or(0)))
    } else if point >= len {
        format!("{significant}{}", "0".repeat(usize::try_from(point - len).unwrap_or(0)))
    } else {
        let (int, frac) = significant.split_at(usize::try_from(point).unwrap_or(0));
        format!("{int}.{frac}")
    })
}

fn exact_error(e: ExactError) -> QuantityError {
    match e {
        ExactError::Overflow => QuantityError::Overflow,
        ExactError::Suffix(_) => QuantityError::Suffix,
        ExactError::Invalid(_) | ExactError::DivisionByZero => QuantityError::Numeric,
    }
}

/// Parses a quantity as `resource.ParseQuantity` does: no surrounding whitespace, `1e3`,
/// `12E-1`, `+1.5Gi`, `.5`, `1.` and even `.` (zero) are all accepted.
pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
    if text.is_empty() {
        return Err(QuantityError::FormatWrong);
    }
    let pieces = split_quantity(text)?;
    let scale = interpret_suffix(pieces.suffix)?;
    let sign = if pieces.positive { "" } else { "-" };
    let number = if pieces.denom.is_empty() { pieces.num.to_owned() } else { format!("{}.{}", pieces.num, pieces.denom) };
    let (built, format) = match scale {
        Scale::Decimal(suffix) => (Exact::parse(&format!("{sign}{number}{suffix}")), Format::DecimalSI),
        Scale::Binary(suffix) => {
            let built = match Exact::parse(&format!("{sign}{number}{suffix}")) {
                // Kubernetes caps binary quantities at i64::MAX units.
                Err(ExactError::Overflow) => Exact::from_int(if pieces.positive { i64::MAX } else { -i64::MAX }),
                other => other,
            };
            (built, Format::BinarySI)
        }
        Scale::Exponent(exp) => {
            let shifted = shift_decimal(pieces.num, pieces.denom, exp)?;
            (Exact::parse(&format!("{sign}{shifted}")), Format::DecimalExponent)
        }
    };
    let value = built.map_err(exact_error)?;
    Ok(Quantity { value, format })
}

/// The canonical text of a quantity sent as a JSON string: surrounding whitespace is trimmed
/// first, as `Quantity.UnmarshalJSON` does (`"1024Mi"` → `1Gi`, `"0.5"` → `500m`).
pub fn canonical(text: &str) -> Result<String, QuantityError> {
    parse(text.trim()).map(|q| q.canonical())
}

/// The canonical text of a quantity given as a JSON string or number (`cpu: 1`,
/// `memory: 1.5`). Other JSON types are [`QuantityError::FormatWrong`].
pub fn canonical_value(value: &Value) -> Result<String, QuantityError> {
    match value {
        Value::String(s) => canonical(s),
        Value::Number(n) => canonical(&n.to_string()),
        _ => Err(QuantityError::FormatWrong),
    }
}

/// Parses a quantity given as a JSON string or number.
pub fn parse_value(value: &Value) -> Result<Quantity, QuantityError> {
    match value {
        Value::String(s) => parse(s.trim()),
        Value::Number(n) => parse(&n.to_string()),
        _ => Err(QuantityError::FormatWrong),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(s: &str) -> String {
        canonical(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn canonical_table() {
        let table = [
            ("1000m", "1"),
            ("0.5", "500m"),
            ("1024Mi", "1Gi"),
            ("1536Mi", "1536Mi"),
            ("2048Ki", "2Mi"),
            ("100M", "100M"),
            ("1.5Gi", "1536Mi"),
            ("0.1", "100m"),
            ("1Ki", "1Ki"),
            ("1000M", "1G"),
            ("1024", "1024"),
            ("2000", "2k"),
            ("0.5Ki", "512"),
            ("1023Ki", "1023Ki"),
            ("0", "0"),
            ("0Gi", "0"),
            ("-0.5", "-500m"),
            ("+2", "2"),
            ("1.", "1"),
            ("1.G", "1G"),
            (".001", "1m"),
            (".", "0"),
            ("3.001n", "4n"),
            ("0.00000012345", "124n"),
            ("100.035k", "100035"),
            (".001Ki", "1024m"),
            (".000000000001Ki", "2n"),
            ("-1024", "-1024"),
            ("-1024Mi", "-1Gi"),
            ("300Mi", "300Mi"),
            ("6Ki", "6Ki"),
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
            ("0e5", "0"),
        ];
        for (input, want) in table {
            assert_eq!(canon(input), want, "{input}");
        }
        assert_eq!(parse("1e3").map(|q| q.format()), Ok(Format::DecimalExponent));
        assert_eq!(parse("1e3"), parse("1k"));
    }

    #[test]
    fn errors_carry_kubernetes_messages() {
        for bad in ["", "1.1.M", "1+1.0M", "aoeu", " 1", "1 ", "0.1am", "1Gi "] {
            assert_eq!(parse(bad), Err(QuantityError::FormatWrong), "{bad:?}");
        }
        for bad in ["0.1mi", "-3.01e-", ".5i", "1i", "1e", "1K", "1Ki2", "1e4294967297"] {
            assert_eq!(parse(bad), Err(QuantityError::Suffix), "{bad:?}");
        }
        assert_eq!(
            QuantityError::FormatWrong.to_string(),
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        );
        assert_eq!(QuantityError::Suffix.to_string(), "unable to parse quantity's suffix");
    }

    #[test]
    fn json_numbers_and_padded_strings_are_canonicalised() {
        assert_eq!(canonical_value(&json!(1)).as_deref(), Ok("1"));
        assert_eq!(canonical_value(&json!(1.5)).as_deref(), Ok("1500m"));
        assert_eq!(canonical_value(&json!(0.25)).as_deref(), Ok("250m"));
        assert_eq!(canonical_value(&json!(2048)).as_deref(), Ok("2048"));
        assert_eq!(canonical_value(&json!(" 1Gi ")).as_deref(), Ok("1Gi"));
        assert_eq!(canonical_value(&json!(true)), Err(QuantityError::FormatWrong));
    }

    #[test]
    fn binary_values_cap_and_extremes_do_not_panic() {
        assert_eq!(canon("9Ei"), "9223372036854775807");
        assert_eq!(canon("-9Ei"), "-9223372036854775807");
        assert_eq!(parse("10E"), Err(QuantityError::Overflow));
        assert_eq!(parse("1e2147483647"), Err(QuantityError::Overflow));
        assert_eq!(canon("1e-2147483647"), "1e-9");
        assert_eq!(canon(&format!("0.{}1", "0".repeat(5000))), "1n");
    }

    #[test]
    fn resource_lists_round_up_to_milli_units() {
        let r = |s: &str| parse(s).map(|q| q.round_up_milli().canonical());
        assert_eq!(r("1n").as_deref(), Ok("1m"));
        assert_eq!(r("1500u").as_deref(), Ok("2m"));
        assert_eq!(r("-1n").as_deref(), Ok("-1m"));
        assert_eq!(r("1.5Gi").as_deref(), Ok("1536Mi"));
        assert_eq!(r("250m").as_deref(), Ok("250m"));
        assert_eq!(r("1e-6").as_deref(), Ok("1e-3"));
    }

    #[test]
    fn comparison_is_by_value() {
        let q = |s: &str| parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(q("1Gi"), q("1024Mi"));
        assert!(q("1Gi") > q("1G"));
        assert!(q("500m") < q("1"));
        assert!(q("-1").is_negative());
        assert!(q("0Mi").is_zero());
    }
}
