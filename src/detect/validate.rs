//! Validators: code that decides whether a regex match is a real value of its
//! format — checksums (cards in `cards`, IBAN mod-97, base58check, bech32, EIP-55), number
//! ranges (SSN, IPv4), parses (IPv6, dates, JWT headers), phone numbers by
//! libphonenumber's metadata — plus Shannon entropy.
//! National identifiers' validators live in `national`.
//! Each returns `None` (reject) or a confidence factor in (0, 1].

use sha2::{Digest, Sha256};

use super::cards;
use super::national;

pub use cards::luhn;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validator {
    Card,
    Ssn,
    Iban,
    Ipv4,
    Ipv6,
    Mac,
    Email,
    Phone,
    PhoneNational,
    Bitcoin,
    Ethereum,
    Jwt,
    JwtUnsigned,
    GithubToken,
    Date,
    HasDigit,
    NotCode,
    Base64Secret,
    BasicCredential,
    Nhs,
    UkNino,
    UsItin,
    AbaRouting,
    UsNpi,
    CaSin,
    AuTfn,
    AuAbn,
    AuMedicare,
    InAadhaar,
    InPan,
    DeIdnr,
    EsDni,
    EsNie,
    ItCodiceFiscale,
    PlPesel,
    SePersonnummer,
    KrRrn,
    SgNric,
    TrKimlik,
    ZaId,
    Mrz,
}

impl Validator {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "card" | "luhn" => Validator::Card,
            "ssn" => Validator::Ssn,
            "iban" => Validator::Iban,
            "ipv4" => Validator::Ipv4,
            "ipv6" => Validator::Ipv6,
            "mac" => Validator::Mac,
            "email" => Validator::Email,
            "phone" => Validator::Phone,
            "phone_national" => Validator::PhoneNational,
            "bitcoin" => Validator::Bitcoin,
            "ethereum" => Validator::Ethereum,
            "jwt" => Validator::Jwt,
            "jwt_unsigned" => Validator::JwtUnsigned,
            // npm adopted GitHub's token format, checksum included
            "crc32_base62" => Validator::GithubToken,
            "github_token" => Validator::GithubToken,
            "date" => Validator::Date,
            "has_digit" => Validator::HasDigit,
            "not_code" => Validator::NotCode,
            "base64_secret" => Validator::Base64Secret,
            "basic_credential" => Validator::BasicCredential,
            "nhs" => Validator::Nhs,
            "uk_nino" => Validator::UkNino,
            "us_itin" => Validator::UsItin,
            "aba_routing" => Validator::AbaRouting,
            "us_npi" => Validator::UsNpi,
            "ca_sin" => Validator::CaSin,
            "au_tfn" => Validator::AuTfn,
            "au_abn" => Validator::AuAbn,
            "au_medicare" => Validator::AuMedicare,
            "in_aadhaar" => Validator::InAadhaar,
            "in_pan" => Validator::InPan,
            "de_idnr" => Validator::DeIdnr,
            "es_dni" => Validator::EsDni,
            "es_nie" => Validator::EsNie,
            "it_codice_fiscale" => Validator::ItCodiceFiscale,
            "pl_pesel" => Validator::PlPesel,
            "se_personnummer" => Validator::SePersonnummer,
            "kr_rrn" => Validator::KrRrn,
            "sg_nric" => Validator::SgNric,
            "tr_kimlik" => Validator::TrKimlik,
            "za_id" => Validator::ZaId,
            "mrz" => Validator::Mrz,
            _ => return None,
        })
    }

    /// `value` is the matched bytes; `before` the text just before it (context).
    pub fn check(self, value: &[u8], before: &[u8]) -> Option<f64> {
        let s = std::str::from_utf8(value).ok()?;
        match self {
            Validator::Card => cards::card(s, before),
            Validator::Ssn => ssn(s),
            Validator::Iban => iban(s),
            Validator::Ipv4 => ipv4(s, before),
            Validator::Ipv6 => ipv6(s),
            Validator::Mac => mac(s),
            Validator::Email => email(s, before),
            Validator::Phone => phone(s),
            Validator::PhoneNational => phone_national(s),
            Validator::Bitcoin => bitcoin(s),
            Validator::Ethereum => ethereum(s),
            Validator::Jwt => jwt(s),
            Validator::JwtUnsigned => jwt_unsigned(s),
            Validator::GithubToken => Some(github_token(s)),
            Validator::Date => date(s),
            Validator::HasDigit => s.bytes().any(|b| b.is_ascii_digit()).then_some(1.0),
            Validator::NotCode => (!code_expression(s)).then_some(1.0),
            Validator::Base64Secret => base64_secret(s),
            Validator::BasicCredential => basic_credential(s),
            Validator::Nhs => national::nhs(s),
            Validator::UkNino => national::uk_nino(s),
            Validator::UsItin => national::us_itin(s),
            Validator::AbaRouting => national::aba_routing(s),
            Validator::UsNpi => national::us_npi(s),
            Validator::CaSin => national::ca_sin(s),
            Validator::AuTfn => national::au_tfn(s),
            Validator::AuAbn => national::au_abn(s),
            Validator::AuMedicare => national::au_medicare(s),
            Validator::InAadhaar => national::in_aadhaar(s),
            Validator::InPan => national::in_pan(s),
            Validator::DeIdnr => national::de_idnr(s),
            Validator::EsDni => national::es_dni(s),
            Validator::EsNie => national::es_nie(s),
            Validator::ItCodiceFiscale => national::it_codice_fiscale(s),
            Validator::PlPesel => national::pl_pesel(s),
            Validator::SePersonnummer => national::se_personnummer(s),
            Validator::KrRrn => national::kr_rrn(s),
            Validator::SgNric => national::sg_nric(s),
            Validator::TrKimlik => national::tr_kimlik(s),
            Validator::ZaId => national::za_id(s),
            Validator::Mrz => national::mrz(s),
        }
    }
}

