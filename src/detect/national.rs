//! Validators for national identifiers, each written from its issuer's published
//! specification: the check digit or letter, the structure (ranges, birth dates) and the
//! numbers the issuer never gives out. Each takes the matched value (separators
//! allowed) and returns `None` (reject) or a confidence factor in (0, 1].
//!
//! Where memscan is stricter than python-stdnum (the reference the tests compare with),
//! the rule is named here: ABA routing numbers must open with a Federal Reserve routing
//! symbol (00–12, 21–32, 61–72, 80); an NHS, NPI, SIN, TFN or Aadhaar number made of
//! one repeated digit is a placeholder, not a person's.

use super::validate::luhn;

/// The ASCII digits of `s`, as numbers; `None` when `s` holds anything other than
/// digits and the separators in `seps`.
fn digits_only(s: &str, seps: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_digit() {
            out.push(b - b'0');
        } else if !seps.contains(&b) {
            return None;
        }
    }
    Some(out)
}

fn num(d: &[u8]) -> u32 {
    d.iter().fold(0u32, |a, &x| a * 10 + x as u32)
}

fn repeated(d: &[u8]) -> bool {
    d.iter().all(|&x| x == d[0])
}

/// A real Gregorian calendar date, any year.
pub(crate) fn calendar_date(y: u32, m: u32, d: u32) -> bool {
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let dim = [31, 28 + leap as u32, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    (1..=12).contains(&m) && d >= 1 && d <= dim[(m - 1) as usize]
}

/// This year (UTC), for two-digit years whose century is the latest not in the future.
fn this_year() -> u32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    crate::report::schema::civil(secs).0 as u32
}

/// The four-digit year of `yy`: this century, or the last if that is in the future.
fn recent_year(yy: u32) -> u32 {
    let now = this_year();
    let y = now / 100 * 100 + yy;
    if y > now {
        y - 100
    } else {
        y
    }
}

fn ok(b: bool) -> Option<f64> {
    b.then_some(1.0)
}

/// UK NHS number (NHS Data Dictionary): 10 digits, weights 10..2 and a mod-11 check
/// digit (a remainder giving 10 is never issued).
pub fn nhs(s: &str) -> Option<f64> {
    let d = digits_only(s, b" -")?;
    if d.len() != 10 || repeated(&d) {
        return None;
    }
    let sum: u32 = d.iter().rev().zip(1u32..).map(|(&x, w)| x as u32 * w).sum();
    ok(sum.is_multiple_of(11))
}

