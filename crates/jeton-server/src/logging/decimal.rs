//! Floats with at most three decimals, written without the standard library's float
//! formatting: the request line's `latency_ms` is one (microseconds, as milliseconds), and
//! `f64`'s shortest-representation formatting was about 560 instructions of each logged
//! request (issue 13).
//!
//! For such a value, the shortest decimal that reads back as the same `f64` is the value's own
//! three decimals with trailing zeros dropped: below 10⁹ two such decimals lie at least 0.001
//! apart, far more than the spacing of `f64`s there, so no shorter one reads back the same. So
//! the digits written here are the ones `{:?}` and `{}` would write; anything else is left to
//! them (`None`).

/// Below this, every three-decimal value has its own `f64`, and `{:?}` writes no exponent.
const LIMIT: f64 = 1e9;

/// `value` as `{:?}` (`debug`, always with a fraction: `2.0`) or `{}` (`2`) would write it,
/// appended to `out`, when it has at most three decimals, is not negative and is below 10⁹;
/// `None` (nothing written) otherwise.
pub(super) fn push_millis(out: &mut String, value: f64, debug: bool) -> Option<()> {
    if !(value.is_sign_positive() && value < LIMIT) {
        return None;
    }
    let thousandths = (value * 1000.0).round();
    if thousandths / 1000.0 != value {
        return None;
    }
    // Exact: below 10¹², well inside the integers an `f64` holds.
    let thousandths = thousandths as u64;
    let (whole, frac) = (thousandths / 1000, thousandths % 1000);
    out.push_str(itoa::Buffer::new().format(whole));
    if frac != 0 {
        let digits = [frac / 100, frac / 10 % 10, frac % 10];
        let kept = if digits[2] != 0 {
            3
        } else if digits[1] != 0 {
            2
        } else {
            1
        };
        out.push('.');
        for d in &digits[..kept] {
            out.push(char::from(b'0' + *d as u8));
        }
    } else if debug {
        out.push_str(".0");
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn both(value: f64) -> Option<(String, String)> {
        let (mut d, mut s) = (String::new(), String::new());
        push_millis(&mut d, value, true)?;
        push_millis(&mut s, value, false)?;
        Some((d, s))
    }

    #[test]
    fn the_usual_latencies() {
        for (v, debug, display) in [
            (0.0, "0.0", "0"),
            (0.001, "0.001", "0.001"),
            (0.1, "0.1", "0.1"),
            (0.125, "0.125", "0.125"),
            (2.0, "2.0", "2"),
            (1234.56, "1234.56", "1234.56"),
        ] {
            assert_eq!(both(v), Some((debug.to_owned(), display.to_owned())), "{v}");
        }
        for v in [
            -0.0,
            -1.0,
            0.0001,
            0.1234,
            1e9,
            1e20,
            f64::NAN,
            f64::INFINITY,
        ] {
            assert_eq!(both(v), None, "{v}");
        }
    }

    proptest! {
        /// Every value with at most three decimals below the limit: the standard library's
        /// digits exactly.
        #[test]
        fn three_decimals_are_written_as_std_writes_them(thousandths in 0u64..1_000_000_000_000) {
            let v = thousandths as f64 / 1000.0;
            prop_assert_eq!(both(v), Some((format!("{v:?}"), format!("{v}"))));
        }

        /// A latency as the server computes it, from any duration.
        #[test]
        fn latencies_are_written_as_std_writes_them(secs in 0.0f64..1e5) {
            let v = (secs * 1e6).round() / 1e3;
            prop_assert_eq!(both(v), Some((format!("{v:?}"), format!("{v}"))));
        }

        /// Any other value: written as the standard library writes it, or left to it.
        #[test]
        fn any_float_is_written_as_std_writes_it_or_not_at_all(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            if let Some((debug, display)) = both(v) {
                prop_assert_eq!(debug, format!("{v:?}"));
                prop_assert_eq!(display, format!("{v}"));
            }
        }
    }
}