/// Shannon entropy of the bytes, in bits per byte.
pub fn entropy(v: &[u8]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut counts = [0usize; 256];
    for &b in v {
        counts[b as usize] += 1;
    }
    let n = v.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| -(c as f64 / n) * (c as f64 / n).log2())
        .sum()
}

pub(crate) fn digits(s: &str) -> Vec<u8> {
    s.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

/// A programming-language identifier: a letter or `_`, then letters, digits or `_`.
fn identifier(w: &[u8]) -> bool {
    w.first()
        .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_')
        && w.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

/// A value that is code rather than a secret: a call (`os.path.dirname(…`), or, without
/// a digit, a dotted path of identifiers (`self._claim.token`), a snake_case name of two
/// or more words (`country_mobile_token`) or a CamelCase one (`PotentialSecret`). Random
/// tokens of 16+ characters hold a digit but for about 6 in 100 (base62), and those
/// almost never split into words of two or more letters.
pub fn code_expression(s: &str) -> bool {
    let ident = |w: &str| identifier(w.as_bytes());
    let s = s.trim_start_matches(['-', '!']); // a unary operator before an expression
    let has_digit = s.bytes().any(|b| b.is_ascii_digit());
    if let Some(open) = s.find(['(', '[']) {
        let head = &s[..open];
        // a call or a subscript: `f(x`, `Optional[str`, `np.random.default_rng(3489…`;
        // not `Summer[2024]!` or `Tr0ub4dor(&3x`
        if open > 0
            && head.split('.').all(ident)
            && !head.bytes().any(|b| b.is_ascii_digit())
            && (!has_digit || head.contains(['.', '_']))
        {
            return true;
        }
    }
    if has_digit || !s.split('.').all(ident) {
        return false;
    }
    if s.contains('.') {
        return true;
    }
    // snake_case or SCREAMING_SNAKE: each word of one case (random tokens mix cases)
    let words = || s.split('_').filter(|w| !w.is_empty());
    let snake = words().filter(|w| w.len() >= 2).count() >= 2
        && words().all(|w| {
            w.bytes().all(|b| b.is_ascii_lowercase()) || w.bytes().all(|b| b.is_ascii_uppercase())
        });
    // CamelCase: words of a capital and 2+ lowercase letters (an initial lowercase word
    // allowed: `authToken`)
    let mut words = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if c.is_ascii_uppercase() && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    words.push(cur);
    let camel = words.len() >= 2
        && words.iter().enumerate().all(|(i, w)| {
            let rest = &w[1..];
            rest.len() >= 2
                && rest.bytes().all(|b| b.is_ascii_lowercase())
                && (i == 0 || w.as_bytes()[0].is_ascii_uppercase())
        });
    snake || camel
}

/// Standard base64 (padding optional) that decodes to printable text.
fn base64_text(s: &str) -> Option<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.chars()
        .all(|c| !c.is_control() || c == '\n' || c == '\t' || c == '\r')
        .then_some(text)
}

/// A base64 value (a Kubernetes Secret's `data:` entry) that decodes to printable text of
/// six or more characters that is no placeholder.
fn base64_secret(s: &str) -> Option<f64> {
    let text = base64_text(s)?;
    (text.trim().len() >= 6 && !placeholder(text.as_bytes()) && entropy(text.as_bytes()) >= 2.5)
        .then_some(1.0)
}

/// base64 of `user:password` (HTTP Basic, a Docker registry's `auth`): a user, a colon
/// and a password of four or more characters that is no placeholder.
fn basic_credential(s: &str) -> Option<f64> {
    let text = base64_text(s)?;
    let (user, pass) = text.split_once(':')?;
    let literal = ["password", "passwd", "pass", "secret", "token"]
        .contains(&pass.to_ascii_lowercase().as_str());
    (!user.is_empty()
        && pass.len() >= 4
        && !literal
        && !placeholder(pass.as_bytes())
        && !pass.contains('\n'))
    .then_some(1.0)
}

/// Marks of a placeholder or a made-up secret rather than an issued one: a run of one
/// filler character (`AKIAXXXXXXXXXXXXXXXX`, `****`, `0000…`), the words people write
/// in their place (`example`, `your_…`, `redacted`), and keyboard sequences. In a
/// random token of 62 symbols any of these is rarer than one in 10^5.
pub fn placeholder(value: &[u8]) -> bool {
    let lower = value.to_ascii_lowercase();
    let filler_run = lower
        .windows(6)
        .any(|w| matches!(w[0], b'x' | b'*' | b'#' | b'.' | b'0') && w.iter().all(|&b| b == w[0]));
    const WORDS: &[&[u8]] = &[
        b"example",
        b"placeholder",
        b"dummy",
        b"redacted",
        b"changeme",
        b"your_",
        b"your-",
        b"yourtoken",
        b"yourkey",
        b"yoursecret",
        b"replace_me",
        b"replaceme",
        b"insert_",
        b"abcdefgh",
        b"12345678",
        b"qwertyui",
    ];
    // a whole value that names a variable: `$CI_DB_PASSWORD`, `%APP_TOKEN%`
    let variable = value.strip_prefix(b"$").is_some_and(identifier)
        || (value.len() > 2
            && value.starts_with(b"%")
            && value.ends_with(b"%")
            && identifier(&value[1..value.len() - 1]));
    filler_run
        || variable
        || WORDS
            .iter()
            .any(|w| lower.windows(w.len()).any(|x| x == *w))
}

/// Area 001–899 except 666, group 01–99, serial 0001–9999.
fn ssn(s: &str) -> Option<f64> {
    let d = digits(s);
    if d.len() != 9 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| d[r].iter().fold(0u32, |a, &x| a * 10 + x as u32);
    let (area, group, serial) = (num(0..3), num(3..5), num(5..9));
    // numbers the SSA voided after they were printed in advertising or on sample cards
    let voided = matches!(
        (area, group, serial),
        (78, 5, 1120) | (219, 9, 9999) | (123, 45, 6789)
    );
    (area != 0 && area != 666 && area < 900 && group != 0 && serial != 0 && !voided).then_some(1.0)
}

/// IBAN lengths per country (SWIFT IBAN registry).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

/// Country length, then mod-97 = 1 over the rearranged number (ISO 13616).
fn iban(s: &str) -> Option<f64> {
    if s.contains(' ') && s.contains('-') {
        return None; // one kind of separator
    }
    let compact: Vec<u8> = s.bytes().filter(|b| !matches!(b, b' ' | b'-')).collect();
    let cc = std::str::from_utf8(compact.get(..2)?).ok()?;
    let &(_, len) = IBAN_LENGTHS.iter().find(|(c, _)| *c == cc)?;
    if compact.len() != len {
        return None;
    }
    let mut rem: u32 = 0;
    for &b in compact[4..].iter().chain(&compact[..4]) {
        let v = match b {
            b'0'..=b'9' => (b - b'0') as u32,
            b'A'..=b'Z' => (b - b'A') as u32 + 10,
            _ => return None,
        };
        rem = if v < 10 {
            (rem * 10 + v) % 97
        } else {
            (rem * 100 + v) % 97
        };
    }
    (rem == 1).then_some(1.0)
}

fn ipv4(s: &str, before: &[u8]) -> Option<f64> {
    let ip: std::net::Ipv4Addr = s.parse().ok()?;
    let o = ip.octets();
    // version strings: "v1.2.3.4", "version 1.2.3.4"
    let ctx =
        String::from_utf8_lossy(&before[before.len().saturating_sub(12)..]).to_ascii_lowercase();
    if ctx.ends_with('v') || ctx.trim_end().ends_with("version") || ctx.trim_end().ends_with("ver")
    {
        return None;
    }
    // the host part of a URL with credentials (a server, not a person)
    if before.last() == Some(&b'@') && in_url_authority(before) {
        return None;
    }
    let doc = matches!(
        (o[0], o[1], o[2]),
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113)
    );
    if ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || o[0] == 0
        || o[3] == 0 // a network address (`13.0.0.0`, `10.1.2.0`), not a host
        || doc
        || ip.is_multicast()
    {
        return None;
    }
    Some(if ip.is_private() || ip.is_link_local() {
        0.6
    } else {
        1.0
    })
}