/// UK National Insurance number (HMRC NIM39110): two prefix letters (first not D, F,
/// I, Q, U, V; second not D, F, I, O, Q, U, V; never BG, GB, KN, NK, NT, TN, ZZ), six
/// digits, a suffix A–D.
pub fn uk_nino(s: &str) -> Option<f64> {
    let c: Vec<u8> = s
        .bytes()
        .filter(|b| *b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if c.len() != 9 {
        return None;
    }
    let (a, b) = (c[0], c[1]);
    let letters_ok = a.is_ascii_uppercase()
        && b.is_ascii_uppercase()
        && !b"DFIQUV".contains(&a)
        && !b"DFIOQUV".contains(&b)
        && !matches!(
            &c[..2],
            b"BG" | b"GB" | b"KN" | b"NK" | b"NT" | b"TN" | b"ZZ"
        );
    ok(letters_ok && c[2..8].iter().all(u8::is_ascii_digit) && (b'A'..=b'D').contains(&c[8]))
}

/// US ITIN (IRS): 9 digits, area 9xx, group 70–88, 90–92 or 94–99.
pub fn us_itin(s: &str) -> Option<f64> {
    let d = digits_only(s, b" -")?;
    if d.len() != 9 || d[0] != 9 {
        return None;
    }
    let g = num(&d[3..5]);
    ok((70..=99).contains(&g) && g != 89 && g != 93)
}

/// ABA routing transit number: 9 digits (printed XXXX-XXXX-X on cheques), weights 3-7-1 summing to a multiple of 10,
/// and a Federal Reserve routing symbol (00–12, 21–32, 61–72, 80) first.
pub fn aba_routing(s: &str) -> Option<f64> {
    let d = digits_only(s, b"-")?;
    if d.len() != 9 || repeated(&d) {
        return None;
    }
    let sum: u32 = d
        .iter()
        .zip([3u32, 7, 1].iter().cycle())
        .map(|(&x, w)| x as u32 * w)
        .sum();
    let p = num(&d[..2]);
    ok(sum.is_multiple_of(10)
        && (p <= 12 || (21..=32).contains(&p) || (61..=72).contains(&p) || p == 80))
}

/// US National Provider Identifier (CMS): 10 digits opening with 1 or 2, Luhn over the
/// number prefixed with 80840 (the ISO card-issuer prefix for US health).
pub fn us_npi(s: &str) -> Option<f64> {
    let d = digits_only(s, b" -")?;
    if d.len() != 10 || !matches!(d[0], 1 | 2) || repeated(&d[..9]) {
        return None;
    }
    let mut full = vec![8, 0, 8, 4, 0];
    full.extend_from_slice(&d);
    ok(luhn(&full))
}

/// Canadian Social Insurance Number: 9 digits, Luhn, never opening with 0 or 8.
pub fn ca_sin(s: &str) -> Option<f64> {
    let d = digits_only(s, b" -")?;
    ok(d.len() == 9 && !matches!(d[0], 0 | 8) && !repeated(&d) && luhn(&d))
}

/// Australian Tax File Number (ATO), the 9-digit form: weights 1,4,3,7,5,8,6,9,10,
/// sum divisible by 11.
pub fn au_tfn(s: &str) -> Option<f64> {
    let d = digits_only(s, b" -")?;
    if d.len() != 9 || repeated(&d) {
        return None;
    }
    let sum: u32 = d
        .iter()
        .zip([1u32, 4, 3, 7, 5, 8, 6, 9, 10])
        .map(|(&x, w)| x as u32 * w)
        .sum();
    ok(sum.is_multiple_of(11))
}

/// Australian Business Number (ABR): 11 digits; subtract 1 from the first, weights
/// 10,1,3,5,…,19, sum divisible by 89.
pub fn au_abn(s: &str) -> Option<f64> {
    let d = digits_only(s, b" ")?;
    if d.len() != 11 || d[0] == 0 {
        return None;
    }
    let w = [10u32, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19];
    let sum: u32 = d
        .iter()
        .enumerate()
        .map(|(i, &x)| (x as u32 - (i == 0) as u32) * w[i])
        .sum();
    ok(sum.is_multiple_of(89))
}

/// Australian Medicare card number (Services Australia): 10 digits (an 11th, the
/// individual reference number, allowed), first 2–6, weights 1,3,7,9,1,3,7,9 over
/// the first eight, remainder mod 10 the ninth.
pub fn au_medicare(s: &str) -> Option<f64> {
    let d = digits_only(s, b" -/")?;
    if !(10..=11).contains(&d.len()) || !(2..=6).contains(&d[0]) {
        return None;
    }
    let sum: u32 = d[..8]
        .iter()
        .zip([1u32, 3, 7, 9, 1, 3, 7, 9])
        .map(|(&x, w)| x as u32 * w)
        .sum();
    ok(sum % 10 == d[8] as u32)
}

const VERHOEFF_D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// The Verhoeff check (dihedral group D5): true when the digits, check digit last,
/// reduce to 0.
pub fn verhoeff(d: &[u8]) -> bool {
    let mut c = 0u8;
    for (i, &x) in d.iter().rev().enumerate() {
        c = VERHOEFF_D[c as usize][VERHOEFF_P[i % 8][x as usize] as usize];
    }
    c == 0
}

/// India Aadhaar (UIDAI): 12 digits, first 2–9, Verhoeff check digit, never a
/// palindrome.
pub fn in_aadhaar(s: &str) -> Option<f64> {
    let d = digits_only(s, b" -")?;
    let palindrome = d.iter().eq(d.iter().rev());
    ok(d.len() == 12 && d[0] >= 2 && !palindrome && verhoeff(&d))
}

/// India PAN (Income Tax Department): five letters, the fourth the holder type
/// (A, B, C, F, G, H, J, K, L, P, T), four digits not all 0, a letter.
pub fn in_pan(s: &str) -> Option<f64> {
    let c = s.as_bytes();
    ok(c.len() == 10
        && c[..5].iter().all(u8::is_ascii_uppercase)
        && b"ABCFGHJKLPT".contains(&c[3])
        && c[5..9].iter().all(u8::is_ascii_digit)
        && &c[5..9] != b"0000"
        && c[9].is_ascii_uppercase())
}

/// ISO 7064 MOD 11,10 (the hybrid system): true when the digits, check digit last,
/// reduce to 1.
fn mod_11_10(d: &[u8]) -> bool {
    let mut c = 5u32;
    for &x in d {
        let p = if c == 0 { 10 } else { c };
        c = ((p * 2) % 11 + x as u32) % 10;
    }
    c == 1
}

/// German tax identification number (Steuerliche Identifikationsnummer, §139b AO): 11
/// digits, the first not 0; among the first ten exactly one digit occurs twice or three
/// times and no other repeats; ISO 7064 MOD 11,10 check digit.
pub fn de_idnr(s: &str) -> Option<f64> {
    let d = digits_only(s, b" /.-")?;
    if d.len() != 11 || d[0] == 0 {
        return None;
    }
    let mut counts = [0u8; 10];
    for &x in &d[..10] {
        counts[x as usize] += 1;
    }
    let repeats: Vec<u8> = counts.iter().copied().filter(|&c| c > 1).collect();
    ok(repeats.len() == 1 && matches!(repeats[0], 2 | 3) && mod_11_10(&d))
}

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// Spanish DNI/NIF (Real Decreto 1553/2005): 8 digits and the letter of the number
/// mod 23.
pub fn es_dni(s: &str) -> Option<f64> {
    let c: Vec<u8> = s
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'-'))
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if c.len() != 9 || !c[..8].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = c[..8].iter().fold(0u32, |a, &x| a * 10 + (x - b'0') as u32);
    ok(DNI_LETTERS[(n % 23) as usize] == c[8])
}

