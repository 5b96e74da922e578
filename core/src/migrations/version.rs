//! Ordering migrations: natural (numeric-aware) order for names, numeric order for versions,
//! so `V10` comes after `V2` and `10_x.sql` after `9_x.sql`.

use std::cmp::Ordering;

/// Compare two names with runs of digits compared as numbers (`a2` < `a10`).
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let n = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let m = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let ord = compare_digits(&x[..n], &y[..m]);
                if ord != Ordering::Equal {
                    return ord;
                }
                x = &x[n..];
                y = &y[m..];
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

/// Digit strings of any length as numbers (leading zeros ignored).
fn compare_digits(a: &[u8], b: &[u8]) -> Ordering {
    let trim = |s: &[u8]| -> usize { s.iter().take_while(|c| **c == b'0').count() };
    let (a, b) = (&a[trim(a)..], &b[trim(b)..]);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Compare dotted versions part by part as numbers (`1.10` > `1.9`, `2` = `2.0`).
pub fn version_cmp(a: &str, b: &str) -> Ordering {
    let parts = |v: &str| -> Vec<String> { v.split(['.', '_', '-']).map(|p| p.to_string()).collect() };
    let (pa, pb) = (parts(a), parts(b));
    for i in 0..pa.len().max(pb.len()) {
        let x = pa.get(i).map(String::as_str).unwrap_or("0");
        let y = pb.get(i).map(String::as_str).unwrap_or("0");
        let ord = if x.bytes().all(|c| c.is_ascii_digit()) && y.bytes().all(|c| c.is_ascii_digit()) {
            compare_digits(x.as_bytes(), y.as_bytes())
        } else {
            natural_cmp(x, y)
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbers_order_as_numbers() {
        let mut names = vec!["V10__c.sql", "V2__b.sql", "V1__a.sql", "10_x.sql", "9_x.sql"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(names, ["9_x.sql", "10_x.sql", "V1__a.sql", "V2__b.sql", "V10__c.sql"]);
        assert_eq!(version_cmp("1.10", "1.9"), Ordering::Greater);
        assert_eq!(version_cmp("2", "2.0"), Ordering::Equal);
        assert_eq!(version_cmp("2_1", "2.1"), Ordering::Equal);
        assert_eq!(natural_cmp("0009_x", "10_x"), Ordering::Less);
    }

    proptest! {
        #[test]
        fn natural_order_is_numeric_order_for_numbers(a in 0u64..1_000_000, b in 0u64..1_000_000) {
            prop_assert_eq!(natural_cmp(&format!("V{a}__x.sql"), &format!("V{b}__x.sql")), a.cmp(&b).then(Ordering::Equal));
            prop_assert_eq!(version_cmp(&a.to_string(), &b.to_string()), a.cmp(&b));
        }
    }
}