fn ipv6(s: &str) -> Option<f64> {
    let ip: std::net::Ipv6Addr = s.parse().ok()?;
    let groups = s.split(':').filter(|g| !g.is_empty()).count();
    let seg = ip.segments();
    if ip.is_loopback()
        || ip.is_unspecified()
        || groups < 3
        || (seg[0] == 0x2001 && seg[1] == 0x0db8)
    {
        return None;
    }
    // at least one group with 3+ hex digits: "a:b:c::" is rarely an address
    s.split(':').any(|g| g.len() >= 3).then_some(1.0)
}

fn mac(s: &str) -> Option<f64> {
    let hex: String = s
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect::<String>()
        .to_ascii_lowercase();
    (hex != "000000000000" && hex != "ffffffffffff").then_some(1.0)
}

const PLACEHOLDER_DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "example.net",
    "localhost",
    "test.com",
    "domain.com",
    "email.com",
];
const FILE_TLDS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "css", "js", "ts", "py", "rs", "json", "html",
    "txt", "md", "zip",
];

/// Whether the text just before a value is inside a URL's authority (`scheme://user:pass@`).
fn in_url_authority(before: &[u8]) -> bool {
    let tail = before
        .rsplit(|b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'(' | b'<' | b'='))
        .next()
        .unwrap_or(before);
    tail.windows(3).any(|w| w == b"://")
}