/// Spanish NIE (foreigners): X, Y or Z (read as 0, 1, 2), 7 digits and the DNI letter.
pub fn es_nie(s: &str) -> Option<f64> {
    let c: Vec<u8> = s
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'-'))
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if c.len() != 9 || !c[1..8].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let lead = b"XYZ".iter().position(|&x| x == c[0])? as u32;
    let n = c[1..8]
        .iter()
        .fold(lead, |a, &x| a * 10 + (x - b'0') as u32);
    ok(DNI_LETTERS[(n % 23) as usize] == c[8])
}

/// Italian codice fiscale (DM 23/12/1976): 16 characters — surname and name letters,
/// birth year, month letter, day (+40 for women), place, check letter from the
/// odd/even position tables; digits of the date and place may be replaced by
/// L–V (omocodia). The birth date must exist.
pub fn it_codice_fiscale(s: &str) -> Option<f64> {
    let c: Vec<u8> = s.bytes().map(|b| b.to_ascii_uppercase()).collect();
    if c.len() != 16 {
        return None;
    }
    const OMO: &[u8] = b"LMNPQRSTUV";
    const MONTHS: &[u8] = b"ABCDEHLMPRST";
    let dig = |b: u8| -> Option<u32> {
        if b.is_ascii_digit() {
            Some((b - b'0') as u32)
        } else {
            OMO.iter().position(|&x| x == b).map(|p| p as u32)
        }
    };
    if !c[..6].iter().all(u8::is_ascii_uppercase)
        || !c[11].is_ascii_uppercase()
        || !c[15].is_ascii_uppercase()
    {
        return None;
    }
    let mut nums = [0u32; 7];
    for (k, &i) in [6usize, 7, 9, 10, 12, 13, 14].iter().enumerate() {
        nums[k] = dig(c[i])?;
    }
    let month = MONTHS.iter().position(|&x| x == c[8])? as u32 + 1;
    let yy = nums[0] * 10 + nums[1];
    let day = (nums[2] * 10 + nums[3]) % 40;
    let year = if 1900 + yy < 1920 {
        2000 + yy
    } else {
        1900 + yy
    };
    if !calendar_date(year, month, day) {
        return None;
    }
    const ODD: [u32; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    let val = |b: u8| -> usize {
        if b.is_ascii_digit() {
            (b - b'0') as usize
        } else {
            (b - b'A') as usize
        }
    };
    let sum: u32 = c[..15]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if i % 2 == 0 {
                ODD[val(b)]
            } else {
                val(b) as u32
            }
        })
        .sum();
    ok(c[15] == b'A' + (sum % 26) as u8)
}

