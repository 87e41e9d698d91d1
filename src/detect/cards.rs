//! Payment card numbers: the issuer identification number (IIN) ranges and the lengths
//! each network issues, as the networks publish them and ISO/IEC 7812's register lists
//! them (the table of the "Payment card number" reference, 2025), plus the Luhn check.
//!
//! A number is a card when its digits pass Luhn, open with an IIN of the table and have
//! a length that IIN issues. Ranges that cover much of the number space (a one- or
//! two-digit prefix beside other networks, 12–15-digit Maestro, UATP's `1`) and long
//! unseparated runs (17–19 digits, the length of database and snowflake ids) are
//! *weak*: they count only next to a word that names a card. Published test numbers
//! (repeated digits or digit groups) are not reported.

/// One IIN range: prefixes `lo..=hi` (all of the same number of digits), the lengths
/// issued (bit `n` set for `n` digits), whether the entry alone is weak evidence.
struct Iin {
    lo: u32,
    hi: u32,
    lengths: u32,
    weak: bool,
    network: &'static str,
}

const fn lens(from: u32, to: u32) -> u32 {
    let mut m = 0;
    let mut n = from;
    while n <= to {
        m |= 1 << n;
        n += 1;
    }
    m
}

const fn iin(lo: u32, hi: u32, lengths: u32, network: &'static str) -> Iin {
    Iin {
        lo,
        hi,
        lengths,
        weak: false,
        network,
    }
}

const fn weak(lo: u32, hi: u32, lengths: u32, network: &'static str) -> Iin {
    Iin {
        weak: true,
        ..iin(lo, hi, lengths, network)
    }
}

const L16: u32 = 1 << 16;