fn email(s: &str, before: &[u8]) -> Option<f64> {
    if in_url_authority(before) {
        return None;
    }
    // a Message-ID (RFC 5322 msg-id: `Message-ID: <id@host>`, In-Reply-To, References) names
    // a message, not a mailbox
    let ctx = String::from_utf8_lossy(before).to_ascii_lowercase();
    if ["message-id:", "in-reply-to:", "references:"]
        .iter()
        .any(|h| ctx.contains(h))
        && before.last() == Some(&b'<')
    {
        return None;
    }
    let (local, domain) = s.rsplit_once('@')?;
    let domain_l = domain.to_ascii_lowercase();
    let tld = domain_l.rsplit('.').next()?;
    // git@host: an SSH remote, not a person
    if local.contains("..") || domain.contains("..") || FILE_TLDS.contains(&tld) || local == "git" {
        return None;
    }
    if PLACEHOLDER_DOMAINS
        .iter()
        .any(|d| domain_l == *d || domain_l.ends_with(&format!(".{d}")))
    {
        return None;
    }
    Some(1.0)
}

/// Regions a national phone number (no `+` or `00` prefix) is tried in, most
/// populous and most written-about first; tests/reference/phones.py uses the same list.
pub const PHONE_REGIONS: &[&str] = &[
    "US", "CA", "GB", "DE", "FR", "IN", "BR", "JP", "CN", "AU", "ES", "IT", "NL", "MX", "KR", "RU",
    "ZA", "NG", "PK", "ID", "PH", "TR", "PL", "SE", "CH", "AT", "BE", "IE", "NZ", "SG",
];

/// libphonenumber's verdict (the `phonenumber` crate's metadata): an international
/// number (`+` or the `00` prefix) is valid for its country code; a national one in
/// any of `regions`.
fn phone_valid(s: &str, regions: &[&str]) -> bool {
    use phonenumber::country::Id;
    let t = s.trim();
    if let Some(rest) = t.strip_prefix("00") {
        return phone_valid(&format!("+{rest}"), regions);
    }
    if t.starts_with('+') {
        return phonenumber::parse(None, t).is_ok_and(|n| phonenumber::is_valid(&n));
    }
    regions.iter().any(|r| {
        r.parse::<Id>()
            .ok()
            .and_then(|id| phonenumber::parse(Some(id), t).ok())
            .is_some_and(|n| phonenumber::is_valid(&n))
    })
}

