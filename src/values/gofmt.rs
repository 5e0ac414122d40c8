//! How Go prints values: float64 with `%v` (strconv 'g' with shortest
//! precision) for templates and encoding/json's rules for `toJson`, and
//! strings with `%q`.

/// Shortest round-trip digits and decimal exponent of a finite, non-zero float:
/// `x = 0.d1d2d3... * 10^exp10`, returned as (digits, point position).
fn shortest_digits(x: f64) -> (String, i32) {
    digits_of(&format!("{:e}", x.abs()))
}

/// The digits and point position of Rust's `{:e}` of a positive float, the
/// shortest representation that round-trips at the float's own width.
fn digits_of(s: &str) -> (String, i32) {
    let (mant, exp) = s.split_once('e').expect("exponent in {:e} output");
    let exp: i32 = exp.parse().expect("numeric exponent");
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() {
        "0".to_string()
    } else {
        digits.to_string()
    };
    (digits, exp + 1)
}

fn exp_suffix(exp: i32, min_two_digits: bool) -> String {
    let sign = if exp < 0 { '-' } else { '+' };
    let a = exp.unsigned_abs();
    if min_two_digits && a < 10 {
        format!("e{sign}0{a}")
    } else {
        format!("e{sign}{a}")
    }
}

fn fixed(digits: &str, dp: i32) -> String {
    let nd = digits.len() as i32;
    if dp <= 0 {
        format!("0.{}{}", "0".repeat((-dp) as usize), digits)
    } else if dp >= nd {
        format!("{}{}", digits, "0".repeat((dp - nd) as usize))
    } else {
        format!("{}.{}", &digits[..dp as usize], &digits[dp as usize..])
    }
}

fn scientific(digits: &str, dp: i32, two_digit_exp: bool) -> String {
    let mut out = String::new();
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    out.push_str(&exp_suffix(dp - 1, two_digit_exp));
    out
}

/// Go's `strconv.FormatFloat(x, 'g', -1, 64)`, which is what `%v` uses.
pub fn go_float_g(x: f64) -> String {
    go_g(x, || shortest_digits(x))
}

/// Go's `strconv.FormatFloat(x, 'g', -1, 32)`: the shortest digits that
/// give back the same float32 (how sigs.k8s.io/yaml writes a float key).
pub fn go_float32_g(x: f32) -> String {
    go_g(x as f64, || digits_of(&format!("{:e}", x.abs())))
}

fn go_g(x: f64, digits: impl FnOnce() -> (String, i32)) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let (digits, dp) = digits();
    let exp = dp - 1;
    // Go's shortest 'g' switches to exponent form at 1e6 and below 1e-4.
    let body = if !(-4..6).contains(&exp) {
        scientific(&digits, dp, true)
    } else {
        fixed(&digits, dp)
    };
    signed(x, body)
}

/// Go encoding/json's float64 formatting (used by `toJson` and by Helm's
/// YAML output, which goes through JSON).
pub fn go_float_json(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    // encoding/json refuses these; callers report that, this only names them.
    if !x.is_finite() {
        return go_float_g(x);
    }
    let (digits, dp) = shortest_digits(x);
    let a = x.abs();
    let body = if !(1e-6..1e21).contains(&a) {
        // 'e' format, then Go trims "e-07" to "e-7".
        scientific(&digits, dp, false)
    } else {
        fixed(&digits, dp)
    };
    signed(x, body)
}

/// `body`, the digits of `x`'s magnitude, with `x`'s sign.
fn signed(x: f64, body: String) -> String {
    if x < 0.0 {
        format!("-{body}")
    } else {
        body
    }
}

/// Go's `%q` of a string.
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\u{0b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float32_keys() {
        assert_eq!(go_float32_g(0.1), "0.1");
        assert_eq!(go_float32_g(0.3), "0.3");
        assert_eq!(go_float32_g(123_456_792.0), "1.2345679e+08");
        assert_eq!(go_float32_g(1000.0), "1000");
        assert_eq!(go_float32_g(-0.0), "-0");
    }

    #[test]
    fn percent_v() {
        assert_eq!(go_float_g(1e6), "1e+06");
        assert_eq!(go_float_g(123456.0), "123456");
        assert_eq!(go_float_g(1234567.0), "1.234567e+06");
        assert_eq!(go_float_g(0.5), "0.5");
        assert_eq!(go_float_g(1e-6), "1e-06");
        assert_eq!(go_float_g(0.0001), "0.0001");
        assert_eq!(go_float_g(12345678901234567890.0), "1.2345678901234567e+19");
        assert_eq!(go_float_g(-2.5), "-2.5");
        assert_eq!(go_float_g(100.0), "100");
    }

    #[test]
    fn json() {
        assert_eq!(go_float_json(1e6), "1000000");
        assert_eq!(
            go_float_json(12345678901234567890.0),
            "12345678901234567000"
        );
        assert_eq!(go_float_json(1e-6), "0.000001");
        assert_eq!(go_float_json(1e-7), "1e-7");
        assert_eq!(go_float_json(1e21), "1e+21");
        assert_eq!(go_float_json(2.5), "2.5");
    }
}