/// Polish PESEL: 11 digits, weights 1,3,7,9,… check digit, and a birth date whose month
/// carries the century (+80 1800s, +0 1900s, +20 2000s, +40 2100s, +60 2200s).
pub fn pl_pesel(s: &str) -> Option<f64> {
    let d = digits_only(s, b" -")?;
    if d.len() != 11 {
        return None;
    }
    let w = [1u32, 3, 7, 9, 1, 3, 7, 9, 1, 3];
    let sum: u32 = d[..10].iter().zip(w).map(|(&x, w)| x as u32 * w).sum();
    if (10 - sum % 10) % 10 != d[10] as u32 {
        return None;
    }
    let (yy, mm, dd) = (num(&d[0..2]), num(&d[2..4]), num(&d[4..6]));
    let century = [1900, 2000, 2100, 2200, 1800][(mm / 20) as usize];
    ok(calendar_date(century + yy, mm % 20, dd))
}

/// Swedish personnummer (Skatteverket): YYMMDD-NNNC (+ for age 100 and over) or
/// YYYYMMDD-NNNC, a real birth date, Luhn over the ten digits from YY.
pub fn se_personnummer(s: &str) -> Option<f64> {
    let t: Vec<u8> = s.bytes().filter(|b| !matches!(b, b' ' | b':')).collect();
    let (body, sep) = match t.len() {
        11 | 13 if matches!(t[t.len() - 5], b'-' | b'+') => {
            let mut b = t[..t.len() - 5].to_vec();
            b.extend_from_slice(&t[t.len() - 4..]);
            (b, t[t.len() - 5])
        }
        10 | 12 => (t.clone(), b'-'),
        _ => return None,
    };
    if !body.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let d: Vec<u8> = body.iter().map(|b| b - b'0').collect();
    let (year, rest) = if d.len() == 12 {
        (num(&d[..4]), &d[4..])
    } else {
        let mut y = recent_year(num(&d[..2]));
        if sep == b'+' {
            y -= 100;
        }
        (y, &d[2..])
    };
    ok(calendar_date(year, num(&rest[0..2]), num(&rest[2..4])) && luhn(&d[d.len() - 10..]))
}

/// South Korean resident registration number: YYMMDD-SNNNNNC; S gives sex and century
/// (1, 2, 5, 6: 1900s; 3, 4, 7, 8: 2000s; 9, 0: 1800s); a real birth date; place of
/// registration 00–96; weights 2–9,2–5 and check (11 − sum mod 11) mod 10.
pub fn kr_rrn(s: &str) -> Option<f64> {
    let d = digits_only(s, b"-")?;
    if d.len() != 13 {
        return None;
    }
    let century = match d[6] {
        1 | 2 | 5 | 6 => 1900,
        3 | 4 | 7 | 8 => 2000,
        _ => 1800,
    };
    if !calendar_date(century + num(&d[0..2]), num(&d[2..4]), num(&d[4..6])) || num(&d[7..9]) > 96 {
        return None;
    }
    let w = [2u32, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];
    let sum: u32 = d[..12].iter().zip(w).map(|(&x, w)| x as u32 * w).sum();
    ok((11 - sum % 11) % 10 == d[12] as u32)
}