/// E.164 and NANP shapes: a number libphonenumber holds valid, at full confidence; one
/// of the right length it does not (an unassigned area code, a made-up number a model
/// or a test file wrote), at 0.6 — a memorized fake number is still a memorized value.
fn phone(s: &str) -> Option<f64> {
    let d = digits(s);
    if d.is_empty() || d.iter().all(|&x| x == d[0]) || fictional_phone(s, &d) {
        return None;
    }
    // lengths first (E.164 allows 15 digits, an extension up to 5 more): the metadata
    // is consulted only for candidates of a phone number's length
    let intl = s.starts_with('+') || s.starts_with("00");
    let (shaped, possible) = if intl {
        ((8..=15).contains(&d.len()), (7..=20).contains(&d.len()))
    } else {
        ((10..=13).contains(&d.len()), (10..=18).contains(&d.len()))
    };
    if possible && phone_valid(s, &["US", "CA"]) {
        return Some(1.0);
    }
    shaped.then_some(0.6)
}

/// National formats next to a phone word: only what libphonenumber holds valid in one of
/// `PHONE_REGIONS` (the shapes alone match too much).
fn phone_national(s: &str) -> Option<f64> {
    let d = digits(s);
    ((6..=20).contains(&d.len())
        && !d.iter().all(|&x| x == d[0])
        && !fictional_phone(s, &d)
        && phone_valid(s, PHONE_REGIONS))
    .then_some(1.0)
}

/// Numbers the regulators reserve for films, books and examples, which reach no one:
/// NANP 555-0100–0199 (NANPA), Ofcom's drama ranges (07700 900xxx, 01632 960xxx,
/// 020 7946 0xxx, 0113–0161 496 0xxx, 0191 498 0xxx, 028 9649 6xxx, 029 2018 0xxx,
/// 0808 157 0xxx, 0909 879 0xxx, 0306 999 0xxx) and ACMA's (0491 57x xxx, (0x) 5550 xxxx,
/// (0x) 7010 xxxx).
pub fn fictional_phone(s: &str, d: &[u8]) -> bool {
    let t = s.trim_start();
    let intl = t.starts_with('+') || t.starts_with("00");
    let d: Vec<u8> = if t.starts_with("00") {
        d[2.min(d.len())..].to_vec()
    } else {
        d.to_vec()
    };
    let text = |x: &[u8]| x.iter().map(|v| char::from(b'0' + v)).collect::<String>();
    // NANP: the ten digits after an optional 1
    let nanp = match (intl, d.len()) {
        (true, 11) if d[0] == 1 => Some(&d[1..]),
        (false, 11) if d[0] == 1 => Some(&d[1..]),
        (false, 10) => Some(&d[..]),
        _ => None,
    };
    if nanp.is_some_and(|n| n[3..6] == [5, 5, 5] && n[6..8] == [0, 1]) {
        return true;
    }
    // UK and Australia: the national significant number after +44/+61 or the trunk 0
    let nsn = match (intl, d.first()) {
        (true, _) if d.starts_with(&[4, 4]) || d.starts_with(&[6, 1]) => Some(text(&d[2..])),
        (false, Some(0)) => Some(text(&d[1..])),
        _ => None,
    };
    let Some(n) = nsn else { return false };
    const UK: &[&str] = &[
        "7700900", "1632960", "2079460", "1134960", "1144960", "1154960", "1164960", "1174960",
        "1184960", "1214960", "1314960", "1414960", "1514960", "1614960", "1914980", "2896496",
        "2920180", "8081570", "9098790", "3069990",
    ];
    const AU: &[&str] = &[
        "49157", "25550", "35550", "75550", "85550", "27010", "37010", "77010", "87010",
    ];
    (n.len() == 10 && UK.iter().any(|p| n.starts_with(p)))
        || (n.len() == 9 && AU.iter().any(|p| n.starts_with(p)))
}

fn sha256d(data: &[u8]) -> [u8; 32] {
    let a = Sha256::digest(data);
    Sha256::digest(a).into()
}

fn bitcoin(s: &str) -> Option<f64> {
    if s.starts_with("bc1") {
        return bech32_ok(s).then_some(1.0);
    }
    let raw = bs58::decode(s).into_vec().ok()?;
    if raw.len() != 25 || !matches!(raw[0], 0x00 | 0x05) {
        return None;
    }
    (sha256d(&raw[..21])[..4] == raw[21..]).then_some(1.0)
}