/// The IIN table. Where networks share a range (Discover and RuPay on 65, Visa and
/// Elo on some 4xxxxx), any matching entry accepts the number.
const IINS: &[Iin] = &[
    iin(4, 4, L16 | 1 << 19, "visa"),
    weak(4, 4, 1 << 13, "visa"), // 13 digits: no longer issued
    iin(51, 55, L16, "mastercard"),
    iin(2221, 2720, L16, "mastercard"),
    iin(34, 34, 1 << 15, "amex"),
    iin(37, 37, 1 << 15, "amex"),
    iin(300, 305, lens(14, 19), "diners"),
    iin(309, 309, lens(14, 19), "diners"),
    iin(36, 36, lens(14, 19), "diners"),
    iin(38, 39, lens(14, 19), "diners"),
    iin(3528, 3589, lens(15, 19), "jcb"),
    iin(2131, 2131, lens(15, 19), "jcb"),
    iin(1800, 1800, lens(15, 19), "jcb"),
    iin(6011, 6011, lens(16, 19), "discover"),
    iin(644, 649, lens(16, 19), "discover"),
    iin(65, 65, lens(16, 19), "discover"),
    iin(62, 62, lens(16, 19), "unionpay"),
    weak(81, 81, lens(16, 19), "unionpay"),
    weak(31, 31, 1 << 19, "china-t-union"),
    iin(5018, 5018, lens(16, 19), "maestro"),
    iin(5020, 5020, lens(16, 19), "maestro"),
    iin(5038, 5038, lens(16, 19), "maestro"),
    iin(5893, 5893, lens(16, 19), "maestro"),
    iin(6304, 6304, lens(16, 19), "maestro"),
    iin(6759, 6759, lens(16, 19), "maestro"),
    iin(6761, 6763, lens(16, 19), "maestro"),
    iin(676770, 676770, lens(16, 19), "maestro"),
    iin(676774, 676774, lens(16, 19), "maestro"),
    weak(5018, 5018, lens(12, 15), "maestro"),
    weak(5020, 5020, lens(12, 15), "maestro"),
    weak(5038, 5038, lens(12, 15), "maestro"),
    weak(5893, 5893, lens(12, 15), "maestro"),
    weak(6304, 6304, lens(12, 15), "maestro"),
    weak(6759, 6759, lens(12, 15), "maestro"),
    weak(6761, 6763, lens(12, 15), "maestro"),
    iin(5019, 5019, L16, "dankort"),
    iin(2200, 2204, lens(16, 19), "mir"),
    iin(2205, 2205, L16, "borica"),
    iin(9792, 9792, L16, "troy"),
    weak(1, 1, 1 << 15, "uatp"),
    iin(506099, 506198, L16 | 1 << 18 | 1 << 19, "verve"),
    iin(507865, 507964, L16 | 1 << 18 | 1 << 19, "verve"),
    iin(650002, 650027, L16 | 1 << 18 | 1 << 19, "verve"),
    weak(60, 60, L16, "rupay"),
    weak(81, 82, L16, "rupay"),
    iin(508, 508, L16, "rupay"),
    iin(636, 636, lens(16, 19), "interpayment"),
    iin(637, 639, L16, "instapayment"),
    iin(6706, 6706, lens(16, 19), "laser"),
    iin(6709, 6709, lens(16, 19), "laser"),
    iin(6771, 6771, lens(16, 19), "laser"),
    iin(8600, 8600, L16, "uzcard"),
    iin(9860, 9860, L16, "humo"),
    iin(9704, 9704, L16 | 1 << 19, "napas"),
    iin(1946, 1946, L16 | 1 << 18 | 1 << 19, "gpn"),
    weak(50, 50, L16 | 1 << 18 | 1 << 19, "gpn"),
    weak(56, 56, L16 | 1 << 18 | 1 << 19, "gpn"),
    weak(58, 58, L16 | 1 << 18 | 1 << 19, "gpn"),
    weak(60, 63, L16 | 1 << 18 | 1 << 19, "gpn"),
    iin(504175, 504175, L16, "elo"),
    iin(506699, 506778, L16, "elo"),
    iin(509000, 509999, L16, "elo"),
    iin(627780, 627780, L16, "elo"),
    iin(636297, 636297, L16, "elo"),
    iin(636368, 636368, L16, "elo"),
    iin(606282, 606282, L16 | 1 << 19, "hipercard"),
    iin(384100, 384100, L16 | 1 << 19, "hipercard"),
    iin(384140, 384140, L16 | 1 << 19, "hipercard"),
    iin(384160, 384160, L16 | 1 << 19, "hipercard"),
    iin(60400100, 60420099, lens(16, 19), "ukrcard"),
    iin(6054740, 6054744, L16, "nps-pridnestrovie"),
];

/// Words that name a card, any of which in the text just before a number makes weak
/// evidence enough (matched as whole words, case-insensitively).
const CARD_WORDS: &[&str] = &[
    "card",
    "cards",
    "cc",
    "ccn",
    "pan",
    "visa",
    "mastercard",
    "maestro",
    "amex",
    "jcb",
    "unionpay",
    "diners",
    "discover",
    "mir",
    "troy",
    "uatp",
    "rupay",
    "elo",
    "verve",
    "dankort",
    "karte",
    "kartennummer",
    "kart",
    "tarjeta",
    "carte",
    "cartão",
    "carta",
    "kaart",
    "kortnummer",
    "payment",
    "debit",
    "credit",
];

/// The table as (network, first prefix, last prefix, lengths issued, weak), for tests
/// and `--list-rules`-style listings.
pub fn table() -> impl Iterator<Item = (&'static str, u32, u32, Vec<usize>, bool)> {
    IINS.iter().map(|e| {
        let lengths = (12..=19).filter(|&n| e.lengths & (1 << n) != 0).collect();
        (e.network, e.lo, e.hi, lengths, e.weak)
    })
}

fn digit_prefix(d: &[u8], k: usize) -> u32 {
    d[..k].iter().fold(0, |a, &x| a * 10 + x as u32)
}

fn digit_count(mut x: u32) -> usize {
    let mut n = 1;
    while x >= 10 {
        x /= 10;
        n += 1;
    }
    n
}