/// Singapore NRIC/FIN (ICA): S, T, F, G or M, 7 digits, a check letter from weights
/// 2,7,6,5,4,3,2 plus the prefix's offset (T, G: 4; M: 3), mod 11, in the prefix's table.
pub fn sg_nric(s: &str) -> Option<f64> {
    let c: Vec<u8> = s.bytes().map(|b| b.to_ascii_uppercase()).collect();
    if c.len() != 9 || !c[1..8].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let (offset, table): (u32, &[u8; 11]) = match c[0] {
        b'S' => (0, b"JZIHGFEDCBA"),
        b'T' => (4, b"JZIHGFEDCBA"),
        b'F' => (0, b"XWUTRQPNMLK"),
        b'G' => (4, b"XWUTRQPNMLK"),
        b'M' => (3, b"XWUTRQPNJLK"),
        _ => return None,
    };
    let sum: u32 = c[1..8]
        .iter()
        .zip([2u32, 7, 6, 5, 4, 3, 2])
        .map(|(&b, w)| (b - b'0') as u32 * w)
        .sum();
    ok(table[((sum + offset) % 11) as usize] == c[8])
}

/// Turkish T.C. Kimlik No (NVI): 11 digits, the first not 0; the tenth is
/// (7 × odd-place sum − even-place sum) mod 10 over the first nine, the eleventh the
/// sum of the first ten mod 10.
pub fn tr_kimlik(s: &str) -> Option<f64> {
    let d = digits_only(s, b"")?;
    if d.len() != 11 || d[0] == 0 {
        return None;
    }
    let odd: i32 = d[..9].iter().step_by(2).map(|&x| x as i32).sum();
    let even: i32 = d[1..9].iter().step_by(2).map(|&x| x as i32).sum();
    let c10 = (7 * odd - even).rem_euclid(10);
    let c11 = d[..10].iter().map(|&x| x as i32).sum::<i32>() % 10;
    ok(c10 == d[9] as i32 && c11 == d[10] as i32)
}

/// South African identity number (Home Affairs): YYMMDD SSSS C A Z — a real birth date,
/// citizenship C 0 (citizen) or 1 (permanent resident), Luhn.
pub fn za_id(s: &str) -> Option<f64> {
    let d = digits_only(s, b" ")?;
    if d.len() != 13 || d[10] > 1 {
        return None;
    }
    ok(calendar_date(recent_year(num(&d[0..2])), num(&d[2..4]), num(&d[4..6])) && luhn(&d))
}

/// ICAO Doc 9303 check digit: weights 7, 3, 1 over digits, letters (A = 10 … Z = 35)
/// and the filler `<` (0), modulo 10.
pub fn icao_check(field: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (i, &b) in field.iter().enumerate() {
        let v = match b {
            b'0'..=b'9' => (b - b'0') as u32,
            b'A'..=b'Z' => (b - b'A') as u32 + 10,
            b'<' => 0,
            _ => return None,
        };
        sum += v * [7, 3, 1][i % 3];
    }
    Some((sum % 10) as u8)
}

fn icao_ok(field: &[u8], check: u8) -> bool {
    check.is_ascii_digit() && icao_check(field) == Some(check - b'0')
}

/// YYMMDD with a real month and day (the century is not written).
fn mrz_date(d: &[u8]) -> bool {
    let n = |r: std::ops::Range<usize>| d[r].iter().fold(0u32, |a, &x| a * 10 + (x - b'0') as u32);
    d.len() == 6
        && d.iter().all(u8::is_ascii_digit)
        && calendar_date(2000 + n(0..2), n(2..4), n(4..6))
}