/// BIP-173 / BIP-350 checksum (bech32 or bech32m) of a lowercase address.
fn bech32_ok(s: &str) -> bool {
    const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let Some(pos) = s.rfind('1') else {
        return false;
    };
    let (hrp, data) = (&s[..pos], &s[pos + 1..]);
    if data.len() < 6 {
        return false;
    }
    let mut values: Vec<u32> = hrp.bytes().map(|b| (b >> 5) as u32).collect();
    values.push(0);
    values.extend(hrp.bytes().map(|b| (b & 31) as u32));
    for b in data.bytes() {
        match CHARSET.iter().position(|&c| c == b) {
            Some(v) => values.push(v as u32),
            None => return false,
        }
    }
    let gen = [
        0x3b6a57b2u32,
        0x26508e6d,
        0x1ea119fa,
        0x3d4233dd,
        0x2a1462b3,
    ];
    let mut chk = 1u32;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x1ffffff) << 5) ^ v;
        for (i, g) in gen.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk == 1 || chk == 0x2bc830a3
}

/// EIP-55: a mixed-case address must carry the checksum; single-case ones cannot be
/// checked and get a lower confidence.
fn ethereum(s: &str) -> Option<f64> {
    use sha3::Keccak256;
    // a rule's regex may hand over any match: only 0x + 40 hex digits is an address
    let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    if hex.bytes().all(|b| b == b'0') {
        return None;
    }
    let lower = hex.to_ascii_lowercase();
    if hex == lower || hex == hex.to_ascii_uppercase() {
        return Some(0.7);
    }
    let hash = Keccak256::digest(lower.as_bytes());
    for (i, c) in hex.chars().enumerate() {
        if c.is_ascii_alphabetic() {
            let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0xf;
            if (nibble >= 8) != c.is_ascii_uppercase() {
                return None;
            }
        }
    }
    Some(1.0)
}

/// GitHub's tokens since April 2021 (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) end in a
/// checksum: the CRC-32 (zlib's) of the characters between the prefix and the last six,
/// in base62 (0-9A-Za-z), zero-padded to six characters (GitHub's "Behind GitHub's new
/// authentication token formats", 2021; CredSweeper checks the same). A token GitHub
/// issued always passes; a string made up in its shape passes once in 62⁶ ≈ 5.7·10¹⁰, so
/// a failing one is kept as a lower-confidence finding (0.4): the shape of a token, not
/// one GitHub issued (a test fixture, a placeholder, a model's invention).
pub fn github_token(s: &str) -> f64 {
    if github_checksum_ok(s) {
        1.0
    } else {
        0.4
    }
}

/// Whether a GitHub token's last six characters are its checksum.
pub fn github_checksum_ok(s: &str) -> bool {
    const B62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let Some(body) = s.get(4..) else { return false };
    if body.len() < 7 || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (random, sum) = body.split_at(body.len() - 6);
    let mut crc = flate2::Crc::new();
    crc.update(random.as_bytes());
    let mut n = u64::from(crc.sum());
    let mut want = [b'0'; 6];
    for slot in want.iter_mut().rev() {
        *slot = B62[(n % 62) as usize];
        n /= 62;
    }
    n == 0 && want == sum.as_bytes()
}

/// A JWT's header `alg` (the header is base64url JSON with one) and its payload's
/// bytes where they decode (RFC 7519).
fn jwt_parts(s: &str) -> Option<(String, Option<Vec<u8>>)> {
    use base64::Engine;
    let mut parts = s.split('.');
    let mut decode = || {
        let part = parts.next()?;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .ok()
    };
    let header: serde_json::Value = serde_json::from_slice(&decode()?).ok()?;
    let alg = header.get("alg")?.as_str()?.to_string();
    Some((alg, decode()))
}

/// A documentation sample (jwt.io's `"sub": "1234567890", "name": "John Doe"`) or a
/// placeholder: no one's token.
fn sample_claims(payload: &[u8]) -> bool {
    placeholder(payload)
        || payload
            .to_ascii_lowercase()
            .windows(8)
            .any(|w| w == b"john doe")
}

/// A signed JWT: the header names an algorithm other than `none`, and the payload is
/// not a documentation sample.
fn jwt(s: &str) -> Option<f64> {
    let (alg, payload) = jwt_parts(s)?;
    if alg.is_empty()
        || alg.eq_ignore_ascii_case("none")
        || payload.is_some_and(|p| sample_claims(&p))
    {
        return None;
    }
    Some(1.0)
}