/// The network whose IIN and lengths fit the digits, and whether that is only weak
/// evidence (the strongest entry wins).
pub fn network(d: &[u8]) -> Option<(&'static str, bool)> {
    let n = d.len();
    if !(12..=19).contains(&n) {
        return None;
    }
    let mut best: Option<(&'static str, bool)> = None;
    for e in IINS {
        let k = digit_count(e.lo);
        if n < k || e.lengths & (1 << n) == 0 {
            continue;
        }
        let p = digit_prefix(d, k);
        if (e.lo..=e.hi).contains(&p) && best.is_none_or(|(_, w)| w && !e.weak) {
            best = Some((e.network, e.weak));
        }
    }
    best
}

fn names_a_card(before: &[u8]) -> bool {
    let lower = before.to_ascii_lowercase();
    let text = String::from_utf8_lossy(&lower);
    text.split(|c: char| !c.is_alphanumeric())
        .any(|w| CARD_WORDS.contains(&w))
}

/// The Luhn checksum over decimal digits (the last digit is the check digit).
pub fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = x as u32;
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The networks' and processors' published test numbers, and the numbers people type as
/// placeholders, repeat one digit six or more times in a row (4111 1111 1111 1111,
/// 4000 0000 0000 0002, 5555 5555 5555 4444) or a group of two to four digits
/// throughout (4242 4242 4242 4242, 5105 1051 0510 5100). They are no one's card. An
/// issued number does either about once in 10^4.
fn test_pattern(d: &[u8]) -> bool {
    let run = d.windows(6).any(|w| w.iter().all(|&x| x == w[0]));
    let body = &d[..d.len() - 3];
    let periodic = (2..=4).any(|p| body.iter().enumerate().all(|(i, &x)| x == body[i % p]));
    run || periodic
}

/// A payment card number: one kind of separator at most, 12–19 digits, not all one
/// digit, Luhn, an IIN that issues this length; weak ranges and unseparated 17–19-digit
/// runs need a card word in `before`.
pub fn card(s: &str, before: &[u8]) -> Option<f64> {
    let seps: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_digit()).collect();
    if seps.windows(2).any(|w| w[0] != w[1]) {
        return None;
    }
    let d = super::validate::digits(s);
    let n = d.len();
    if !(12..=19).contains(&n) || d.iter().all(|&x| x == d[0]) || !luhn(&d) {
        return None;
    }
    if test_pattern(&d) {
        return None;
    }
    let (_, weak) = network(&d)?;
    let long_run = n >= 17 && seps.is_empty();
    if (weak || long_run) && !names_a_card(before) {
        return None;
    }
    Some(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(s: &str) -> Vec<u8> {
        s.bytes().map(|b| b - b'0').collect()
    }

    #[test]
    fn networks_and_weak_ranges() {
        assert_eq!(network(&digits("4111111111111111")), Some(("visa", false)));
        for test_number in [
            "4111111111111111",
            "4242424242424242",
            "4000000000000002",
            "5555555555554444",
            "5105105105105100",
            "6011111111111117",
        ] {
            assert!(card(test_number, b"card ").is_none(), "{test_number}");
        }
        assert_eq!(network(&digits("378282246310005")), Some(("amex", false)));
        assert_eq!(network(&digits("6759318609190")), Some(("maestro", true)));
        assert_eq!(
            network(&digits("5555555555554444")),
            Some(("mastercard", false))
        );
        assert_eq!(network(&digits("41111111111111")), None, "14-digit Visa");
        assert!(card("4372 1590 1092 8154", b"").is_some());
        assert!(
            card("4372-1590 1092-8154", b"").is_none(),
            "mixed separators"
        );
        // a UATP number counts only beside a card word
        assert!(card("123667127684262", b"id ").is_none());
        assert!(card("123667127684262", b"UATP card: ").is_some());
        // an unseparated 19-digit run needs a card word; grouped it does not
        assert!(card("4526018159083016612", b"id=").is_none());
        assert!(card("4526018159083016612", b"Visa ").is_some());
        assert!(card("4526 0181 5908 3016 612", b"").is_some());
        // "discard" is not "card"
        assert!(card("123667127684262", b"discard ").is_none());
    }
}