/// A machine-readable zone (ICAO Doc 9303): the second line of a passport (TD3, 44
/// characters) or of a TD2 card or visa (36), or the first two lines of an identity card
/// (TD1, 2 × 30). Every check digit — document number, birth date, expiry, personal
/// number (TD3) and the composite — must hold, and both dates must be calendar dates.
pub fn mrz(s: &str) -> Option<f64> {
    let b: Vec<u8> = s.bytes().filter(|&c| c != b'\r' && c != b'\n').collect();
    // Utopia (UTO) is the fictional state of ICAO's specimen documents
    let specimen = |at: usize| b.get(at..at + 3) == Some(b"UTO");
    if specimen(10) || (b.len() == 60 && (specimen(2) || specimen(45))) {
        return None;
    }
    let ok = match b.len() {
        44 => {
            icao_ok(&b[0..9], b[9])
                && mrz_date(&b[13..19])
                && icao_ok(&b[13..19], b[19])
                && mrz_date(&b[21..27])
                && icao_ok(&b[21..27], b[27])
                && (icao_ok(&b[28..42], b[42])
                    || (b[42] == b'<' && b[28..42].iter().all(|&c| c == b'<')))
                && icao_ok(&[&b[0..10], &b[13..20], &b[21..43]].concat(), b[43])
        }
        36 => {
            icao_ok(&b[0..9], b[9])
                && mrz_date(&b[13..19])
                && icao_ok(&b[13..19], b[19])
                && mrz_date(&b[21..27])
                && icao_ok(&b[21..27], b[27])
                && icao_ok(&[&b[0..10], &b[13..20], &b[21..35]].concat(), b[35])
        }
        60 => {
            let (l1, l2) = (&b[..30], &b[30..]);
            icao_ok(&l1[5..14], l1[14])
                && mrz_date(&l2[0..6])
                && icao_ok(&l2[0..6], l2[6])
                && mrz_date(&l2[8..14])
                && icao_ok(&l2[8..14], l2[14])
                && icao_ok(
                    &[&l1[5..30], &l2[0..7], &l2[8..15], &l2[18..29]].concat(),
                    l2[29],
                )
        }
        _ => false,
    };
    ok.then_some(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Published or issuer-documented example numbers.
    #[test]
    fn issuer_examples() {
        assert!(nhs("943 476 5919").is_some()); // NHS Digital's documented example
        assert!(nhs("943 476 5918").is_none());
        // HMRC's specimen QQ 12 34 56 C is never issued (Q is not a prefix letter)
        assert!(uk_nino("QQ 12 34 56 C").is_none());
        assert!(uk_nino("AB 12 34 56 C").is_some());
        assert!(uk_nino("AB123456E").is_none());
        assert!(uk_nino("GB123456A").is_none());
        assert!(aba_routing("011000015").is_some()); // Federal Reserve Bank of Boston
        assert!(aba_routing("011000016").is_none());
        assert!(us_npi("1234567893").is_some()); // CMS's check-digit example
        assert!(us_npi("1234567890").is_none());
        assert!(ca_sin("130 692 544").is_some());
        // Service Canada's fictitious example: Luhn-valid, but 0 is never assigned
        assert!(ca_sin("046 454 286").is_none());
        assert!(au_abn("51 824 753 556").is_some()); // ABR's example
        assert!(au_abn("51 824 753 557").is_none());
        assert!(au_tfn("123 456 782").is_some());
        assert!(in_aadhaar("2341 2341 2346").is_some());
        assert!(in_aadhaar("2341 2341 2347").is_none());
        assert!(verhoeff(&[2, 3, 6, 3])); // Verhoeff: 236 → check digit 3
        assert!(in_pan("AFZPK7190K").is_some());
        assert!(in_pan("AFZXK7190K").is_none());
        assert!(de_idnr("86095742719").is_some()); // BZSt's example
        assert!(de_idnr("86095742718").is_none());
        assert!(es_dni("12345678Z").is_some());
        assert!(es_nie("X1234567L").is_some());
        assert!(es_nie("X1234567T").is_none());
        assert!(it_codice_fiscale("RSSMRA85T10A562S").is_some());
        assert!(it_codice_fiscale("RSSMRA85T10A562T").is_none());
        assert!(pl_pesel("44051401359").is_some()); // the PESEL article's example
        assert!(pl_pesel("44051401358").is_none());
        assert!(se_personnummer("811218-9876").is_some()); // Skatteverket's example
        assert!(se_personnummer("811218-9877").is_none());
        assert!(se_personnummer("19811218-9876").is_some());
        assert!(sg_nric("S1234567D").is_some());
        assert!(sg_nric("S1234567A").is_none());
        assert!(tr_kimlik("10000000146").is_some());
        assert!(tr_kimlik("10000000147").is_none());
        assert!(za_id("8001015009087").is_some());
        assert!(za_id("8001015009088").is_none());
        assert!(calendar_date(2000, 2, 29) && !calendar_date(1900, 2, 29));
        assert!(this_year() >= 2025);
    }
}