/// An unsecured JWT (RFC 7519 §6: `alg` "none", an empty signature): not a signed
/// credential, but what a server that accepts `alg: none` takes as one, and its claims
/// (a JSON object, the whole token's content) are what a leak exposes.
fn jwt_unsigned(s: &str) -> Option<f64> {
    let (alg, payload) = jwt_parts(s.strip_suffix('.')?)?;
    let payload = payload?;
    let claims: serde_json::Value = serde_json::from_slice(&payload).ok()?;
    (alg.eq_ignore_ascii_case("none") && claims.is_object() && !sample_claims(&payload))
        .then_some(1.0)
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn valid_date(y: u32, m: u32, d: u32) -> bool {
    (1900..=2100).contains(&y) && national::calendar_date(y, m, d)
}

/// Day/month/year, year-month-day, or with a month name; a real calendar date.
fn date(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let nums: Vec<u32> = lower
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.parse().ok())
        .collect();
    let month_name = MONTHS
        .iter()
        .position(|m| lower.contains(m))
        .map(|i| i as u32 + 1);
    let ok = match (month_name, nums.as_slice()) {
        (Some(m), [a, b]) => {
            let (d, y) = if *a > 31 { (*b, *a) } else { (*a, *b) };
            valid_date(y, m, d)
        }
        (None, [y, m, d]) if *y >= 1000 => valid_date(*y, *m, *d),
        // d/m/y or m/d/y: accept when either reading is a date
        (None, [a, b, y]) => valid_date(*y, *b, *a) || valid_date(*y, *a, *b),
        _ => false,
    };
    ok.then_some(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tokens in GitHub's format, their checksums written by Python's zlib.crc32 and a
    /// base62 encoder (random parts from random.seed(7)).
    const PY_TOKENS: [&str; 5] = [
        "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",
        "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",
        "ghu_CN6Zj4a3dDVhYRnKTbxTNJFoBinF5a42GyMy",
        "ghs_JXVuLkSIc47WQAmL9xVQ2zg4mZaouq416qWT",
        "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",
    ];

    #[test]
    fn github_token_checksums() {
        // CredSweeper's test sample (tests/samples/github_classic_token), 31 characters
        // before the checksum; and tokens whose checksums Python's zlib.crc32 wrote
        assert!(github_checksum_ok(
            "ghp_00000000000000000000000000000004WZ4EQ"
        ));
        for t in [
            "ghp_000000000000000000000000000000", // no room: 30 zeros, no checksum
            "ghp_F1LlqsajAIxNKu8iS2G8NPRVdD53X83RZJzz",
            "ghp_1010110010001010101001010101010101011001",
        ] {
            assert!(!github_checksum_ok(t), "{t}");
        }
        for t in PY_TOKENS {
            assert!(github_checksum_ok(t), "{t}");
            // one character changed anywhere breaks it
            let mut b = t.as_bytes().to_vec();
            b[10] = if b[10] == b'a' { b'b' } else { b'a' };
            assert!(!github_checksum_ok(std::str::from_utf8(&b).unwrap()), "{t}");
        }
        // npm's tokens since 2021 (GitHub's format, its blog of 2021-09-23), checksums by
        // Python's zlib.crc32
        for t in [
            "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",
            "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",
            "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",
        ] {
            assert!(github_checksum_ok(t), "{t}");
            let mut b = t.as_bytes().to_vec();
            b[12] = if b[12] == b'a' { b'b' } else { b'a' };
            assert!(!github_checksum_ok(std::str::from_utf8(&b).unwrap()), "{t}");
        }
        assert!(!github_checksum_ok(
            "npm_NLeK6kjcbhgN7kwjSbbciSPOcSeVce2LWxm0"
        ));
        assert_eq!(github_token(PY_TOKENS[0]), 1.0);
        assert_eq!(
            github_token("ghp_F1LlqsajAIxNKu8iS2G8NPRVdD53X83RZJzz"),
            0.4
        );
    }

    #[test]
    fn checksums() {
        assert!(luhn(&digits("4111111111111111")));
        assert!(!luhn(&digits("4111111111111112")));
        assert!(
            cards::card("378282246310005", b"").is_some(),
            "Amex test number"
        );
        assert!(iban("GB82 WEST 1234 5698 7654 32").is_some());
        assert!(iban("GB82 WEST 1234 5698 7654 33").is_none());
        assert!(iban("DE89370400440532013000").is_some());
        assert!(iban("DE89-3704-0044-0532-0130-00").is_some());
        assert!(
            iban("DE89-3704 0044-0532-0130-00").is_none(),
            "mixed separators"
        );
        assert!(bitcoin("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2").is_some());
        assert!(bitcoin("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3").is_none());
        assert!(bitcoin("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq").is_some());
        assert!(bitcoin("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdx").is_none());
        assert_eq!(
            ethereum("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
            Some(1.0)
        );
        assert_eq!(ethereum("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"), None);
        // a short or non-hex match is no address (it used to slice past its end)
        assert_eq!(ethereum("x"), None);
        assert_eq!(ethereum("0x12"), None);
        assert_eq!(
            ethereum("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"),
            Some(0.7)
        );
    }

    #[test]
    fn ranges_and_parses() {
        assert!(ssn("536-22-8014").is_some());
        assert!(ssn("078-05-1120").is_none(), "voided by the SSA");
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "900-12-3456",
            "123-00-4567",
            "123-45-0000",
        ] {
            assert!(ssn(bad).is_none(), "{bad}");
        }
        assert!(ipv4("85.214.132.117", b"from ").is_some());
        assert!(ipv4("1.2.3.4", b"version ").is_none());
        assert!(ipv4("192.0.2.1", b" ").is_none());
        assert_eq!(ipv4("10.1.2.3", b" "), Some(0.6));
        assert!(ipv6("2001:4860:4860::8888").is_some());
        assert!(ipv6("::1").is_none());
        assert!(date("29/02/2000").is_some());
        assert!(date("29/02/1999").is_none());
        assert!(date("4 July 1976").is_some());
        assert!(date("July 4, 1976").is_some());
        // header and payload written by Python's json + base64.urlsafe_b64encode
        let signed =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI4ODQxMjAzIn0.c2lnbmF0dXJlLWJ5dGVz";
        assert!(jwt(signed).is_some());
        let unsigned = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiI4ODQxMjAzIiwicm9sZSI6ImFkbWluIiwiaWF0IjoxNzE2MjM5MDIyfQ.";
        assert!(jwt_unsigned(unsigned).is_some());
        assert!(jwt(unsigned.trim_end_matches('.')).is_none()); // alg none is not signed
                                                                // a signed header with its signature cut off is not an unsecured token
        assert!(
            jwt_unsigned("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI4ODQxMjAzIn0.").is_none()
        );
        assert!(jwt_unsigned(unsigned.trim_end_matches('.')).is_none());
        assert!(email("a.b@gmail.com", b"to ").is_some());
        assert!(email("pw@db.acme.io", b"postgres://app:").is_none());
        assert!(email("x@example.com", b"").is_none());
        assert!(email("logo@2x.png", b"").is_none());
    }

    #[test]
    fn base64_credentials() {
        // base64("deploy:S9c3t-tok-991"), base64("user:password"), base64("Hv-claims!9Qz2Lw")
        assert!(basic_credential("ZGVwbG95OlM5YzN0LXRvay05OTE=").is_some());
        assert!(
            basic_credential("dXNlcjpwYXNzd29yZA==").is_none(),
            "user:password"
        );
        assert!(
            basic_credential("dXNlcjp5b3VyLXBhc3N3b3Jk").is_none(),
            "user:your-password"
        );
        assert!(basic_credential("aGVsbG8gd29ybGQ=").is_none(), "no colon");
        assert!(base64_secret("SHYtY2xhaW1zITlRejJMdw==").is_some());
        assert!(base64_secret("AAECAwQFBgcICQ==").is_none(), "binary");
        assert!(base64_secret("Y2hhbmdlbWU=").is_none(), "changeme");
    }

    #[test]
    fn code_is_not_a_secret() {
        for code in [
            "os.path.dirname(os.path.abspath(__file__",
            "self._claim.token",
            "constants.OAUTH_CLIENT_SECRET",
            "country_mobile_token",
            "TextGenerationStreamOutputToken",
            "authTokenValue",
            "Optional[HiddenText",
            "tile_x_separator_token",
            "-dist_per_token.log_prob",
        ] {
            assert!(code_expression(code), "{code}");
        }
        for secret in [
            "vkfbjnjHX1fw0xBwIRL3JjQMKvoVNq0T",
            "EWcXPtPXJTDJrxHHriqaJEgPZXxjOoz",
            "Xk9#mQ2!${pL7v",
            "bWkOrp~bndzCm5",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
            "vkfb_jnjHXfwxBwIRLJjQ",
            "Tr0ub4dor(&3x",
            "Summer[2024]!",
        ] {
            assert!(!code_expression(secret), "{secret}");
        }
    }

    #[test]
    fn entropy_by_hand() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-12);
    }
}
