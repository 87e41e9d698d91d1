//! Fuzz harness for every parser of untrusted bytes (issue 13 §5), on stable Rust.
//!
//!     cargo run --release --example fuzz -- [--seconds N] [--seed S] [--threads T]
//!         [--out DIR] [--hang-secs H] [--max-alloc-mib M] [--list] [TARGET...]
//!     cargo run --release --example fuzz -- --replay TARGET FILE
//!
//! No target names = all of them (`--list` prints them). Each target starts from valid
//! files built in code (a GGUF with a tensor of every supported quant type and a BPE
//! vocabulary, safetensors shards and their index, tokenizer.json files, the built-in
//! rule files, an index built by `verbatim::build`, JSONL/text inputs, chat templates)
//! and mutates them: byte-level (flips, inserts, deletes, splices, interesting values)
//! and structure-aware (a GGUF length, count, offset, type id, n_dims or dimension; a
//! JSON or TOML node replaced, deleted, duplicated or retyped; a JSONL line; a vocabulary
//! rebuilt with odd tokens, merges or ids). Each input runs through the real public API
//! (files written under /dev/shm) inside `catch_unwind`: an `Err` is the right answer,
//! a panic is a failure, keyed by its location.
//!
//! Each target runs in a worker process (this binary with `--worker`); the supervisor
//! restarts it after an abort (a refused allocation, a stack overflow) or a hang and
//! records that too, from the input the worker wrote to `<out>/<target>/current` before
//! every execution. The allocator refuses any single allocation above `--max-alloc-mib`
//! (default 1024) and any that would take the live total past 4× that, after printing a
//! marker with a backtrace, so an allocation sized by the input is a failure rather than
//! an exhausted machine.
//!
//! The first input of every distinct failure is saved as `<out>/<target>/crash-<hash>.bin`
//! (with `crash-<hash>.txt` saying what happened); inputs of several files (safetensors,
//! tokenizer-json, index) are packed as `MSFZ` containers (see `pack`). The table at the
//! end gives, per target, executions, seconds, executions per second, the share of inputs
//! the parser accepted, and distinct failures; the exit code is 1 when any were found.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------
// Allocator: refuses allocations sized by a corrupt input instead of taking the machine.

struct Capped;

static CAP: AtomicUsize = AtomicUsize::new(1 << 30);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static LIVE_CAP: AtomicUsize = AtomicUsize::new(4 << 30);

thread_local! {
    static REFUSING: Cell<bool> = const { Cell::new(false) };
}

const ALLOC_MARKER: &str = "FUZZ-ALLOC-REFUSED";

fn over(extra: usize, size: usize) -> bool {
    size > CAP.load(Relaxed) || LIVE.load(Relaxed).saturating_add(extra) > LIVE_CAP.load(Relaxed)
}

/// Prints the marker (without allocating), then a backtrace (small allocations only).
#[cold]
fn refuse(size: usize) {
    let mut buf = [0u8; 64];
    let head = b"\nFUZZ-ALLOC-REFUSED ";
    buf[..head.len()].copy_from_slice(head);
    let mut n = head.len();
    let mut digits = [0u8; 20];
    let (mut v, mut k) = (size, 0);
    loop {
        digits[k] = b'0' + (v % 10) as u8;
        k += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    while k > 0 {
        k -= 1;
        buf[n] = digits[k];
        n += 1;
    }
    buf[n] = b'\n';
    n += 1;
    // SAFETY: writes a stack buffer to stderr.
    unsafe { libc::write(2, buf.as_ptr().cast(), n) };
    let _ = REFUSING.try_with(|r| {
        if !r.replace(true) {
            let bt = std::backtrace::Backtrace::force_capture();
            eprintln!("{bt}\nFUZZ-ALLOC-END");
            r.set(false);
        }
    });
}

// SAFETY: forwards to the system allocator; only adds accounting and refusals (null).
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if over(l.size(), l.size()) {
            refuse(l.size());
            return std::ptr::null_mut();
        }
        let p = System.alloc(l);
        if !p.is_null() {
            LIVE.fetch_add(l.size(), Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        if over(l.size(), l.size()) {
            refuse(l.size());
            return std::ptr::null_mut();
        }
        let p = System.alloc_zeroed(l);
        if !p.is_null() {
            LIVE.fetch_add(l.size(), Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l);
        LIVE.fetch_sub(l.size(), Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if over(new.saturating_sub(l.size()), new) {
            refuse(new);
            return std::ptr::null_mut();
        }
        let q = System.realloc(p, l, new);
        if !q.is_null() {
            LIVE.fetch_add(new, Relaxed);
            LIVE.fetch_sub(l.size(), Relaxed);
        }
        q
    }
}

#[global_allocator]
static GLOBAL: Capped = Capped;

// ---------------------------------------------------------------------------------------
// Random numbers: SplitMix64.

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, n); 0 when n is 0.
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    /// 1 + a geometric count (p = 1/2), at most `max`.
    fn count(&mut self, max: usize) -> usize {
        let mut n = 1;
        while n < max && self.chance(0.5) {
            n += 1;
        }
        n
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

// ---------------------------------------------------------------------------------------
// Inputs: one or several named files.

type Files = Vec<(String, Vec<u8>)>;

/// Packs several files into one: `MSFZ`, u32 count, then per file u32 name length,
/// name, u64 data length, data (little-endian). tests/fuzz_regressions.rs unpacks it.
fn pack(files: &Files) -> Vec<u8> {
    let mut out = b"MSFZ".to_vec();
    out.extend((files.len() as u32).to_le_bytes());
    for (name, data) in files {
        out.extend((name.len() as u32).to_le_bytes());
        out.extend(name.as_bytes());
        out.extend((data.len() as u64).to_le_bytes());
        out.extend(data);
    }
    out
}

fn unpack(b: &[u8]) -> Option<Files> {
    let mut pos: usize = 4;
    if b.get(..4)? != b"MSFZ" {
        return None;
    }
    let mut take = |n: usize| -> Option<&[u8]> {
        let s = b.get(pos..pos.checked_add(n)?)?;
        pos += n;
        Some(s)
    };
    let n = u32::from_le_bytes(take(4)?.try_into().ok()?);
    let mut files = Vec::new();
    for _ in 0..n {
        let k = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
        let name = String::from_utf8(take(k)?.to_vec()).ok()?;
        let d = u64::from_le_bytes(take(8)?.try_into().ok()?) as usize;
        files.push((name, take(d)?.to_vec()));
    }
    Some(files)
}

/// How a seed file may be mutated beyond bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Binary,
    Json,
    Toml,
    Jsonl,
    Text,
    /// u64 header length, JSON header, data.
    Safetensors,
}

/// What a binary field holds (which values are interesting for it).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum FieldKind {
    Version,
    Len,
    Count,
    TypeId,
    GgmlType,
    NDims,
    Dim,
    Offset,
    Bool,
    Scalar,
    Entry,
}

#[derive(Clone, Copy, Debug)]
struct Field {
    file: usize,
    off: usize,
    width: usize,
    kind: FieldKind,
}

#[derive(Clone)]
struct Seed {
    files: Files,
    kinds: Vec<Kind>,
    fields: Vec<Field>,
}

impl Seed {
    fn one(name: &str, data: Vec<u8>, kind: Kind) -> Seed {
        Seed {
            files: vec![(name.to_string(), data)],
            kinds: vec![kind],
            fields: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Mutations.

const INTERESTING: &[u64] = &[
    0,
    1,
    2,
    3,
    4,
    7,
    8,
    15,
    16,
    31,
    32,
    33,
    63,
    64,
    127,
    128,
    255,
    256,
    257,
    0x7fff,
    0x8000,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    1 << 40,
    1 << 53,
    1 << 62,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX - 31,
    u64::MAX - 1,
    u64::MAX,
];

fn interesting(rng: &mut Rng, old: u64, len: usize) -> u64 {
    match rng.below(6) {
        0 => rng.next(),
        1 => old.wrapping_add(rng.below(33) as u64).wrapping_sub(16),
        2 => [
            len as u64,
            len as u64 + 1,
            (len as u64).wrapping_sub(1),
            len as u64 / 2,
        ][rng.below(4)],
        3 => old.wrapping_mul(2 + rng.below(1000) as u64),
        _ => *rng.pick(INTERESTING),
    }
}

fn interesting_for(rng: &mut Rng, kind: FieldKind, old: u64, len: usize) -> u64 {
    if rng.chance(0.3) {
        return interesting(rng, old, len);
    }
    match kind {
        FieldKind::Version => rng.below(6) as u64,
        FieldKind::TypeId => {
            *rng.pick(&[0, 1, 4, 6, 7, 8, 9, 9, 10, 12, 13, 14, 255, u32::MAX as u64])
        }
        FieldKind::GgmlType => {
            if rng.chance(0.5) {
                *rng.pick(&[0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 30])
            } else {
                rng.below(48) as u64
            }
        }
        FieldKind::NDims => *rng.pick(&[0, 1, 2, 3, 4, 5, 8, 0x8000_0000, u32::MAX as u64]),
        FieldKind::Dim => *rng.pick(&[
            0,
            1,
            2,
            31,
            32,
            33,
            255,
            256,
            257,
            512,
            1 << 20,
            1 << 31,
            1 << 32,
            1 << 40,
            1 << 63,
            u64::MAX,
            old * 2,
            old + 1,
        ]),
        FieldKind::Len | FieldKind::Count => *rng.pick(&[
            0,
            1,
            old.wrapping_add(1),
            old.wrapping_sub(1),
            old.wrapping_mul(2),
            len as u64,
            u32::MAX as u64,
            1 << 62,
            u64::MAX,
            i64::MAX as u64,
        ]),
        FieldKind::Offset => *rng.pick(&[
            0,
            1,
            old.wrapping_add(1),
            old.wrapping_sub(1),
            old.wrapping_add(32),
            old.wrapping_sub(32),
            len as u64,
            len as u64 - 1,
            u64::MAX,
            u64::MAX - 31,
            1 << 63,
        ]),
        FieldKind::Bool => *rng.pick(&[0, 1, 2, 255]),
        FieldKind::Entry => *rng.pick(&[
            0,
            old.wrapping_add(1),
            old.wrapping_sub(1),
            len as u64,
            len as u64 + 1,
            u32::MAX as u64,
            u64::MAX,
        ]),
        FieldKind::Scalar => interesting(rng, old, len),
    }
}

fn read_le(b: &[u8], off: usize, width: usize) -> u64 {
    let mut a = [0u8; 8];
    a[..width].copy_from_slice(&b[off..off + width]);
    u64::from_le_bytes(a)
}

fn write_le(b: &mut [u8], off: usize, width: usize, v: u64) {
    b[off..off + width].copy_from_slice(&v.to_le_bytes()[..width]);
}

/// Overwrites one to three of the file's recorded fields.
fn mutate_fields(rng: &mut Rng, data: &mut [u8], fields: &[Field]) -> bool {
    if fields.is_empty() {
        return false;
    }
    for _ in 0..rng.count(3) {
        let f = *rng.pick(fields);
        if f.off + f.width > data.len() {
            continue;
        }
        let old = read_le(data, f.off, f.width);
        let v = interesting_for(rng, f.kind, old, data.len());
        write_le(data, f.off, f.width, v);
    }
    true
}

/// One byte-level mutation. `other` is a file to splice from.
fn mutate_bytes(rng: &mut Rng, d: &mut Vec<u8>, dict: &[&str], other: Option<&[u8]>) {
    let n = d.len();
    let pos = rng.below(n + 1);
    match rng.below(13) {
        0 if n > 0 => {
            let i = rng.below(n);
            d[i] ^= 1 << rng.below(8);
        }
        1 if n > 0 => {
            let i = rng.below(n);
            d[i] = rng.next() as u8;
        }
        2 if n > 0 => {
            let width = *rng.pick(&[1usize, 2, 4, 8]);
            if n >= width {
                let off = rng.below(n - width + 1);
                let old = read_le(d, off, width);
                let v = interesting(rng, old, n);
                if rng.chance(0.8) {
                    write_le(d, off, width, v);
                } else {
                    d[off..off + width].copy_from_slice(&v.to_be_bytes()[8 - width..]);
                }
            }
        }
        3 if n > 0 => {
            let k = 1 + rng.below(n.min(64));
            let i = rng.below(n - k + 1);
            d.drain(i..i + k);
        }
        4 => {
            let k = 1 + rng.below(16);
            let b = rng.bytes(k);
            d.splice(pos..pos, b);
        }
        5 if n > 0 => {
            let k = 1 + rng.below(n.min(256));
            let i = rng.below(n - k + 1);
            let chunk = d[i..i + k].to_vec();
            d.splice(pos..pos, chunk);
        }
        6 | 7 if !dict.is_empty() => {
            let t = rng.pick(dict).as_bytes();
            if rng.chance(0.5) || pos + t.len() > n {
                d.splice(pos..pos, t.iter().copied());
            } else {
                d[pos..pos + t.len()].copy_from_slice(t);
            }
        }
        8 => {
            if let Some(o) = other.filter(|o| !o.is_empty()) {
                let from = rng.below(o.len());
                let k = 1 + rng.below(o.len() - from);
                let end = (pos + k).min(n);
                d.splice(pos..end, o[from..from + k].iter().copied());
            }
        }
        9 if n > 0 => d.truncate(if rng.chance(0.2) { 0 } else { rng.below(n) }),
        10 if n > 0 => {
            let i = rng.below(n);
            d[i] = d[i].wrapping_add(rng.below(32) as u8).wrapping_sub(16);
        }
        11 => {
            let k = 1 + rng.below(64);
            let b = if rng.chance(0.5) { 0u8 } else { 0xFF };
            d.splice(pos..pos, std::iter::repeat_n(b, k));
        }
        12 if n > 1 => {
            let k = 1 + rng.below(n / 2);
            let a = rng.below(n - k + 1);
            let b = rng.below(n - k + 1);
            let chunk = d[a..a + k].to_vec();
            d[b..b + k].copy_from_slice(&chunk);
        }
        _ => {
            let k = 1 + rng.below(4);
            let b = rng.bytes(k);
            d.splice(pos..pos, b);
        }
    }
}

// --- JSON trees (also TOML, converted through serde) ---

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Idx(usize),
}

fn json_paths(
    v: &Value,
    cur: &mut Vec<Step>,
    out: &mut Vec<Vec<Step>>,
    keys: &mut BTreeSet<String>,
) {
    out.push(cur.clone());
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                keys.insert(k.clone());
                cur.push(Step::Key(k.clone()));
                json_paths(x, cur, out, keys);
                cur.pop();
            }
        }
        Value::Array(a) => {
            // long arrays: a sample of their elements
            let step = (a.len() / 64).max(1);
            for (i, x) in a.iter().enumerate().step_by(step) {
                cur.push(Step::Idx(i));
                json_paths(x, cur, out, keys);
                cur.pop();
            }
        }
        _ => {}
    }
}

fn json_at<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    let mut v = v;
    for s in path {
        v = match (s, v) {
            (Step::Key(k), Value::Object(m)) => m.get_mut(k)?,
            (Step::Idx(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

fn json_interesting(rng: &mut Rng, dict: &[&str], old: &Value) -> Value {
    match rng.below(8) {
        0 | 1 => {
            let numbers: &[Value] = &[
                json!(0),
                json!(1),
                json!(-1),
                json!(2),
                json!(255),
                json!(256),
                json!(65535),
                json!(2147483647),
                json!(2147483648u64),
                json!(4294967295u64),
                json!(4294967296u64),
                json!(9007199254740993u64),
                json!(i64::MAX),
                json!(i64::MIN),
                json!(u64::MAX),
                json!(1e308),
                json!(-1e308),
                json!(0.5),
                json!(-0.0),
                json!(1e-300),
            ];
            if let (Some(n), true) = (old.as_i64(), rng.chance(0.3)) {
                json!(n.wrapping_add(rng.below(5) as i64 - 2))
            } else {
                rng.pick(numbers).clone()
            }
        }
        2 | 3 => {
            let s = match rng.below(6) {
                0 => String::new(),
                1 if !dict.is_empty() => rng.pick(dict).to_string(),
                2 => "A".repeat(1 + rng.below(5000)),
                3 => "\u{0}é中😀\\\"".to_string(),
                4 => rng.next().to_string(),
                _ => match old {
                    Value::String(s) if !dict.is_empty() => {
                        let mut s = s.clone();
                        let at = rng.below(s.len() + 1);
                        if s.is_char_boundary(at) {
                            let word: &&str = rng.pick(dict);
                            s.insert_str(at, word);
                        }
                        s
                    }
                    _ => "x".into(),
                },
            };
            Value::String(s)
        }
        4 => Value::Bool(rng.chance(0.5)),
        5 => Value::Null,
        6 => {
            if rng.chance(0.5) {
                json!([])
            } else {
                json!([old.clone()])
            }
        }
        _ => {
            if rng.chance(0.5) {
                json!({})
            } else {
                json!({ "x": old.clone() })
            }
        }
    }
}

/// Field hints: a key and a JSON array of values worth trying for it.
type Hints = &'static [(&'static str, &'static str)];

/// Sets a hinted key of a random object to one of its interesting values (keys the
/// object has are preferred).
fn mutate_hinted(rng: &mut Rng, root: &mut Value, paths: &[Vec<Step>], hints: Hints) -> bool {
    let objects: Vec<&Vec<Step>> = paths
        .iter()
        .filter(|p| json_at(root, p).is_some_and(|v| v.is_object()))
        .collect();
    if objects.is_empty() || hints.is_empty() {
        return false;
    }
    let path = (*rng.pick(&objects)).clone();
    let Some(Value::Object(m)) = json_at(root, &path) else {
        return false;
    };
    let present: Vec<&(&str, &str)> = hints.iter().filter(|(k, _)| m.contains_key(*k)).collect();
    let (key, values) = if !present.is_empty() && rng.chance(0.8) {
        **rng.pick(&present)
    } else {
        *rng.pick(hints)
    };
    let Ok(Value::Array(values)) = serde_json::from_str::<Value>(values) else {
        return false;
    };
    if values.is_empty() {
        return false;
    }
    m.insert(key.to_string(), rng.pick(&values).clone());
    true
}

/// One structural change to a JSON document.
fn mutate_json_value(rng: &mut Rng, root: &mut Value, dict: &[&str], hints: Hints) {
    let mut paths = Vec::new();
    let mut keys = BTreeSet::new();
    json_paths(root, &mut Vec::new(), &mut paths, &mut keys);
    if rng.chance(0.4) && mutate_hinted(rng, root, &paths, hints) {
        return;
    }
    let keys: Vec<String> = keys.into_iter().collect();
    let path = rng.pick(&paths).clone();
    let op = rng.below(6);
    if op <= 1 || path.is_empty() {
        if let Some(node) = json_at(root, &path) {
            if op == 1 && node.is_number() && rng.chance(0.7) {
                // perturb a number
                *node = match node.as_f64() {
                    Some(x) => {
                        let choices = [x + 1.0, x - 1.0, x * 2.0, -x, x * 1e6, x + 0.5];
                        let y = choices[rng.below(choices.len())];
                        if y.fract() == 0.0 && y.abs() < 9e18 {
                            json!(y as i64)
                        } else {
                            json!(y)
                        }
                    }
                    None => json!(0),
                };
            } else {
                let old = node.clone();
                *node = json_interesting(rng, dict, &old);
            }
        }
        return;
    }
    let (last, parent_path) = path.split_last().unwrap_or((&Step::Idx(0), &[]));
    let other = {
        let p = rng.pick(&paths).clone();
        json_at(root, &p).cloned().unwrap_or(Value::Null)
    };
    let Some(parent) = json_at(root, parent_path) else {
        return;
    };
    match (op, last, parent) {
        (2, Step::Key(k), Value::Object(m)) => {
            m.remove(k);
        }
        (2, Step::Idx(i), Value::Array(a)) if *i < a.len() => {
            a.remove(*i);
        }
        (3, Step::Key(k), Value::Object(m)) => {
            // rename the key (to another key of the document, or a dictionary word)
            if let Some(v) = m.remove(k) {
                let nk = if !keys.is_empty() && rng.chance(0.7) {
                    rng.pick(&keys).clone()
                } else if !dict.is_empty() {
                    rng.pick(dict).to_string()
                } else {
                    "x".into()
                };
                m.insert(nk, v);
            }
        }
        (3, Step::Idx(i), Value::Array(a)) if *i < a.len() => {
            let v = a[*i].clone();
            for _ in 0..rng.count(4) {
                a.insert(*i, v.clone());
            }
        }
        (4, Step::Key(k), Value::Object(m)) => {
            m.insert(k.clone(), other);
        }
        (4, Step::Idx(i), Value::Array(a)) if *i < a.len() => {
            a[*i] = other;
        }
        // add a key from the document's key set with another node's value
        (_, _, Value::Object(m)) if !keys.is_empty() => {
            m.insert(rng.pick(&keys).clone(), other);
        }
        (_, Step::Idx(i), Value::Array(a)) if *i < a.len() && a.len() > 1 => {
            let j = rng.below(a.len());
            a.swap(*i, j);
        }
        _ => {}
    }
}

fn mutate_json(rng: &mut Rng, data: &mut Vec<u8>, dict: &[&str], hints: Hints) -> bool {
    let Ok(mut v) = serde_json::from_slice::<Value>(data) else {
        return false;
    };
    for _ in 0..rng.count(3) {
        mutate_json_value(rng, &mut v, dict, hints);
    }
    let out = if rng.chance(0.5) {
        serde_json::to_vec(&v)
    } else {
        serde_json::to_vec_pretty(&v)
    };
    match out {
        Ok(o) => {
            *data = o;
            true
        }
        Err(_) => false,
    }
}

fn mutate_toml(rng: &mut Rng, data: &mut Vec<u8>, dict: &[&str], hints: Hints) -> bool {
    let Some(mut v) = std::str::from_utf8(data)
        .ok()
        .and_then(|t| toml::from_str::<toml::Table>(t).ok())
        .and_then(|t| serde_json::to_value(t).ok())
    else {
        return false;
    };
    for _ in 0..rng.count(3) {
        mutate_json_value(rng, &mut v, dict, hints);
    }
    // nulls have no TOML form: drop them
    fn drop_nulls(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.retain(|_, x| !x.is_null());
                m.values_mut().for_each(drop_nulls);
            }
            Value::Array(a) => {
                a.retain(|x| !x.is_null());
                a.iter_mut().for_each(drop_nulls);
            }
            _ => {}
        }
    }
    drop_nulls(&mut v);
    match toml::Table::try_from(v)
        .ok()
        .and_then(|t| toml::to_string(&t).ok())
    {
        Some(s) => {
            *data = s.into_bytes();
            true
        }
        None => false,
    }
}

fn mutate_jsonl(rng: &mut Rng, data: &mut Vec<u8>, dict: &[&str], hints: Hints) -> bool {
    let text = String::from_utf8_lossy(data).to_string();
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let n = lines.len();
    let i = rng.below(n);
    match rng.below(8) {
        0..=3 => {
            let mut b = lines[i].clone().into_bytes();
            if !mutate_json(rng, &mut b, dict, hints) {
                return false;
            }
            // one line: compact form only
            let compact = serde_json::from_slice::<Value>(&b)
                .ok()
                .and_then(|v| serde_json::to_string(&v).ok())
                .unwrap_or_default();
            lines[i] = compact;
        }
        4 => {
            lines.remove(i);
        }
        5 => {
            let l = lines[i].clone();
            lines.insert(rng.below(n), l);
        }
        6 => {
            let extra = [
                "",
                " ",
                "\r",
                "\t  ",
                "{}",
                "[]",
                "null",
                "\"text\"",
                "{\"text\":",
                "\u{feff}{\"text\":\"bom\"}",
            ];
            lines.insert(rng.below(n + 1), rng.pick(&extra).to_string());
        }
        _ => {
            let j = rng.below(n);
            lines.swap(i, j);
        }
    }
    *data = lines
        .join(if rng.chance(0.9) { "\n" } else { "\r\n" })
        .into_bytes();
    true
}

/// Rewrites a safetensors header's JSON (and usually its length prefix to match).
fn mutate_safetensors(rng: &mut Rng, data: &mut Vec<u8>, dict: &[&str], hints: Hints) -> bool {
    if data.len() < 8 {
        return false;
    }
    let n = u64::from_le_bytes(data[..8].try_into().unwrap_or_default()) as usize;
    if n > data.len() - 8 {
        return false;
    }
    let mut header = data[8..8 + n].to_vec();
    let body = data[8 + n..].to_vec();
    if !mutate_json(rng, &mut header, dict, hints) {
        return false;
    }
    if rng.chance(0.3) {
        header.extend(std::iter::repeat_n(b' ', rng.below(16)));
    }
    let len = if rng.chance(0.85) {
        header.len() as u64
    } else {
        interesting(rng, header.len() as u64, data.len())
    };
    let mut out = len.to_le_bytes().to_vec();
    out.extend(header);
    out.extend(body);
    *data = out;
    true
}

/// A mutated copy of `seed`'s files; the flag says whether field offsets still hold.
fn mutate(rng: &mut Rng, seed: &Seed, all: &[Seed], dict: &[&str], hints: Hints) -> (Files, bool) {
    let mut files = seed.files.clone();
    if files.is_empty() {
        return (files, false);
    }
    let mut intact = true;
    let rounds = if files.len() > 1 && rng.chance(0.2) {
        2
    } else {
        1
    };
    for _ in 0..rounds {
        let fi = rng.below(files.len());
        let kind = seed.kinds.get(fi).copied().unwrap_or(Kind::Binary);
        let structural = rng.chance(0.6);
        let mut did = false;
        if structural {
            let data = &mut files[fi].1;
            did = match kind {
                Kind::Binary => {
                    let fields: Vec<Field> = seed
                        .fields
                        .iter()
                        .filter(|f| f.file == fi)
                        .copied()
                        .collect();
                    mutate_fields(rng, data, &fields)
                }
                Kind::Json => mutate_json(rng, data, dict, hints),
                Kind::Toml => mutate_toml(rng, data, dict, hints),
                Kind::Jsonl => mutate_jsonl(rng, data, dict, hints),
                Kind::Safetensors => mutate_safetensors(rng, data, dict, hints),
                Kind::Text => false,
            };
            if did && kind != Kind::Binary {
                intact = false;
            }
        }
        let byte_ops = if did && rng.chance(0.6) {
            0
        } else {
            rng.count(8)
        };
        if byte_ops > 0 {
            intact = false;
        }
        for _ in 0..byte_ops {
            let other = {
                let s = rng.pick(all);
                s.files.get(fi).map(|f| f.1.clone())
            };
            mutate_bytes(rng, &mut files[fi].1, dict, other.as_deref());
        }
    }
    (files, intact)
}

// ---------------------------------------------------------------------------------------
// Seed writers.

/// GGUF metadata values as written.
#[derive(Clone, Debug)]
enum Mv {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    Str(String),
    Arr(u32, Vec<Mv>),
    U64(u64),
    I64(i64),
    F64(f64),
}

impl Mv {
    fn type_id(&self) -> u32 {
        match self {
            Mv::U8(_) => 0,
            Mv::I8(_) => 1,
            Mv::U16(_) => 2,
            Mv::I16(_) => 3,
            Mv::U32(_) => 4,
            Mv::I32(_) => 5,
            Mv::F32(_) => 6,
            Mv::Bool(_) => 7,
            Mv::Str(_) => 8,
            Mv::Arr(..) => 9,
            Mv::U64(_) => 10,
            Mv::I64(_) => 11,
            Mv::F64(_) => 12,
        }
    }
    fn strs(v: &[String]) -> Mv {
        Mv::Arr(8, v.iter().map(|s| Mv::Str(s.clone())).collect())
    }
}

struct GgufTensor {
    name: String,
    /// ggml order (ne0 first)
    ne: Vec<u64>,
    ggml_type: u32,
    data: Vec<u8>,
}

struct GgufWriter {
    b: Vec<u8>,
    fields: Vec<Field>,
}

impl GgufWriter {
    fn field(&mut self, v: u64, width: usize, kind: FieldKind) {
        self.fields.push(Field {
            file: 0,
            off: self.b.len(),
            width,
            kind,
        });
        self.b.extend(&v.to_le_bytes()[..width]);
    }
    fn string(&mut self, s: &str) {
        self.field(s.len() as u64, 8, FieldKind::Len);
        self.b.extend(s.as_bytes());
    }
    fn value(&mut self, v: &Mv) {
        match v {
            Mv::U8(x) => self.field(*x as u64, 1, FieldKind::Scalar),
            Mv::I8(x) => self.field(*x as u8 as u64, 1, FieldKind::Scalar),
            Mv::U16(x) => self.field(*x as u64, 2, FieldKind::Scalar),
            Mv::I16(x) => self.field(*x as u16 as u64, 2, FieldKind::Scalar),
            Mv::U32(x) => self.field(*x as u64, 4, FieldKind::Scalar),
            Mv::I32(x) => self.field(*x as u32 as u64, 4, FieldKind::Scalar),
            Mv::F32(x) => self.b.extend(x.to_le_bytes()),
            Mv::Bool(x) => self.field(*x as u64, 1, FieldKind::Bool),
            Mv::Str(s) => self.string(s),
            Mv::Arr(ty, items) => {
                self.field(*ty as u64, 4, FieldKind::TypeId);
                self.field(items.len() as u64, 8, FieldKind::Count);
                for it in items {
                    self.value(it);
                }
            }
            Mv::U64(x) => self.field(*x, 8, FieldKind::Scalar),
            Mv::I64(x) => self.field(*x as u64, 8, FieldKind::Scalar),
            Mv::F64(x) => self.b.extend(x.to_le_bytes()),
        }
    }

    /// A whole GGUF file; `alignment` must match `general.alignment` when that is set.
    fn file(
        version: u32,
        kvs: &[(&str, Mv)],
        tensors: &[GgufTensor],
        alignment: usize,
    ) -> (Vec<u8>, Vec<Field>) {
        let mut w = GgufWriter {
            b: b"GGUF".to_vec(),
            fields: Vec::new(),
        };
        w.field(version as u64, 4, FieldKind::Version);
        w.field(tensors.len() as u64, 8, FieldKind::Count);
        w.field(kvs.len() as u64, 8, FieldKind::Count);
        for (k, v) in kvs {
            w.string(k);
            w.field(v.type_id() as u64, 4, FieldKind::TypeId);
            w.value(v);
        }
        let mut offset = 0usize;
        let mut offsets = Vec::new();
        for t in tensors {
            w.string(&t.name);
            w.field(t.ne.len() as u64, 4, FieldKind::NDims);
            for &d in &t.ne {
                w.field(d, 8, FieldKind::Dim);
            }
            w.field(t.ggml_type as u64, 4, FieldKind::GgmlType);
            w.field(offset as u64, 8, FieldKind::Offset);
            offsets.push(offset);
            offset = (offset + t.data.len()).div_ceil(alignment) * alignment;
        }
        let start = w.b.len().div_ceil(alignment) * alignment;
        w.b.resize(start, 0);
        for (t, off) in tensors.iter().zip(offsets) {
            w.b.resize(start + off, 0);
            w.b.extend(&t.data);
        }
        (w.b, w.fields)
    }
}

/// GPT-2's byte → printable character table (bytes_to_unicode).
fn byte_chars() -> Vec<char> {
    let mut bs: Vec<u32> = (b'!' as u32..=b'~' as u32)
        .chain(0xA1..=0xAC)
        .chain(0xAE..=0xFF)
        .collect();
    let mut cs = bs.clone();
    let mut n = 0;
    for b in 0..256u32 {
        if !bs.contains(&b) {
            bs.push(b);
            cs.push(256 + n);
            n += 1;
        }
    }
    let mut table = vec!['\0'; 256];
    for (b, c) in bs.iter().zip(cs) {
        table[*b as usize] = char::from_u32(c).unwrap_or('?');
    }
    table
}

/// A byte-level BPE vocabulary: 256 byte tokens, merged words, special tokens.
struct Vocab {
    tokens: Vec<String>,
    types: Vec<i32>,
    merges: Vec<String>,
    bos: u32,
    eos: u32,
}

fn vocab() -> Vocab {
    let chars = byte_chars();
    let enc =
        |s: &str| -> Vec<String> { s.bytes().map(|b| chars[b as usize].to_string()).collect() };
    let mut tokens: Vec<String> = chars.iter().map(|c| c.to_string()).collect();
    let mut types = vec![1i32; 256];
    let mut merges = Vec::new();
    for word in [
        "hello", " world", "the", " the", " and", "ing", " memscan", "12", "\n\n", "<|",
    ] {
        let parts = enc(word);
        let mut acc = parts[0].clone();
        for p in &parts[1..] {
            let merged = format!("{acc}{p}");
            let m = format!("{acc} {p}");
            if !merges.contains(&m) {
                merges.push(m);
            }
            if !tokens.contains(&merged) {
                tokens.push(merged.clone());
                types.push(1);
            }
            acc = merged;
        }
    }
    let specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
    let bos = tokens.len() as u32;
    for s in specials {
        tokens.push(s.to_string());
        types.push(3);
    }
    tokens.push("<user_defined>".into());
    types.push(4);
    Vocab {
        tokens,
        types,
        merges,
        bos,
        eos: bos + 2,
    }
}

const CHATML: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const CHAT_TEMPLATES: &[&str] = &[
    CHATML,
    "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content | trim + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content | trim + ' ' + eos_token }}{% endif %}{% endfor %}",
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}",
    "{% for message in messages %}{% if message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + eos_token }}{% elif message['role'] == 'system' %}{{ '<|system|>\\n' + message['content'] + eos_token }}{% elif message['role'] == 'assistant' %}{{ '<|assistant|>\\n'  + message['content'] + eos_token }}{% endif %}{% if loop.last and add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}{% endfor %}",
    "{%- set ns = namespace(found=false) -%}{%- for m in messages -%}{%- if m.role == 'system' -%}{%- set ns.found = true -%}{%- endif -%}{%- endfor -%}{%- macro fmt(m) -%}[{{ m.role|upper }}] {{ m.content|replace('\\n', ' ')|title }}{%- endmacro -%}{%- for m in messages -%}{{ fmt(m) }}{{ '\\n' if not loop.last }}{%- endfor -%}{{ '[ASSISTANT]' if add_generation_prompt }}{{ messages|length }}{{ range(3)|join(',') }}{% for k, v in messages[0]|items %}{{ k }}={{ v }};{% endfor %}{{ (messages|first).content[:5] }}{{ ns.found }}",
];

const JINJA_DICT: &[&str] = &[
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "{%-",
    "-%}",
    "{% for x in range(100000) %}",
    "{% for m in messages %}",
    "{% endfor %}",
    "{% if true %}",
    "{% else %}",
    "{% endif %}",
    "{% macro m(x) %}{{ m(x) }}{% endmacro %}{{ m(1) }}",
    "{% set x = 1 %}",
    "{% set ns = namespace(a=1) %}",
    "{% include 'chat' %}",
    "{% extends 'chat' %}",
    "{% import 'chat' as c %}",
    "{% filter upper %}",
    "{% endfilter %}",
    "{% raw %}",
    "{% endraw %}",
    "{% with a = 1 %}",
    "{% endwith %}",
    "{% call m() %}",
    "{% endcall %}",
    "messages",
    "message['content']",
    "messages[0]",
    "messages[-1]",
    "loop.index0",
    "loop.cycle(1, 2)",
    "bos_token",
    "eos_token",
    "add_generation_prompt",
    "raise_exception('x')",
    "|upper",
    "|join(', ')",
    "|trim",
    "|length",
    "|batch(0)",
    "|batch(3)",
    "|slice(0)",
    "|indent(99999)",
    "|center(999999)",
    "|round(400)",
    "|int",
    "|float",
    "|reverse",
    "|sort",
    "|unique",
    "|dictsort",
    "|map('upper')",
    "|select('odd')",
    "|format(1, 2)",
    "|replace('', 'x')",
    "|truncate(-1)",
    "|wordcount",
    "|title",
    "|tojson",
    "|attr('x')",
    "|default(1)",
    "~",
    " + ",
    " * ",
    " ** ",
    " // ",
    " % ",
    " / ",
    "[::-1]",
    "[1:9999999999999]",
    "[-9223372036854775808]",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "1e308",
    "0.0",
    "'a' * 1000000",
    "'%s' % 1",
    "[1, 2, 3]",
    "{'a': 1}",
    "(1, 2)",
    "range(9999999999)",
    "range(0, 10, 0)",
    "namespace(",
    "none",
    "undefined_name",
    "x.y.z",
    "\"",
    "'",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "\u{0}",
    "é",
];

fn f32_bytes(rng: &mut Rng, n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|_| ((rng.below(2001) as f32 - 1000.0) / 1000.0).to_le_bytes())
        .collect()
}

fn f16_bytes(rng: &mut Rng, n: usize, bf: bool) -> Vec<u8> {
    (0..n)
        .flat_map(|_| {
            let x = (rng.below(2001) as f32 - 1000.0) / 1000.0;
            if bf {
                half::bf16::from_f32(x).to_bits().to_le_bytes()
            } else {
                half::f16::from_f32(x).to_bits().to_le_bytes()
            }
        })
        .collect()
}

/// Random blocks whose leading f16 scale(s) are sane.
fn quant_bytes(rng: &mut Rng, ggml_type: u32, n_elem: usize) -> Vec<u8> {
    let (per, bytes, scales): (usize, usize, &[usize]) = match ggml_type {
        2 => (32, 18, &[0]),
        3 => (32, 20, &[0, 2]),
        6 => (32, 22, &[0]),
        7 => (32, 24, &[0, 2]),
        8 => (32, 34, &[0]),
        12 => (256, 144, &[0, 2]),
        13 => (256, 176, &[0, 2]),
        14 => (256, 210, &[208]),
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for _ in 0..n_elem / per {
        let mut b = rng.bytes(bytes);
        for &s in scales {
            let v = half::f16::from_f32(0.01 + rng.below(100) as f32 / 1000.0);
            b[s..s + 2].copy_from_slice(&v.to_bits().to_le_bytes());
        }
        out.extend(b);
    }
    out
}

/// One tensor of every supported type (and a few shapes).
fn gguf_tensors(rng: &mut Rng, which: &[u32]) -> Vec<GgufTensor> {
    let names = [
        (0, "F32"),
        (1, "F16"),
        (30, "BF16"),
        (2, "Q4_0"),
        (3, "Q4_1"),
        (6, "Q5_0"),
        (7, "Q5_1"),
        (8, "Q8_0"),
        (12, "Q4_K"),
        (13, "Q5_K"),
        (14, "Q6_K"),
    ];
    let mut out = Vec::new();
    for &(ty, name) in names.iter().filter(|(t, _)| which.contains(t)) {
        let ne = vec![256u64, 2];
        let n = 512;
        let data = match ty {
            0 => f32_bytes(rng, n),
            1 => f16_bytes(rng, n, false),
            30 => f16_bytes(rng, n, true),
            _ => quant_bytes(rng, ty, n),
        };
        out.push(GgufTensor {
            name: format!("blk.0.{}.weight", name.to_lowercase()),
            ne,
            ggml_type: ty,
            data,
        });
    }
    if which.contains(&0) {
        out.push(GgufTensor {
            name: "shape.3d".into(),
            ne: vec![4, 2, 2],
            ggml_type: 0,
            data: f32_bytes(rng, 16),
        });
        out.push(GgufTensor {
            name: "shape.4d".into(),
            ne: vec![2, 2, 2, 2],
            ggml_type: 1,
            data: f16_bytes(rng, 16, false),
        });
        out.push(GgufTensor {
            name: "q8.1d".into(),
            ne: vec![32],
            ggml_type: 8,
            data: quant_bytes(rng, 8, 32),
        });
    }
    out
}

/// What the GGUF tokenizer metadata says (the gguf-vocab target mutates this).
#[derive(Clone)]
struct VocabDesc {
    model: String,
    pre: Option<String>,
    tokens: Vec<String>,
    /// The item type of the token array (8 = strings).
    token_item_type: u32,
    types: Option<Vec<i32>>,
    merges: Vec<String>,
    bos: Option<Mv>,
    eos: Option<Mv>,
    pad: Option<Mv>,
    add_bos: Option<Mv>,
    template: Option<String>,
}

impl VocabDesc {
    fn base(pre: &str, add_bos: bool) -> VocabDesc {
        let v = vocab();
        VocabDesc {
            model: "gpt2".into(),
            pre: Some(pre.into()),
            tokens: v.tokens,
            token_item_type: 8,
            types: Some(v.types),
            merges: v.merges,
            bos: Some(Mv::U32(v.bos)),
            eos: Some(Mv::U32(v.eos)),
            pad: Some(Mv::U32(v.bos)),
            add_bos: Some(Mv::Bool(add_bos)),
            template: Some(CHATML.into()),
        }
    }

    fn kvs(&self) -> Vec<(&'static str, Mv)> {
        let mut kv = vec![("tokenizer.ggml.model", Mv::Str(self.model.clone()))];
        if let Some(p) = &self.pre {
            kv.push(("tokenizer.ggml.pre", Mv::Str(p.clone())));
        }
        let toks = if self.token_item_type == 8 {
            Mv::strs(&self.tokens)
        } else {
            Mv::Arr(
                4,
                self.tokens
                    .iter()
                    .map(|t| Mv::U32(t.len() as u32))
                    .collect(),
            )
        };
        kv.push(("tokenizer.ggml.tokens", toks));
        if let Some(t) = &self.types {
            kv.push((
                "tokenizer.ggml.token_type",
                Mv::Arr(5, t.iter().map(|&x| Mv::I32(x)).collect()),
            ));
        }
        kv.push(("tokenizer.ggml.merges", Mv::strs(&self.merges)));
        for (k, v) in [
            ("tokenizer.ggml.bos_token_id", &self.bos),
            ("tokenizer.ggml.eos_token_id", &self.eos),
            ("tokenizer.ggml.padding_token_id", &self.pad),
            ("tokenizer.ggml.add_bos_token", &self.add_bos),
        ] {
            if let Some(v) = v {
                kv.push((k, v.clone()));
            }
        }
        if let Some(t) = &self.template {
            kv.push(("tokenizer.chat_template", Mv::Str(t.clone())));
        }
        kv
    }

    fn mutate(&mut self, rng: &mut Rng) {
        let n = self.tokens.len();
        let odd_tokens = [
            "",
            " ",
            "a b",
            "$A",
            "$B",
            "$",
            "<|im_start|>",
            "<|endoftext|>",
            "\u{0}",
            "ĠĠ",
            "Ġ",
            "\n",
            "h",
            "hello",
        ];
        let id_value = |rng: &mut Rng, n: usize| -> Mv {
            let v: u64 = *rng.pick(&[
                0,
                1,
                n as u64 - 1,
                n as u64,
                n as u64 + 1,
                u32::MAX as u64,
                1 << 32,
                (1u64 << 32) + 1,
                u64::MAX,
            ]);
            match rng.below(8) {
                0 => Mv::I32(v as i32),
                1 => Mv::I32(-1),
                2 => Mv::U64(v),
                3 => Mv::I64(-(v as i64)),
                4 => Mv::U8(v as u8),
                5 => Mv::F32(v as f32),
                6 => Mv::Str(v.to_string()),
                _ => Mv::U32(v as u32),
            }
        };
        for _ in 0..rng.count(4) {
            match rng.below(16) {
                0 if !self.tokens.is_empty() => {
                    let i = rng.below(self.tokens.len());
                    self.tokens.remove(i);
                }
                1 if !self.tokens.is_empty() => {
                    let t = rng.pick(&self.tokens).clone();
                    let at = rng.below(self.tokens.len() + 1);
                    self.tokens.insert(at, t);
                }
                2 if !self.tokens.is_empty() => {
                    let i = rng.below(self.tokens.len());
                    self.tokens[i] = rng.pick(&odd_tokens).to_string();
                }
                3 if !self.merges.is_empty() => {
                    let i = rng.below(self.merges.len());
                    self.merges[i] = self.merges[i].replace(' ', "");
                }
                4 => {
                    let odd = [
                        "",
                        " ",
                        "a  b",
                        " a",
                        "a ",
                        "zz qq",
                        "Ġ Ġ",
                        "h e l",
                        "\u{0} \u{0}",
                    ];
                    let at = rng.below(self.merges.len() + 1);
                    self.merges.insert(at, rng.pick(&odd).to_string());
                }
                5 if !self.merges.is_empty() => {
                    let i = rng.below(self.merges.len());
                    self.merges.remove(i);
                }
                6 if !self.merges.is_empty() => {
                    let i = rng.below(self.merges.len());
                    let m = self.merges[i].clone();
                    self.merges.push(m);
                }
                7 => {
                    self.bos = if rng.chance(0.2) {
                        None
                    } else {
                        Some(id_value(rng, n))
                    }
                }
                8 => {
                    self.eos = if rng.chance(0.2) {
                        None
                    } else {
                        Some(id_value(rng, n))
                    }
                }
                9 => {
                    self.pad = if rng.chance(0.2) {
                        None
                    } else {
                        Some(id_value(rng, n))
                    }
                }
                10 => {
                    self.add_bos = match rng.below(4) {
                        0 => None,
                        1 => Some(Mv::Bool(true)),
                        2 => Some(Mv::Bool(false)),
                        _ => Some(Mv::U8(1)),
                    }
                }
                11 => {
                    let pres = [
                        "default",
                        "gpt2",
                        "smollm",
                        "llama-bpe",
                        "qwen2",
                        "starcoder",
                        "unknown-pre",
                        "",
                    ];
                    self.pre = if rng.chance(0.1) {
                        None
                    } else {
                        Some(rng.pick(&pres).to_string())
                    };
                }
                12 => {
                    let models = ["gpt2", "llama", "bert", "", "GPT2"];
                    self.model = rng.pick(&models).to_string();
                }
                13 => {
                    self.types = match rng.below(4) {
                        0 => None,
                        1 => Some(vec![3; n / 2]),
                        2 => Some((0..n + 5).map(|_| rng.below(9) as i32 - 1).collect()),
                        _ => {
                            let mut t = self.types.clone().unwrap_or_default();
                            if !t.is_empty() {
                                let i = rng.below(t.len());
                                t[i] = *rng.pick(&[0, 1, 2, 3, 4, 5, 6, -1, i32::MAX]);
                            }
                            Some(t)
                        }
                    }
                }
                14 => {
                    self.template = if rng.chance(0.3) {
                        None
                    } else {
                        Some(rng.pick(CHAT_TEMPLATES).to_string())
                    };
                }
                _ => {
                    if rng.chance(0.1) {
                        self.token_item_type = 4;
                    } else if rng.chance(0.3) {
                        self.tokens.clear();
                    } else {
                        self.tokens.truncate(rng.below(n + 1));
                    }
                }
            }
        }
    }
}

fn gguf_seed(
    version: u32,
    alignment: Option<u64>,
    vocab: Option<&VocabDesc>,
    tensors: Vec<GgufTensor>,
    extra: bool,
) -> Seed {
    let mut kvs: Vec<(&str, Mv)> = vec![
        ("general.architecture", Mv::Str("llama".into())),
        ("general.name", Mv::Str("fuzz".into())),
    ];
    if let Some(a) = alignment {
        kvs.push(("general.alignment", Mv::U32(a as u32)));
    }
    if extra {
        kvs.extend([
            ("llama.block_count", Mv::U32(1)),
            ("llama.context_length", Mv::U32(64)),
            ("llama.embedding_length", Mv::U32(256)),
            ("llama.attention.head_count", Mv::U32(2)),
            ("fuzz.u8", Mv::U8(7)),
            ("fuzz.i8", Mv::I8(-7)),
            ("fuzz.u16", Mv::U16(700)),
            ("fuzz.i16", Mv::I16(-700)),
            ("fuzz.i32", Mv::I32(-70000)),
            ("fuzz.f32", Mv::F32(0.5)),
            ("fuzz.u64", Mv::U64(1 << 40)),
            ("fuzz.i64", Mv::I64(-(1 << 40))),
            ("fuzz.f64", Mv::F64(0.25)),
            ("fuzz.bool", Mv::Bool(true)),
            ("fuzz.empty", Mv::Arr(4, Vec::new())),
            (
                "fuzz.nested",
                Mv::Arr(
                    9,
                    vec![
                        Mv::Arr(4, vec![Mv::U32(1), Mv::U32(2)]),
                        Mv::Arr(8, vec![Mv::Str("x".into())]),
                    ],
                ),
            ),
        ]);
    }
    if let Some(v) = vocab {
        kvs.extend(v.kvs());
    }
    let (b, fields) = GgufWriter::file(version, &kvs, &tensors, alignment.unwrap_or(32) as usize);
    Seed {
        files: vec![("model.gguf".into(), b)],
        kinds: vec![Kind::Binary],
        fields,
    }
}

fn gguf_seeds(_: &Ctx) -> Vec<Seed> {
    let mut rng = Rng::new(1);
    let all = [0, 1, 30, 2, 3, 6, 7, 8, 12, 13, 14];
    vec![
        gguf_seed(
            3,
            None,
            Some(&VocabDesc::base("smollm", false)),
            gguf_tensors(&mut rng, &all),
            true,
        ),
        gguf_seed(
            2,
            Some(64),
            Some(&VocabDesc::base("llama-bpe", true)),
            gguf_tensors(&mut rng, &[12, 13, 14, 1]),
            false,
        ),
        gguf_seed(
            3,
            None,
            Some(&VocabDesc::base("qwen2", true)),
            Vec::new(),
            false,
        ),
        gguf_seed(
            3,
            Some(32),
            None,
            gguf_tensors(&mut rng, &[2, 3, 6, 7, 8, 30]),
            true,
        ),
    ]
}

fn gguf_vocab_seeds(_: &Ctx) -> Vec<Seed> {
    ["smollm", "llama-bpe", "gpt2", "qwen2"]
        .iter()
        .enumerate()
        .map(|(i, pre)| {
            gguf_seed(
                3,
                None,
                Some(&VocabDesc::base(pre, i % 2 == 0)),
                Vec::new(),
                false,
            )
        })
        .collect()
}

fn gguf_vocab_generate(rng: &mut Rng) -> Seed {
    let pres = ["smollm", "llama-bpe", "gpt2", "qwen2"];
    let pre: &&str = rng.pick(&pres);
    let mut d = VocabDesc::base(pre, rng.chance(0.5));
    d.mutate(rng);
    gguf_seed(3, None, Some(&d), Vec::new(), false)
}

const GGUF_DICT: &[&str] = &[
    "GGUF",
    "tokenizer.ggml.tokens",
    "tokenizer.ggml.merges",
    "general.alignment",
    "Ġ",
    " ",
    "<|im_start|>",
    "\u{0}",
];

/// A safetensors file of the given tensors (name, dtype, shape, bytes).
fn safetensors_file(tensors: &[(&str, &str, Vec<usize>, Vec<u8>)], metadata: bool) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    if metadata {
        header.insert(
            "__metadata__".into(),
            json!({"format": "pt", "note": "fuzz"}),
        );
    }
    let mut off = 0usize;
    let mut data: Vec<u8> = Vec::new();
    for (name, dtype, shape, bytes) in tensors {
        header.insert(
            name.to_string(),
            json!({"dtype": dtype, "shape": shape, "data_offsets": [off, off + bytes.len()]}),
        );
        off += bytes.len();
        data.extend(bytes);
    }
    let mut h = serde_json::to_vec(&Value::Object(header)).unwrap_or_default();
    while !h.len().is_multiple_of(8) {
        h.push(b' ');
    }
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend(h);
    out.extend(data);
    out
}

fn safetensors_seeds(_: &Ctx) -> Vec<Seed> {
    let mut rng = Rng::new(2);
    let mut t = |name: &'static str, dtype: &'static str, shape: Vec<usize>, elem: usize| {
        let n: usize = shape.iter().product();
        (name, dtype, shape, rng.bytes(n * elem))
    };
    let shard1 = vec![
        t("model.embed.weight", "F32", vec![4, 3], 4),
        t("model.norm.weight", "F16", vec![4], 2),
        t("model.bf", "BF16", vec![2, 2], 2),
        t("model.scalar", "F64", vec![], 8),
    ];
    let shard2 = vec![
        t("model.ids", "I64", vec![3], 8),
        t("model.i32", "I32", vec![2, 1], 4),
        t("model.u8", "U8", vec![5], 1),
        t("model.i8", "I8", vec![2], 1),
        t("model.mask", "BOOL", vec![3], 1),
        t("model.empty", "F32", vec![0, 4], 4),
    ];
    let a = "model-00001-of-00002.safetensors";
    let b = "model-00002-of-00002.safetensors";
    let mut map = serde_json::Map::new();
    for s in &shard1 {
        map.insert(s.0.into(), json!(a));
    }
    for s in &shard2 {
        map.insert(s.0.into(), json!(b));
    }
    let index = json!({"metadata": {"total_size": 1234}, "weight_map": map});
    let sharded = Seed {
        files: vec![
            (
                "model.safetensors.index.json".into(),
                serde_json::to_vec_pretty(&index).unwrap_or_default(),
            ),
            (a.into(), safetensors_file(&shard1, true)),
            (b.into(), safetensors_file(&shard2, false)),
        ],
        kinds: vec![Kind::Json, Kind::Safetensors, Kind::Safetensors],
        fields: Vec::new(),
    };
    let mut all = shard1.clone();
    all.extend(shard2.clone());
    let single = Seed {
        files: vec![("model.safetensors".into(), safetensors_file(&all, true))],
        kinds: vec![Kind::Safetensors],
        fields: Vec::new(),
    };
    vec![sharded, single]
}

const SAFETENSORS_DICT: &[&str] = &[
    "dtype",
    "shape",
    "data_offsets",
    "__metadata__",
    "weight_map",
    "F32",
    "F16",
    "BF16",
    "I64",
    "F8_E4M3",
    "F8_E5M2",
    "U64",
    "C64",
    "F4",
    "model-00001-of-00002.safetensors",
    "model-00002-of-00002.safetensors",
    "../",
    "./",
    "model.safetensors",
];

fn tokenizer_json_seeds(_: &Ctx) -> Vec<Seed> {
    let fixture = FIXTURE_TOKENIZER.as_bytes().to_vec();
    let config = |template: Value, bos: Value| {
        serde_json::to_vec_pretty(&json!({
            "bos_token": bos,
            "eos_token": "<|endoftext|>",
            "chat_template": template,
            "model_max_length": 512,
        }))
        .unwrap_or_default()
    };
    let chars = byte_chars();
    let v = vocab();
    let mut bpe_vocab = serde_json::Map::new();
    for (i, t) in v.tokens.iter().enumerate() {
        bpe_vocab.insert(t.clone(), json!(i));
    }
    let n = v.tokens.len();
    let bpe = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": [
            {"id": v.bos, "content": "<|endoftext|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
            {"id": v.bos + 1, "content": "<|im_start|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
            {"id": n, "content": "<extra>", "single_word": true, "lstrip": true, "rstrip": true, "normalized": true, "special": false}
        ],
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Replace", "pattern": {"String": "\t"}, "content": " "}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}"}, "behavior": "Isolated", "invert": false},
            {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}
        ]},
        "post_processor": {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [v.bos], "tokens": ["<|endoftext|>"]}}},
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
            "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
            "vocab": bpe_vocab, "merges": v.merges}
    });
    let _ = chars;
    let wp_vocab: serde_json::Map<String, Value> = [
        "[UNK]", "[CLS]", "[SEP]", "hello", "world", "##s", "the", "##ing", "a", "b", "!", "1",
    ]
    .iter()
    .enumerate()
    .map(|(i, t)| (t.to_string(), json!(i)))
    .collect();
    let wordpiece = json!({
        "version": "1.0", "truncation": null, "padding": null,
        "added_tokens": [{"id": 0, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 2], "cls": ["[CLS]", 1]},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": wp_vocab}
    });
    let unigram = json!({
        "version": "1.0", "truncation": null, "padding": null,
        "added_tokens": [{"id": 0, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
        "normalizer": {"type": "NFKC"},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true},
        "post_processor": null,
        "decoder": {"type": "Sequence", "decoders": [{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true}, {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "Unigram", "unk_id": 0, "byte_fallback": true, "vocab": [["<unk>", 0.0], ["▁", -1.0], ["▁hello", -2.0], ["▁world", -2.5], ["h", -3.0], ["e", -3.0], ["l", -3.0], ["o", -3.0], ["<0x41>", -5.0], ["<0xC3>", -5.0]]}
    });
    let wordlevel = json!({
        "version": "1.0", "truncation": {"direction": "Right", "max_length": 8, "strategy": "LongestFirst", "stride": 0},
        "padding": {"strategy": "BatchLongest", "direction": "Right", "pad_to_multiple_of": null, "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"},
        "added_tokens": [],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": null,
        "decoder": null,
        "model": {"type": "WordLevel", "vocab": {"[PAD]": 0, "[UNK]": 1, "hello": 2, "world": 3}, "unk_token": "[UNK]"}
    });
    let js = |v: &Value| serde_json::to_vec(v).unwrap_or_default();
    let two = |tok: Vec<u8>, cfg: Vec<u8>| Seed {
        files: vec![
            ("tokenizer.json".into(), tok),
            ("tokenizer_config.json".into(), cfg),
        ],
        kinds: vec![Kind::Json, Kind::Json],
        fields: Vec::new(),
    };
    vec![
        two(fixture, config(json!(CHATML), json!("<|endoftext|>"))),
        two(
            js(&bpe),
            config(
                json!([{"name": "default", "template": CHAT_TEMPLATES[1]}, {"name": "tool_use", "template": "x"}]),
                json!({"content": "<|endoftext|>", "lstrip": false}),
            ),
        ),
        two(js(&wordpiece), config(json!(null), json!("[CLS]"))),
        two(
            js(&unigram),
            config(json!(CHAT_TEMPLATES[3]), json!("<unk>")),
        ),
        two(js(&wordlevel), b"{}".to_vec()),
    ]
}

const TOKENIZER_DICT: &[&str] = &[
    "type",
    "model",
    "vocab",
    "merges",
    "added_tokens",
    "id",
    "content",
    "special",
    "normalizer",
    "pre_tokenizer",
    "post_processor",
    "decoder",
    "BPE",
    "WordPiece",
    "Unigram",
    "WordLevel",
    "ByteLevel",
    "Sequence",
    "Split",
    "Regex",
    "String",
    "Metaspace",
    "Replace",
    "Strip",
    "Fuse",
    "ByteFallback",
    "TemplateProcessing",
    "RobertaProcessing",
    "BertProcessing",
    "Digits",
    "Punctuation",
    "Whitespace",
    "NFKC",
    "Lowercase",
    "Prepend",
    "(?=a)",
    "(a*)*b",
    "\\p{L}+",
    "[",
    "(",
    "\\",
    "chat_template",
    "bos_token",
    "eos_token",
    "unk_token",
    "<|endoftext|>",
    "$A",
    "$B",
    "SpecialToken",
    "type_id",
];

fn rules_seeds(_: &Ctx) -> Vec<Seed> {
    let mut seeds = Vec::new();
    for text in [SECRETS_TOML, PII_TOML] {
        let Ok(table) = toml::from_str::<toml::Table>(text) else {
            continue;
        };
        let Some(rules) = table.get("rules").and_then(|r| r.as_array()) else {
            continue;
        };
        // groups of three rules, so that each execution compiles a few regexes
        for chunk in rules.chunks(3) {
            let mut t = toml::Table::new();
            t.insert("rules".into(), toml::Value::Array(chunk.to_vec()));
            if let Ok(s) = toml::to_string(&t) {
                seeds.push(Seed::one("fuzz.toml", s.into_bytes(), Kind::Toml));
            }
        }
    }
    let every_field = r#"
[[rules]]
id = "every-field"
description = "a rule with every optional field"
category = "secret"
regex = '''(?i)token[\s:=]+([A-Za-z0-9_\-]{8,64})'''
group = 1
keywords = ["token", "tok"]
min_entropy = 2.0
validator = "luhn"
allowlist = ['''EXAMPLE''']
stopwords = ["dummy"]
not_adjacent = "A-Za-z0-9"
window = 128
before = 16
confidence = 0.7
examples.positive = ["token = abcdefgh12345678"]
examples.negative = ["token = EXAMPLE000"]

[[rules]]
id = "shape-digits"
description = "a shape-gated rule"
category = "pii"
regex = '''\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b'''
shape = "digits"
validator = "ssn"

[[rules]]
id = "ungated"
description = "a rule without keywords or shape"
category = "pii"
regex = '''x[0-9]y'''
"#;
    seeds.push(Seed::one(
        "fuzz.toml",
        every_field.as_bytes().to_vec(),
        Kind::Toml,
    ));
    seeds
}

const RULES_DICT: &[&str] = &[
    "window",
    "before",
    "regex",
    "group",
    "keywords",
    "shape",
    "validator",
    "not_adjacent",
    "min_entropy",
    "confidence",
    "allowlist",
    "stopwords",
    "examples",
    "digits",
    "dotted",
    "hexcolon",
    "alnum26",
    "iban",
    "luhn",
    "ssn",
    "iban",
    "jwt",
    "(a*)*",
    "(?i)",
    "\\b",
    "\\p{L}",
    "[^\\x00-\\xff]",
    "(?-u:\\xff)",
    "{1000}",
    "{1000}{1000}",
    ".*",
    "^",
    "$",
    "(?s)",
    "[",
    "]",
    "(",
    ")",
    "\\",
    "18446744073709551615",
    "9223372036854775807",
    "-1",
    "0",
    "4294967296",
];

/// A small corpus, indexed with and without the fixture tokenizer, read back as files.
fn index_seeds(ctx: &Ctx) -> Vec<Seed> {
    let mut seeds = Vec::new();
    let Some(tok) = ctx.tokenizer.as_ref() else {
        return seeds;
    };
    let base = ctx.work.join("index-seeds");
    let _ = std::fs::remove_dir_all(&base);
    let corpus = base.join("corpus");
    if std::fs::create_dir_all(&corpus).is_err() {
        return seeds;
    }
    let txt = corpus.join("a.txt");
    let jsonl = corpus.join("b.jsonl");
    let _ = std::fs::write(&txt, INDEX_TEXT);
    let _ = std::fs::write(&jsonl, JSONL_SEED);
    let builds: [(&str, usize, bool, usize); 3] = [
        ("tok", 300, true, memscan::verbatim::WIDE_FROM),
        ("wide", 1 << 20, false, 1),
        ("plain", 1 << 20, false, memscan::verbatim::WIDE_FROM),
    ];
    for (name, shard, with_tok, wide) in builds {
        let out = base.join(name);
        let t = with_tok.then(|| (tok, "tests/fixture/model".to_string()));
        if let Err(e) = memscan::verbatim::build_with(
            &[txt.clone(), jsonl.clone()],
            &out,
            shard,
            t,
            |_| {},
            wide,
        ) {
            eprintln!("fuzz: index seed {name}: {e}");
            continue;
        }
        let mut names: Vec<String> = std::fs::read_dir(&out)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        let mut seed = Seed {
            files: Vec::new(),
            kinds: Vec::new(),
            fields: Vec::new(),
        };
        for n in names {
            let Ok(data) = std::fs::read(out.join(&n)) else {
                continue;
            };
            let fi = seed.files.len();
            let (kind, width) = match n.rsplit('.').next().unwrap_or("") {
                "json" => (Kind::Json, 0),
                "docs" => (Kind::Binary, 8),
                "sa" if name == "wide" => (Kind::Binary, 8),
                "sa" | "tok" | "tsa" => (Kind::Binary, 4),
                _ => (Kind::Binary, 0),
            };
            if let Some(n) = data.len().checked_div(width) {
                for off in (0..n * width).step_by(width).take(4096) {
                    seed.fields.push(Field {
                        file: fi,
                        off,
                        width,
                        kind: FieldKind::Entry,
                    });
                }
            }
            seed.kinds.push(kind);
            seed.files.push((n, data));
        }
        seeds.push(seed);
    }
    let _ = std::fs::remove_dir_all(&base);
    seeds
}

const INDEX_DICT: &[&str] = &[
    "format_version",
    "shards",
    "bytes",
    "pointer_bytes",
    "documents",
    "tokens",
    "files",
    "tokenizer",
    "vocab_size",
    "vocab_sha256",
    "shard-0000",
    "shard-0001",
    "../",
    "name",
    "\u{ff}",
];

const INDEX_TEXT: &str = "The quick brown fox jumps over the lazy dog. Contact alice@example.com or call 555-0100.\nSecond line of the corpus, with some repeated text: the quick brown fox.\nAKIAHODZDOCIS2JHTLGM is a key. The end.\n";

const JSONL_SEED: &str = "{\"id\": \"a\", \"text\": \"The ferry leaves at ten past seven.\", \"source\": \"web\"}\n{\"id\": 2, \"text\": \"Email me at bob@example.org\", \"tags\": [\"pii\", \"email\"]}\n\n{\"text\": \"no id here\\nsecond line\\u00e9\", \"meta\": {\"n\": 1.5, \"ok\": true, \"x\": null}}\n{\"id\": null, \"text\": \"\"}\n";

fn jsonl_seeds(_: &Ctx) -> Vec<Seed> {
    let members: String = FIXTURE_MEMBERS
        .lines()
        .take(12)
        .map(|l| format!("{l}\n"))
        .collect();
    let prompts: String = PII_PROMPTS
        .lines()
        .take(12)
        .map(|l| format!("{l}\n"))
        .collect();
    vec![
        Seed::one("input.jsonl", JSONL_SEED.as_bytes().to_vec(), Kind::Jsonl),
        Seed::one("input.jsonl", members.into_bytes(), Kind::Jsonl),
        Seed::one("input.ndjson", prompts.into_bytes(), Kind::Jsonl),
        Seed::one("input.txt", INDEX_TEXT.as_bytes().to_vec(), Kind::Text),
        Seed::one(
            "input.json",
            TEXTS_JSONL
                .lines()
                .take(3)
                .collect::<Vec<_>>()
                .join("\n")
                .into_bytes(),
            Kind::Jsonl,
        ),
    ]
}

const JSONL_DICT: &[&str] = &[
    "text",
    "id",
    "tags",
    "\"",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "null",
    "\\u0000",
    "\\ud800",
    "\n",
    "\r\n",
    "\u{feff}",
    "1e999",
    "-0",
    "9999999999999999999999",
];

fn chat_seeds(_: &Ctx) -> Vec<Seed> {
    CHAT_TEMPLATES
        .iter()
        .map(|t| Seed::one("template.jinja", t.as_bytes().to_vec(), Kind::Text))
        .collect()
}

/// A tiny GGUF language model (hidden 32, 4 heads, 2 KV heads, one layer) with the
/// byte-level vocabulary, in F32/F16/BF16/Q4_0/Q4_1/Q8_0 weights.
fn model_gguf_seed(rng: &mut Rng, arch: &str, tied: bool) -> Seed {
    let v = VocabDesc::base("smollm", false);
    let n_vocab = v.tokens.len() as u64;
    let (h, ff, kv_dim) = (32u64, 64u64, 16u64);
    let mut tensors = Vec::new();
    let mut t = |name: &str, ne: Vec<u64>, ty: u32| {
        let n: u64 = ne.iter().product();
        let data = match ty {
            0 => f32_bytes(rng, n as usize),
            1 => f16_bytes(rng, n as usize, false),
            30 => f16_bytes(rng, n as usize, true),
            _ => quant_bytes(rng, ty, n as usize),
        };
        tensors.push(GgufTensor {
            name: name.into(),
            ne,
            ggml_type: ty,
            data,
        });
    };
    t("token_embd.weight", vec![h, n_vocab], 8);
    t("output_norm.weight", vec![h], 0);
    if !tied {
        t("output.weight", vec![h, n_vocab], 1);
    }
    t("blk.0.attn_norm.weight", vec![h], 0);
    t("blk.0.ffn_norm.weight", vec![h], 0);
    t("blk.0.attn_q.weight", vec![h, h], 2);
    t("blk.0.attn_k.weight", vec![h, kv_dim], 3);
    t("blk.0.attn_v.weight", vec![h, kv_dim], 8);
    t("blk.0.attn_output.weight", vec![h, h], 30);
    t("blk.0.ffn_gate.weight", vec![h, ff], 2);
    t("blk.0.ffn_up.weight", vec![h, ff], 8);
    t("blk.0.ffn_down.weight", vec![ff, h], 0);
    if arch == "qwen2" {
        t("blk.0.attn_q.bias", vec![h], 0);
        t("blk.0.attn_k.bias", vec![kv_dim], 0);
        t("blk.0.attn_v.bias", vec![kv_dim], 0);
    }
    let k = |s: &str| -> &'static str { Box::leak(format!("{arch}.{s}").into_boxed_str()) };
    let mut kvs: Vec<(&str, Mv)> = vec![
        ("general.architecture", Mv::Str(arch.into())),
        (k("block_count"), Mv::U32(1)),
        (k("context_length"), Mv::U32(64)),
        (k("embedding_length"), Mv::U32(h as u32)),
        (k("feed_forward_length"), Mv::U32(ff as u32)),
        (k("attention.head_count"), Mv::U32(4)),
        (k("attention.head_count_kv"), Mv::U32(2)),
        (k("attention.layer_norm_rms_epsilon"), Mv::F32(1e-5)),
        (k("rope.freq_base"), Mv::F32(10000.0)),
    ];
    kvs.extend(v.kvs());
    let (b, fields) = GgufWriter::file(3, &kvs, &tensors, 32);
    Seed {
        files: vec![("model.gguf".into(), b)],
        kinds: vec![Kind::Binary],
        fields,
    }
}

fn gguf_model_seeds(_: &Ctx) -> Vec<Seed> {
    let mut rng = Rng::new(5);
    vec![
        model_gguf_seed(&mut rng, "llama", true),
        model_gguf_seed(&mut rng, "llama", false),
        model_gguf_seed(&mut rng, "qwen2", true),
        model_gguf_seed(&mut rng, "mistral", false),
    ]
}

const FIXTURE_MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixture/model");

fn hf_config_seeds(_: &Ctx) -> Vec<Seed> {
    let base: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{FIXTURE_MODEL}/config.json")).unwrap_or_default(),
    )
    .unwrap_or(Value::Null);
    let mut seeds = vec![Seed::one(
        "config.json",
        serde_json::to_vec_pretty(&base).unwrap_or_default(),
        Kind::Json,
    )];
    // the same weights described the other ways a GPT-2 config may say it
    let mut alt = base.clone();
    if let Value::Object(m) = &mut alt {
        m.remove("n_positions");
        m.remove("n_inner");
        m.insert("activation_function".into(), json!("gelu"));
    }
    seeds.push(Seed::one(
        "config.json",
        serde_json::to_vec(&alt).unwrap_or_default(),
        Kind::Json,
    ));
    seeds
}

const MODEL_HINTS: Hints = &[
    ("model_type", "[\"gpt2\", \"llama\", \"mistral\", \"qwen2\", \"gpt_neox\", \"\", 1]"),
    ("vocab_size", BIG_INTS),
    ("n_positions", BIG_INTS),
    ("n_ctx", BIG_INTS),
    ("n_embd", "[0, 1, 2, 64, 127, 128, 129, 256, -1, 4294967296]"),
    ("n_layer", "[0, 1, 3, 4, 5, 1000000, -1]"),
    ("n_head", "[0, 1, 2, 3, 4, 5, 8, 128, 129, -1]"),
    ("n_inner", "[0, 1, 511, 512, 513, -1, 4294967296]"),
    ("layer_norm_epsilon", "[0, -1, 1e308, 1e-300, \"x\"]"),
    ("activation_function", "[\"gelu_new\", \"gelu\", \"relu\", \"silu\", \"tanh\", \"\", \"x\"]"),
    ("tie_word_embeddings", "[true, false, 1, null]"),
    ("hidden_size", "[0, 1, 128, -1]"),
    ("num_attention_heads", "[0, 1, 4, -1]"),
    ("num_key_value_heads", "[0, 1, 3, 4]"),
    ("num_hidden_layers", "[0, 1, 4]"),
    ("intermediate_size", "[0, 1, 512]"),
    ("max_position_embeddings", BIG_INTS),
    ("rope_theta", "[0, -1, 1e308, 10000]"),
    ("rope_scaling", "[null, {\"type\": \"linear\", \"factor\": 0}, {\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}, {\"type\": \"dynamic\"}]"),
    ("rotary_pct", "[0, 0.25, 1, 2, -1]"),
    ("head_dim", "[0, 1, 8, 32, -1]"),
    ("sliding_window", "[null, 0, 1, 4096, -1]"),
];

/// Loads a model on the CPU (f32) and runs one short forward pass and projection.
fn load_and_run(spec: &str) -> Outcome {
    use memscan::model::LanguageModel;
    let m = memscan::model::load(&memscan::model::ModelSpec {
        model: spec.to_string(),
        device: memscan::model::DeviceChoice::Cpu,
        dtype: None,
        adapter: None,
    })
    .map_err(err)?;
    let tok = m.tokenizer();
    let mut ids = tok.encode("hello world 12").map_err(err)?;
    if ids.is_empty() {
        ids.push(0);
    }
    let ids: Vec<i64> = ids.iter().map(|&i| i as i64).collect();
    let t = tch::Tensor::from_slice(&ids).view([1, -1]);
    let out = m.forward(&t, None, false).map_err(err)?;
    let _ = m.logits(&out.hidden);
    Ok(())
}

fn run_gguf_model(ctx: &mut Ctx, files: &Files) -> Outcome {
    let dir = write_files(ctx, "gguf-model", files);
    load_and_run(&dir.join(&files[0].0).display().to_string())
}

fn run_hf_config(ctx: &mut Ctx, files: &Files) -> Outcome {
    // the fixture's weights and tokenizer, linked once; only config.json changes
    let dir = ctx.work.join("hf-model");
    if !dir.join("model.safetensors").exists() {
        let _ = std::fs::create_dir_all(&dir);
        for f in ["model.safetensors", "tokenizer.json"] {
            let _ = std::os::unix::fs::symlink(format!("{FIXTURE_MODEL}/{f}"), dir.join(f));
        }
    }
    let _ = std::fs::write(dir.join("config.json"), &files[0].1);
    load_and_run(&dir.display().to_string())
}

// ---------------------------------------------------------------------------------------
// Targets.

const FIXTURE_TOKENIZER: &str = include_str!("../tests/fixture/tokenizer.json");
const FIXTURE_MEMBERS: &str = include_str!("../tests/fixture/members.jsonl");
const TEXTS_JSONL: &str = include_str!("texts.jsonl");
const PII_PROMPTS: &str = include_str!("../prompts/pii.jsonl");
const SECRETS_TOML: &str = include_str!("../patterns/secrets.toml");
const PII_TOML: &str = include_str!("../patterns/pii.toml");

/// Per-worker state.
struct Ctx {
    /// Scratch folder for the files of one input.
    work: PathBuf,
    /// The fixture tokenizer (index queries, chat templates).
    tokenizer: Option<memscan::model::tokenizer::Tokenizer>,
    /// Text the rule engine scans: every positive example of the built-in rules.
    sample: Vec<u8>,
}

/// Ok = the parser accepted the input; Err = it rejected it (with its message).
type Outcome = Result<(), String>;

struct Target {
    name: &'static str,
    about: &'static str,
    /// Several files per input (packed as MSFZ in crash files).
    multi: bool,
    seeds: fn(&Ctx) -> Vec<Seed>,
    /// Builds a fresh structured input (instead of picking a seed) now and then.
    generate: Option<fn(&mut Rng) -> Seed>,
    dict: &'static [&'static str],
    /// Keys of its JSON/TOML files and values worth trying for them.
    hints: Hints,
    /// Makes a mutant consistent again where the format has redundant sizes (so that
    /// mutations get past the first length check), applied to half of the mutants.
    fixup: Option<fn(&mut Rng, &mut Files)>,
    run: fn(&mut Ctx, &Files) -> Outcome,
}

/// Index: the manifest's sizes follow the files, and each suffix array is resized
/// (truncated, or padded with random entries) to match its text.
fn fixup_index(rng: &mut Rng, files: &mut Files) {
    let Some(mi) = files.iter().position(|f| f.0 == "manifest.json") else {
        return;
    };
    let Ok(mut m) = serde_json::from_slice::<Value>(&files[mi].1) else {
        return;
    };
    let Some(shards) = m.get_mut("shards").and_then(|s| s.as_array_mut()) else {
        return;
    };
    for shard in shards.iter_mut() {
        let Some(name) = shard
            .get("name")
            .and_then(|n| n.as_str())
            .map(str::to_string)
        else {
            continue;
        };
        let len = |files: &Files, ext: &str| {
            files
                .iter()
                .position(|f| f.0 == format!("{name}.{ext}"))
                .map(|i| (i, files[i].1.len()))
        };
        let ptr = shard
            .get("pointer_bytes")
            .and_then(|p| p.as_u64())
            .unwrap_or(4)
            .clamp(1, 8) as usize;
        if let Some((_, n)) = len(files, "bytes") {
            shard["bytes"] = json!(n);
            if let Some((i, _)) = len(files, "sa") {
                let want = n * ptr;
                let f = &mut files[i].1;
                while f.len() < want {
                    let v = rng.below(n + 2) as u64;
                    f.extend(&v.to_le_bytes()[..ptr]);
                }
                f.truncate(want);
            }
        }
        if let Some((i, n)) = len(files, "docs") {
            files[i].1.truncate(n / 24 * 24);
            shard["documents"] = json!(n / 24);
        }
        if let Some((i, n)) = len(files, "tok") {
            files[i].1.truncate(n / 4 * 4);
            shard["tokens"] = json!(n / 4);
            if let Some((j, _)) = len(files, "tsa") {
                let f = &mut files[j].1;
                while f.len() < n / 4 * 4 {
                    f.extend((rng.below(n / 4 + 2) as u32).to_le_bytes());
                }
                f.truncate(n / 4 * 4);
            }
        }
    }
    if let Ok(b) = serde_json::to_vec_pretty(&m) {
        files[mi].1 = b;
    }
}

/// Safetensors: each header's data offsets made contiguous and sized by dtype and
/// shape (the data resized to match), and its length prefix corrected; skipped
/// where a tensor would exceed 1 MiB.
fn fixup_safetensors(rng: &mut Rng, files: &mut Files) {
    for (name, data) in files.iter_mut() {
        if !name.ends_with(".safetensors") || data.len() < 8 {
            continue;
        }
        let n = u64::from_le_bytes(data[..8].try_into().unwrap_or_default()) as usize;
        let Some(Ok(Value::Object(mut header))) = data
            .get(8..8usize.saturating_add(n).min(data.len()))
            .map(serde_json::from_slice::<Value>)
        else {
            continue;
        };
        let mut off = 0u64;
        let mut ok = true;
        for (k, t) in header.iter_mut() {
            if k == "__metadata__" {
                continue;
            }
            let size = match t.get("dtype").and_then(|d| d.as_str()) {
                Some("F64" | "I64" | "U64") => 8,
                Some("F32" | "I32" | "U32") => 4,
                Some("F16" | "BF16" | "I16" | "U16") => 2,
                Some(_) => 1,
                None => 1,
            };
            let elems = t.get("shape").and_then(|s| s.as_array()).map(|a| {
                a.iter()
                    .try_fold(1u64, |acc, d| acc.checked_mul(d.as_u64()?))
            });
            let Some(Some(elems)) = elems else {
                ok = false;
                break;
            };
            let bytes = elems.saturating_mul(size);
            if bytes > 1 << 20 {
                ok = false;
                break;
            }
            t["data_offsets"] = json!([off, off + bytes]);
            off += bytes;
        }
        if !ok {
            continue;
        }
        let Ok(h) = serde_json::to_vec(&Value::Object(header)) else {
            continue;
        };
        let old_body = data
            .get(8 + n.min(data.len() - 8)..)
            .unwrap_or_default()
            .to_vec();
        let mut out = (h.len() as u64).to_le_bytes().to_vec();
        out.extend(&h);
        let mut body = old_body;
        body.resize(off as usize, 0);
        if rng.chance(0.5) {
            for b in body.iter_mut() {
                *b = rng.next() as u8;
            }
        }
        out.extend(body);
        *data = out;
    }
}

const TARGETS: &[Target] = &[
    Target {
        name: "gguf",
        about: "GGUF header, metadata, tensor table; dequantize every tensor; tokenizer and chat template from it",
        multi: false,
        seeds: gguf_seeds,
        generate: None,
        dict: GGUF_DICT,
        hints: NO_HINTS,
        fixup: None,
        run: run_gguf,
    },
    Target {
        name: "gguf-vocab",
        about: "GGUF tokenizer metadata (tokens, merges, token types, BOS/EOS/pad ids, pre-tokenizer) → Tokenizer::from_gguf",
        multi: false,
        seeds: gguf_vocab_seeds,
        generate: Some(gguf_vocab_generate),
        dict: GGUF_DICT,
        hints: NO_HINTS,
        fixup: None,
        run: run_gguf,
    },
    Target {
        name: "safetensors",
        about: "safetensors headers and model.safetensors.index.json → SafetensorsFiles::open_dir, load every tensor",
        multi: true,
        seeds: safetensors_seeds,
        generate: None,
        dict: SAFETENSORS_DICT,
        hints: SAFETENSORS_HINTS,
        fixup: Some(fixup_safetensors),
        run: run_safetensors,
    },
    Target {
        name: "tokenizer-json",
        about: "tokenizer.json + tokenizer_config.json → Tokenizer::from_file, encode/decode, chat template",
        multi: true,
        seeds: tokenizer_json_seeds,
        generate: None,
        dict: TOKENIZER_DICT,
        hints: TOKENIZER_HINTS,
        fixup: None,
        run: run_tokenizer_json,
    },
    Target {
        name: "rules",
        about: "rule TOML → rules::load, Engine::new, scan and scan_stream over the rules' examples",
        multi: false,
        seeds: rules_seeds,
        generate: None,
        dict: RULES_DICT,
        hints: RULES_HINTS,
        fixup: None,
        run: run_rules,
    },
    Target {
        name: "index",
        about: "verbatim index manifest and tables → Index::open, check_tokenizer, byte and token queries",
        multi: true,
        seeds: index_seeds,
        generate: None,
        dict: INDEX_DICT,
        hints: INDEX_HINTS,
        fixup: Some(fixup_index),
        run: run_index,
    },
    Target {
        name: "jsonl",
        about: "JSONL/text inputs → input::read_texts, prompts::load, verbatim::build of it as a corpus",
        multi: false,
        seeds: jsonl_seeds,
        generate: None,
        dict: JSONL_DICT,
        hints: JSONL_HINTS,
        fixup: None,
        run: run_jsonl,
    },
    Target {
        name: "gguf-model",
        about: "GGUF model metadata and weights (llama, qwen2, mistral) → model::load on the CPU, one forward pass",
        multi: false,
        seeds: gguf_model_seeds,
        generate: None,
        dict: GGUF_DICT,
        hints: NO_HINTS,
        fixup: None,
        run: run_gguf_model,
    },
    Target {
        name: "hf-config",
        about: "config.json of a safetensors model (the fixture's weights) → model::load on the CPU, one forward pass",
        multi: false,
        seeds: hf_config_seeds,
        generate: None,
        dict: TOKENIZER_DICT,
        hints: MODEL_HINTS,
        fixup: None,
        run: run_hf_config,
    },
    Target {
        name: "chat",
        about: "chat templates (Jinja) → chat::wrap",
        multi: false,
        seeds: chat_seeds,
        generate: None,
        dict: JINJA_DICT,
        hints: NO_HINTS,
        fixup: None,
        run: run_chat,
    },
];

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Replaces the work folder's contents with `files`.
fn write_files(ctx: &Ctx, sub: &str, files: &Files) -> PathBuf {
    let dir = ctx.work.join(sub);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    for (name, data) in files {
        // names come from our own seeds; keep them inside the folder regardless
        let safe: String = name
            .chars()
            .map(|c| if c == '/' || c == '\\' { '_' } else { c })
            .collect();
        let _ = std::fs::write(dir.join(safe), data);
    }
    dir
}

const NO_HINTS: Hints = &[];

const BIG_INTS: &str = "[0, 1, 2, 3, 7, 8, 64, 255, 4096, 65536, 2147483647, 4294967295, 4294967296, 9007199254740993, 4611686018427387904, 9223372036854775807, -1, -9223372036854775808, 18446744073709551615, 0.5, \"1\", null]";

const RULES_HINTS: Hints = &[
    ("window", BIG_INTS),
    ("before", BIG_INTS),
    ("group", BIG_INTS),
    ("confidence", "[-1, 0, 0.5, 1, 1.0000001, 1e308, -1e308, \"x\"]"),
    ("min_entropy", "[-1, 0, 8, 100, 1e308, -1e308]"),
    ("shape", "[\"digits\", \"dotted\", \"hexcolon\", \"alnum26\", \"iban\", \"\", \"DIGITS\"]"),
    ("validator", "[\"luhn\", \"card\", \"ssn\", \"iban\", \"ipv4\", \"ipv6\", \"mac\", \"email\", \"phone\", \"bitcoin\", \"ethereum\", \"jwt\", \"date\", \"has_digit\", \"\", \"x\"]"),
    ("regex", "[\"\", \"(a*)*b\", \"\\\\b\", \"x{0,1000}{0,1000}\", \"(?i)token\", \"[^\\\\x00]+\", \"(?-u:\\\\xff)+\", \"\\\\p{L}+\", \"(\", \".*\", \"(x)(y)?\", \"^$\", \"(?s).{0,100000}\", \"a{4294967295}\"]"),
    ("keywords", "[[], [\"\"], [\"a\"], [\"token\"], [\"a\", \"a\"], [\"\\u00ff\"], [\"AKIA\", \"akia\"]]"),
    ("not_adjacent", "[\"\", \"]\", \"^\", \"\\\\\", \"a-\", \"z-a\", \"[:alpha:]\", \"A-Za-z0-9\", \"\\\\x00-\\\\xff\"]"),
    ("allowlist", "[[\"(\"], [\"\"], [\".*\"], []]"),
    ("stopwords", "[[\"\"], [\"a\"], []]"),
    ("id", "[\"\", \" \", \"aws-access-key-id\", \"every-field\", \"x\"]"),
    ("category", "[\"secret\", \"pii\", \"other\", \"\"]"),
    ("examples", "[{}, {\"positive\": [\"x\"]}, {\"other\": 1}]"),
];

const SAFETENSORS_HINTS: Hints = &[
    ("dtype", "[\"F32\", \"F16\", \"BF16\", \"F64\", \"I64\", \"I32\", \"I16\", \"I8\", \"U8\", \"U16\", \"U32\", \"U64\", \"BOOL\", \"F8_E4M3\", \"F8_E5M2\", \"F4\", \"C64\", \"\", \"f32\"]"),
    ("shape", "[[], [0], [1], [2, 3], [4, 3], [3, 4], [12], [4294967296, 4294967296], [-1], [18446744073709551615], [9223372036854775807], [4611686018427387904, 4], [1, 1, 1, 1, 1, 1, 1, 1, 1]]"),
    ("data_offsets", "[[0, 0], [0, 48], [0, 18446744073709551615], [5, 3], [0, 9223372036854775808], [18446744073709551615, 18446744073709551615], [0], [0, 1, 2], [-1, 0]]"),
    ("__metadata__", "[null, {}, {\"format\": 1}, {\"format\": \"pt\"}, \"x\"]"),
    ("weight_map", "[{}, [], null, {\"a\": \"model-00001-of-00002.safetensors\"}, {\"model.ids\": \"missing.safetensors\"}, {\"x\": \"\"}, {\"x\": \".\"}, {\"x\": \"..\"}, {\"x\": 1}]"),
];

const INDEX_HINTS: Hints = &[
    ("format_version", "[0, 1, 2, 4294967295, -1]"),
    ("bytes", BIG_INTS),
    ("pointer_bytes", "[0, 1, 4, 8, 16, 4294967295]"),
    ("documents", BIG_INTS),
    ("tokens", BIG_INTS),
    ("vocab_size", BIG_INTS),
    (
        "name",
        "[\"\", \"shard-0000\", \"shard-0001\", \"../index\", \"manifest\", \".\"]",
    ),
    ("shards", "[[], null]"),
    ("files", "[[], null]"),
    ("tokenizer", "[null, {}]"),
    ("vocab_sha256", "[\"\", \"x\"]"),
];

const TOKENIZER_HINTS: Hints = &[
    ("id", "[0, 1, 256, 257, 258, 1000, 4294967295, -1, \"A\", \"B\", \"x\"]"),
    ("type_id", "[0, 1, 4294967295]"),
    ("ids", "[[], [0], [0, 1], [4294967295]]"),
    ("tokens", "[[], [\"x\"], [\"a\", \"b\"]]"),
    ("max_length", "[0, 1, 2, 8, 100000]"),
    ("stride", "[0, 1, 7, 8, 100]"),
    ("start", "[0, 1, 2, 100]"),
    ("stop", "[0, 1, 2, 100]"),
    ("content", "[\"\", \" \", \"▁\", \"<|endoftext|>\", \"ab\"]"),
    ("unk_id", "[0, 1, 100, null, -1]"),
    ("unk_token", "[null, \"\", \"[UNK]\", \"<unk>\", \"missing\"]"),
    ("pad_id", "[0, 4294967295]"),
    ("pad_to_multiple_of", "[null, 0, 1, 3]"),
    ("dropout", "[null, 0.0, 0.5, 1.0, 2.0, -1.0]"),
    ("max_input_chars_per_word", "[0, 1, 100]"),
    ("continuing_subword_prefix", "[null, \"\", \"##\"]"),
    ("end_of_word_suffix", "[null, \"\", \"</w>\"]"),
    ("byte_fallback", "[true, false]"),
    ("ignore_merges", "[true, false]"),
    ("fuse_unk", "[true, false]"),
    ("prepend_scheme", "[\"always\", \"never\", \"first\", \"x\"]"),
    ("replacement", "[\"▁\", \" \", \"\"]"),
    ("behavior", "[\"Isolated\", \"Removed\", \"MergedWithPrevious\", \"MergedWithNext\", \"Contiguous\"]"),
    ("pattern", "[{\"String\": \"\"}, {\"String\": \" \"}, {\"Regex\": \"\"}, {\"Regex\": \"(\"}, {\"Regex\": \"(?=a)\"}, {\"Regex\": \"\\\\s*\"}, {\"Regex\": \"(a|ab)*c\"}]"),
    ("cls", "[[\"[CLS]\", 1], [\"missing\", 99999], [\"\", 0]]"),
    ("sep", "[[\"[SEP]\", 2], [\"missing\", 99999]]"),
    ("type", "[\"BPE\", \"WordPiece\", \"Unigram\", \"WordLevel\", \"ByteLevel\", \"Sequence\", \"Split\", \"Metaspace\", \"Replace\", \"Strip\", \"Fuse\", \"ByteFallback\", \"TemplateProcessing\", \"RobertaProcessing\", \"BertProcessing\", \"Digits\", \"Punctuation\", \"Whitespace\", \"WhitespaceSplit\", \"NFKC\", \"NFD\", \"Lowercase\", \"Prepend\", \"StripAccents\", \"Precompiled\", \"CTC\", \"UnicodeScripts\", \"BertPreTokenizer\", \"FixedLength\"]"),
    ("truncation", "[null, {\"direction\": \"Left\", \"max_length\": 2, \"strategy\": \"OnlySecond\", \"stride\": 0}]"),
    ("padding", "[null, {\"strategy\": {\"Fixed\": 3}, \"direction\": \"Left\", \"pad_to_multiple_of\": 4, \"pad_id\": 99999, \"pad_type_id\": 0, \"pad_token\": \"x\"}]"),
    ("vocab", "[{}, [], {\"a\": 0, \"b\": 0}, [[\"a\", 0.0], [\"a\", 1e308]], {\"a\": 4294967295}]"),
    ("merges", "[[], [\"a b\"], [\"a\"], [[\"a\", \"b\"]], [\"\"], [\"x y\"]]"),
    ("chat_template", "[null, \"\", \"{{\", [], [{\"name\": \"default\"}], [{\"name\": \"default\", \"template\": 1}]]"),
    ("bos_token", "[null, \"\", {\"content\": 1}, {}, \"<|endoftext|>\"]"),
    ("eos_token", "[null, \"\", {\"content\": \"x\"}, 1]"),
];

const JSONL_HINTS: Hints = &[
    (
        "text",
        "[\"\", \" \", \"\\u0000\", \"\\uffff\", null, 1, [], {}, \"\\ud83d\\ude00\", \"\\n\\n\"]",
    ),
    (
        "id",
        "[null, 0, -1, 1.5, \"\", \"x\", [], {}, true, 18446744073709551615, 1e308]",
    ),
    ("tags", "[null, [], [\"\"], [1], \"x\", {}]"),
];

const TEXTS: &[&str] = &[
    "",
    "hello world",
    "Hello, world! 1234567 the and ing memscan\n\n<|im_start|>user\nhi<|im_end|>",
    "  leading and trailing  ",
    "é中😀 \u{0} \t tabs",
    "<|endoftext|><|endoftext|>",
    "<user_defined> and <extra>",
];

/// Everything a command does with a tokenizer, on a few texts.
fn exercise_tokenizer(tok: &memscan::model::tokenizer::Tokenizer) {
    let n = tok.vocab_size();
    for t in TEXTS {
        if let Ok(ids) = tok.encode(t) {
            let _ = tok.decode(&ids);
            for &id in ids.iter().take(8) {
                let _ = tok.id_to_token(id);
            }
        }
        let _ = tok.encode_plain(t);
    }
    let _ = tok.decode(&[0, 1, u32::MAX, n as u32, n.saturating_sub(1) as u32]);
    let _ = tok.id_to_token(u32::MAX);
    if n <= 1 << 20 {
        let _ = memscan::verbatim::vocab_hash(tok);
    }
    if tok.chat_template.is_some() {
        let _ = memscan::model::chat::wrap(tok, "Hello {{ there }} <|im_start|>");
    }
}

fn run_gguf(ctx: &mut Ctx, files: &Files) -> Outcome {
    use memscan::model::gguf::Gguf;
    let dir = write_files(ctx, "gguf", files);
    let g = Gguf::open(&dir.join(&files[0].0)).map_err(err)?;
    let names: Vec<String> = g.tensors.keys().cloned().collect();
    let mut first_err = None;
    for name in &names {
        if let Err(e) = g.dequantize(name) {
            first_err.get_or_insert(e.to_string());
        }
        let _ = g.raw(name);
        let _ = memscan::model::quant::from_gguf(&g, name, tch::Device::Cpu, tch::Kind::Float);
    }
    let _ = g.architecture();
    let _ = g.u64("llama.block_count");
    let _ = g.f64("fuzz.f32");
    let _ = g.str("general.name");
    if g.get("tokenizer.ggml.model").is_none() {
        return first_err.map_or(Ok(()), Err);
    }
    let tok = memscan::model::tokenizer::Tokenizer::from_gguf(&g).map_err(err)?;
    exercise_tokenizer(&tok);
    first_err.map_or(Ok(()), Err)
}

fn run_safetensors(ctx: &mut Ctx, files: &Files) -> Outcome {
    use memscan::model::safetensors::SafetensorsFiles;
    let dir = write_files(ctx, "st", files);
    let st = SafetensorsFiles::open_dir(&dir).map_err(err)?;
    let mut first_err = None;
    for name in st.names() {
        let _ = st.shape(&name);
        let _ = st.path_of(&name);
        if let Err(e) = st.load(&name) {
            first_err.get_or_insert(e.to_string());
        }
    }
    let _ = st.load("no.such.tensor");
    let _ = st.first_path();
    first_err.map_or(Ok(()), Err)
}

fn run_tokenizer_json(ctx: &mut Ctx, files: &Files) -> Outcome {
    let dir = write_files(ctx, "tok", files);
    let tok = memscan::model::tokenizer::Tokenizer::from_file(&dir.join("tokenizer.json"))
        .map_err(err)?;
    exercise_tokenizer(&tok);
    Ok(())
}

fn run_rules(ctx: &mut Ctx, files: &Files) -> Outcome {
    use memscan::detect::{rules, Engine};
    let dir = write_files(ctx, "rules", files);
    let rules = rules::load(&[dir], &[]).map_err(err)?;
    let engine = Engine::new(rules).map_err(err)?;
    let _ = engine.scan(&ctx.sample);
    let _ = engine.scan(b"");
    let mut n = 0;
    let _ = engine.scan_stream(&ctx.sample[..], 4096, |_, _, _| n += 1);
    Ok(())
}

fn run_index(ctx: &mut Ctx, files: &Files) -> Outcome {
    use memscan::verbatim::Index;
    let dir = write_files(ctx, "index", files);
    let ix = Index::open(&dir).map_err(err)?;
    let tok_ok = match ctx.tokenizer.as_ref() {
        Some(t) => ix.check_tokenizer(t).is_ok(),
        None => false,
    };
    for q in [
        &b"the quick brown fox"[..],
        b"alice@example.com",
        b"",
        b"\xff",
        b"zzzz not there",
        INDEX_TEXT.as_bytes(),
    ] {
        let _ = ix.query(q, None);
        if tok_ok {
            if let Some(t) = ctx.tokenizer.as_ref() {
                if let Ok(ids) = t.encode_plain(&String::from_utf8_lossy(q)) {
                    let _ = ix.query(q, Some(&ids));
                }
            }
        }
        let _ = ix.query(q, Some(&[0, 1, 2, 255, 256, 257, u32::MAX]));
    }
    Ok(())
}

fn run_jsonl(ctx: &mut Ctx, files: &Files) -> Outcome {
    let dir = write_files(ctx, "jsonl", files);
    let path = dir.join(&files[0].0);
    let r = memscan::input::read_texts(&path).map(|_| ()).map_err(err);
    let _ = memscan::prompts::load(&path.display().to_string());
    let out = ctx.work.join("jsonl-index");
    let tok = ctx.tokenizer.as_ref().map(|t| (t, "fixture".to_string()));
    let _ = memscan::verbatim::build(&[path], &out, 256, tok, |_| {});
    let _ = std::fs::remove_dir_all(&out);
    r
}

fn run_chat(ctx: &mut Ctx, files: &Files) -> Outcome {
    let Some(tok) = ctx.tokenizer.as_mut() else {
        return Err("no tokenizer".into());
    };
    tok.chat_template = Some(String::from_utf8_lossy(&files[0].1).to_string());
    let r = memscan::model::chat::wrap(tok, "Hello {{ name }} <|im_start|>")
        .map(|_| ())
        .map_err(err);
    tok.chat_template = None;
    r
}

// ---------------------------------------------------------------------------------------
// Worker: runs one target until its deadline, reporting on stdout.

struct PanicInfo {
    location: String,
    message: String,
}

static LAST_PANIC: Mutex<Option<PanicInfo>> = Mutex::new(None);

fn install_quiet_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_else(|| "unknown".into());
        let message = if let Some(s) = info.payload().downcast_ref::<&str>() {
            s.to_string()
        } else if let Some(s) = info.payload().downcast_ref::<String>() {
            s.clone()
        } else {
            "(non-string payload)".into()
        };
        if let Ok(mut g) = LAST_PANIC.lock() {
            *g = Some(PanicInfo { location, message });
        }
    }));
}

fn key_hash(key: &str) -> String {
    format!("{:016x}", fnv(key.as_bytes()))
}

/// Saves the first input of a failure (kept when a file for it exists already).
fn save_crash(dir: &Path, key: &str, message: &str, input: &[u8]) -> PathBuf {
    let h = key_hash(key);
    let bin = dir.join(format!("crash-{h}.bin"));
    if !bin.exists() {
        let _ = std::fs::write(&bin, input);
        let _ = std::fs::write(
            dir.join(format!("crash-{h}.txt")),
            format!("{key}\n{message}\n"),
        );
    }
    bin
}

fn one_line(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(300)
        .collect()
}

/// Every positive example of the built-in rules, one per line.
fn rule_sample() -> Vec<u8> {
    let mut sample = Vec::new();
    for text in [SECRETS_TOML, PII_TOML] {
        if let Ok(t) = toml::from_str::<toml::Table>(text) {
            for r in t
                .get("rules")
                .and_then(|r| r.as_array())
                .into_iter()
                .flatten()
            {
                let pos = r
                    .get("examples")
                    .and_then(|e| e.get("positive"))
                    .and_then(|p| p.as_array());
                for p in pos.into_iter().flatten().filter_map(|p| p.as_str()) {
                    sample.extend(p.as_bytes());
                    sample.push(b'\n');
                }
            }
        }
    }
    sample
}

fn worker(target: &Target, out: &Path, seed: u64, seconds: f64) {
    // libtorch allocates outside the Rust allocator: bound the whole heap too
    let limit = (CAP.load(Relaxed) as u64).saturating_mul(6) as libc::rlim_t;
    let rl = libc::rlimit {
        rlim_cur: limit,
        rlim_max: limit,
    };
    // SAFETY: setrlimit with a valid struct; lowers this process's own data limit.
    unsafe { libc::setrlimit(libc::RLIMIT_DATA, &rl) };
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    tch::set_num_threads(1);
    install_quiet_hook();
    let tdir = out.join(target.name);
    let _ = std::fs::create_dir_all(&tdir);
    let shm = Path::new("/dev/shm");
    let work = if shm.is_dir() {
        shm.join(format!(
            "memscan-fuzz-{}-{}",
            std::process::id(),
            target.name
        ))
    } else {
        tdir.join(format!("work-{}", std::process::id()))
    };
    let _ = std::fs::create_dir_all(&work);
    let tokenizer = {
        let p = work.join("fixture-tokenizer.json");
        let _ = std::fs::write(&p, FIXTURE_TOKENIZER);
        memscan::model::tokenizer::Tokenizer::from_file(&p).ok()
    };
    let mut ctx = Ctx {
        work: work.clone(),
        tokenizer,
        sample: rule_sample(),
    };
    let seeds = (target.seeds)(&ctx);
    let current = tdir.join("current");
    let encode = |files: &Files| -> Vec<u8> {
        if target.multi {
            pack(files)
        } else {
            files.first().map(|f| f.1.clone()).unwrap_or_default()
        }
    };
    let stdout = std::io::stdout();
    let say = |line: String| {
        let mut o = stdout.lock();
        let _ = writeln!(o, "{line}");
        let _ = o.flush();
    };
    let mut rng = Rng::new(seed ^ fnv(target.name.as_bytes()));
    let mut execs = 0u64;
    let mut accepted = 0u64;
    let mut seen = BTreeSet::new();
    // accepted mutants to mutate further (fields valid when `intact`)
    let mut pool: Vec<Seed> = Vec::new();
    let mut last_report = Instant::now();
    // Ok(true) accepted, Ok(false) rejected (the message in `why`), Err(()) panicked
    let mut run_one = |ctx: &mut Ctx,
                       files: &Files,
                       execs: &mut u64,
                       accepted: &mut u64,
                       why: &mut String|
     -> Result<bool, ()> {
        let bytes = encode(files);
        let _ = std::fs::write(&current, &bytes);
        if let Ok(mut g) = LAST_PANIC.lock() {
            *g = None;
        }
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (target.run)(ctx, files)));
        *execs += 1;
        match r {
            Ok(Ok(())) => {
                *accepted += 1;
                Ok(true)
            }
            Ok(Err(e)) => {
                *why = e;
                Ok(false)
            }
            Err(_) => {
                let p = LAST_PANIC.lock().ok().and_then(|mut g| g.take());
                let (loc, msg) = p.map_or(("unknown".into(), String::new()), |p| {
                    (p.location, p.message)
                });
                let key = format!("panic at {loc}");
                if seen.insert(key.clone()) {
                    let path = save_crash(&tdir, &key, &msg, &bytes);
                    say(format!("F\t{key}\t{}\t{}", one_line(&msg), path.display()));
                }
                Err(())
            }
        }
    };
    // every seed once: they must all be accepted
    let mut rejected = Vec::new();
    for (i, s) in seeds.iter().enumerate() {
        let mut why = String::new();
        match run_one(&mut ctx, &s.files, &mut execs, &mut accepted, &mut why) {
            Ok(true) => {}
            Ok(false) => rejected.push(format!("seed {i}: {}", one_line(&why))),
            Err(()) => rejected.push(format!("seed {i}: panicked")),
        }
    }
    say(format!("S\t{}\t{}", seeds.len(), rejected.join(" | ")));
    if seeds.is_empty() {
        say(format!("D\t{execs}\t{accepted}"));
        return;
    }
    while Instant::now() < deadline {
        let (files, fields_ok, base_fields, kinds) =
            if let (Some(gen), true) = (target.generate, rng.chance(0.5)) {
                let s = gen(&mut rng);
                if rng.chance(0.7) {
                    (s.files.clone(), true, s.fields, s.kinds)
                } else {
                    let (f, ok) = mutate(&mut rng, &s, &seeds, target.dict, target.hints);
                    (f, ok, s.fields, s.kinds)
                }
            } else {
                let base = if !pool.is_empty() && rng.chance(0.3) {
                    pool[rng.below(pool.len())].clone()
                } else {
                    seeds[rng.below(seeds.len())].clone()
                };
                let (f, ok) = mutate(&mut rng, &base, &seeds, target.dict, target.hints);
                (f, ok, base.fields, base.kinds)
            };
        let mut files = files;
        if let (Some(fix), true) = (target.fixup, rng.chance(0.5)) {
            fix(&mut rng, &mut files);
        }
        let mut why = String::new();
        if run_one(&mut ctx, &files, &mut execs, &mut accepted, &mut why) == Ok(true) {
            let s = Seed {
                files,
                kinds,
                fields: if fields_ok { base_fields } else { Vec::new() },
            };
            if pool.len() < 256 {
                pool.push(s);
            } else {
                let i = rng.below(pool.len());
                pool[i] = s;
            }
        }
        if last_report.elapsed() > Duration::from_millis(250) {
            say(format!("E\t{execs}\t{accepted}"));
            last_report = Instant::now();
        }
    }
    say(format!("D\t{execs}\t{accepted}"));
    let _ = std::fs::remove_dir_all(&work);
}

// ---------------------------------------------------------------------------------------
// Supervisor.

struct Opts {
    seconds: f64,
    seed: u64,
    threads: usize,
    out: PathBuf,
    hang_secs: f64,
    max_alloc_mib: usize,
    targets: Vec<&'static Target>,
}

#[derive(Default)]
struct Stats {
    execs: u64,
    accepted: u64,
    secs: f64,
    failures: BTreeMap<String, String>,
    seed_warnings: Vec<String>,
}

enum Msg {
    Line(String),
    Eof,
}

/// The key of an abnormal exit, from the worker's stderr.
fn abort_key(stderr: &str, status: &std::process::ExitStatus) -> (String, String) {
    if stderr.contains("has overflowed its stack") {
        return ("stack overflow".into(), String::new());
    }
    if let Some(i) = stderr.rfind(ALLOC_MARKER) {
        let tail = &stderr[i..];
        let size = tail
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches(ALLOC_MARKER)
            .trim()
            .to_string();
        let frame = tail
            .lines()
            .map(str::trim)
            .filter_map(|l| l.split_once(": ").map(|(_, f)| f))
            .find(|f| f.starts_with("memscan::"))
            .or_else(|| {
                tail.lines()
                    .map(str::trim)
                    .filter_map(|l| l.split_once(": ").map(|(_, f)| f))
                    .find(|f| {
                        !f.starts_with("std::")
                            && !f.starts_with("core::")
                            && !f.starts_with("alloc::")
                            && !f.starts_with("fuzz::")
                            && !f.starts_with("__")
                            && !f.starts_with("<alloc::")
                            && !f.starts_with("<fuzz::")
                    })
            })
            .unwrap_or("unknown");
        let frame = frame.split("::h").next().unwrap_or(frame);
        return (
            format!("allocation refused in {frame}"),
            format!("{size} bytes"),
        );
    }
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_string();
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return (format!("killed by signal {sig}"), one_line(&last));
        }
    }
    (format!("exit status {:?}", status.code()), one_line(&last))
}

fn supervise(target: &'static Target, o: &Opts, log: &Mutex<()>) -> Stats {
    let mut stats = Stats::default();
    let tdir = o.out.join(target.name);
    let _ = std::fs::create_dir_all(&tdir);
    let start = Instant::now();
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("fuzz"));
    let mut restart = 0u64;
    loop {
        let left = o.seconds - start.elapsed().as_secs_f64();
        if left <= 0.05 {
            break;
        }
        let child = Command::new(&exe)
            .arg("--worker")
            .arg(target.name)
            .arg("--seconds")
            .arg(format!("{left:.3}"))
            .arg("--seed")
            .arg((o.seed ^ restart.wrapping_mul(0x9E37_79B9)).to_string())
            .arg("--out")
            .arg(&o.out)
            .arg("--max-alloc-mib")
            .arg(o.max_alloc_mib.to_string())
            .env("RAYON_NUM_THREADS", "1")
            .env("OMP_NUM_THREADS", "1")
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => {
                eprintln!("fuzz: cannot start a worker: {e}");
                break;
            }
        };
        let pid = child.id();
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take();
        let reader = std::thread::spawn(move || {
            if let Some(s) = stdout {
                for line in BufReader::new(s).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(Msg::Line(line)).is_err() {
                        break;
                    }
                }
            }
            let _ = tx.send(Msg::Eof);
        });
        let stderr = child.stderr.take();
        let err_reader = std::thread::spawn(move || {
            // the last 256 KiB of stderr
            let mut keep: Vec<u8> = Vec::new();
            if let Some(mut s) = stderr {
                let mut buf = [0u8; 8192];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    keep.extend_from_slice(&buf[..n]);
                    if keep.len() > 512 << 10 {
                        keep.drain(..keep.len() - (256 << 10));
                    }
                }
            }
            String::from_utf8_lossy(&keep).to_string()
        });
        let (mut execs, mut accepted, mut done, mut hung) = (0u64, 0u64, false, false);
        let hang = Duration::from_secs_f64(o.hang_secs);
        loop {
            match rx.recv_timeout(hang) {
                Ok(Msg::Line(l)) => {
                    let parts: Vec<&str> = l.split('\t').collect();
                    match parts[0] {
                        "E" | "D" if parts.len() >= 3 => {
                            execs = parts[1].parse().unwrap_or(execs);
                            accepted = parts[2].parse().unwrap_or(accepted);
                            done |= parts[0] == "D";
                        }
                        "S" if parts.len() >= 3 && !parts[2].is_empty() && restart == 0 => {
                            stats.seed_warnings.push(parts[2].to_string());
                            let _g = log.lock();
                            eprintln!("warning: {}: seeds rejected: {}", target.name, parts[2]);
                        }
                        "F" if parts.len() >= 4 && !stats.failures.contains_key(parts[1]) => {
                            stats
                                .failures
                                .insert(parts[1].to_string(), parts[3].to_string());
                            let _g = log.lock();
                            eprintln!(
                                "FAILURE {}: {} ({}) -> {}",
                                target.name, parts[1], parts[2], parts[3]
                            );
                        }
                        _ => {}
                    }
                }
                Ok(Msg::Eof) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    hung = true;
                    let _ = child.kill();
                    break;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        let status = child.wait();
        let _ = reader.join();
        let err_text = err_reader.join().unwrap_or_default();
        stats.execs += execs;
        stats.accepted += accepted;
        let _ = std::fs::remove_dir_all(format!("/dev/shm/memscan-fuzz-{pid}-{}", target.name));
        if done && !hung {
            break;
        }
        // an abort or a hang: the input is the one the worker wrote last
        stats.execs += 1;
        let input = std::fs::read(tdir.join("current")).unwrap_or_default();
        let (key, msg) = match (&status, hung) {
            (_, true) => (
                format!("hang (no progress for {} s)", o.hang_secs),
                String::new(),
            ),
            (Ok(st), false) => abort_key(&err_text, st),
            (Err(e), false) => (format!("worker lost ({e})"), String::new()),
        };
        let path = save_crash(&tdir, &key, &msg, &input);
        if !stats.failures.contains_key(&key) {
            stats
                .failures
                .insert(key.clone(), path.display().to_string());
            let _g = log.lock();
            eprintln!(
                "FAILURE {}: {key} ({msg}) -> {}",
                target.name,
                path.display()
            );
        }
        restart += 1;
    }
    stats.secs = start.elapsed().as_secs_f64();
    stats
}

/// Runs one saved input through a target, panics and all (`--replay TARGET FILE`).
fn replay(name: &str, file: &Path) {
    let Some(t) = TARGETS.iter().find(|t| t.name == name) else {
        usage()
    };
    let bytes = std::fs::read(file).unwrap_or_else(|e| {
        eprintln!("fuzz: {}: {e}", file.display());
        std::process::exit(2)
    });
    let files = if t.multi {
        unpack(&bytes).unwrap_or_else(|| {
            eprintln!("fuzz: {}: not an MSFZ container", file.display());
            std::process::exit(2)
        })
    } else {
        let name = match t.name {
            "gguf" | "gguf-vocab" | "gguf-model" => "model.gguf",
            "hf-config" => "config.json",
            "rules" => "fuzz.toml",
            "jsonl" => "input.jsonl",
            _ => "template.jinja",
        };
        vec![(name.to_string(), bytes)]
    };
    let work = std::env::temp_dir().join(format!("memscan-fuzz-replay-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&work);
    let tokenizer = {
        let p = work.join("fixture-tokenizer.json");
        let _ = std::fs::write(&p, FIXTURE_TOKENIZER);
        memscan::model::tokenizer::Tokenizer::from_file(&p).ok()
    };
    let mut ctx = Ctx {
        work: work.clone(),
        tokenizer,
        sample: rule_sample(),
    };
    let r = (t.run)(&mut ctx, &files);
    let _ = std::fs::remove_dir_all(&work);
    match r {
        Ok(()) => println!("accepted"),
        Err(e) => println!("rejected: {e}"),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: cargo run --release --example fuzz -- [--seconds N] [--seed S] [--threads T] [--out DIR]\n\
         \x20      [--hang-secs H] [--max-alloc-mib M] [--list] [TARGET...]\n\
         \x20      --replay TARGET FILE   (runs one saved input, panics and all)\n\
         targets: {}",
        TARGETS.iter().map(|t| t.name).collect::<Vec<_>>().join(" ")
    );
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut o = Opts {
        seconds: 60.0,
        seed: 1,
        threads: 1,
        out: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/fuzz-out")),
        hang_secs: 20.0,
        max_alloc_mib: 1024,
        targets: Vec::new(),
    };
    let mut worker_target = None;
    let mut i = 0;
    let value = |i: &mut usize| -> String {
        *i += 1;
        args.get(*i).cloned().unwrap_or_else(|| usage())
    };
    while i < args.len() {
        match args[i].as_str() {
            "--seconds" => o.seconds = value(&mut i).parse().unwrap_or_else(|_| usage()),
            "--seed" => o.seed = value(&mut i).parse().unwrap_or_else(|_| usage()),
            "--threads" => {
                o.threads = value(&mut i)
                    .parse::<usize>()
                    .unwrap_or_else(|_| usage())
                    .max(1)
            }
            "--out" => o.out = PathBuf::from(value(&mut i)),
            "--hang-secs" => o.hang_secs = value(&mut i).parse().unwrap_or_else(|_| usage()),
            "--max-alloc-mib" => {
                o.max_alloc_mib = value(&mut i).parse().unwrap_or_else(|_| usage())
            }
            "--worker" => worker_target = Some(value(&mut i)),
            "--replay" => {
                let name = value(&mut i);
                let file = value(&mut i);
                replay(&name, Path::new(&file));
                return;
            }
            "--list" => {
                for t in TARGETS {
                    println!("{:16} {}", t.name, t.about);
                }
                return;
            }
            "-h" | "--help" => usage(),
            name => match TARGETS.iter().find(|t| t.name == name) {
                Some(t) => o.targets.push(t),
                None => {
                    eprintln!("fuzz: unknown target {name}");
                    usage()
                }
            },
        }
        i += 1;
    }
    CAP.store(o.max_alloc_mib << 20, Relaxed);
    LIVE_CAP.store((o.max_alloc_mib << 20).saturating_mul(4), Relaxed);
    if let Some(name) = worker_target {
        let Some(t) = TARGETS.iter().find(|t| t.name == name) else {
            usage()
        };
        worker(t, &o.out, o.seed, o.seconds);
        return;
    }
    if o.targets.is_empty() {
        o.targets = TARGETS.iter().collect();
    }
    let _ = std::fs::create_dir_all(&o.out);
    eprintln!(
        "fuzz: {} target(s), {} s each, {} at a time, seed {}, output in {}",
        o.targets.len(),
        o.seconds,
        o.threads,
        o.seed,
        o.out.display()
    );
    let opts = Arc::new(o);
    let queue = Arc::new(Mutex::new((0..opts.targets.len()).collect::<Vec<_>>()));
    let results: Arc<Mutex<BTreeMap<usize, Stats>>> = Arc::new(Mutex::new(BTreeMap::new()));
    let log = Arc::new(Mutex::new(()));
    let mut handles = Vec::new();
    for _ in 0..opts.threads.min(opts.targets.len()) {
        let (opts, queue, results, log) =
            (opts.clone(), queue.clone(), results.clone(), log.clone());
        handles.push(std::thread::spawn(move || loop {
            let next = queue.lock().ok().and_then(|mut q| {
                if q.is_empty() {
                    None
                } else {
                    Some(q.remove(0))
                }
            });
            let Some(ti) = next else { break };
            let s = supervise(opts.targets[ti], &opts, &log);
            if let Ok(mut r) = results.lock() {
                r.insert(ti, s);
            }
        }));
    }
    for h in handles {
        let _ = h.join();
    }
    let results = results
        .lock()
        .map(|mut r| std::mem::take(&mut *r))
        .unwrap_or_default();
    println!(
        "{:16} {:>10} {:>8} {:>10} {:>9} {:>18}",
        "target", "execs", "secs", "execs/s", "accepted", "distinct_failures"
    );
    let (mut te, mut ts, mut tf) = (0u64, 0f64, 0usize);
    for (ti, s) in &results {
        let t = opts.targets[*ti];
        println!(
            "{:16} {:>10} {:>8.1} {:>10.1} {:>8.1}% {:>18}",
            t.name,
            s.execs,
            s.secs,
            s.execs as f64 / s.secs.max(1e-9),
            100.0 * s.accepted as f64 / (s.execs.max(1)) as f64,
            s.failures.len()
        );
        te += s.execs;
        ts += s.secs;
        tf += s.failures.len();
    }
    println!(
        "{:16} {:>10} {:>8.1} {:>10.1} {:>9} {:>18}",
        "total",
        te,
        ts,
        te as f64 / ts.max(1e-9),
        "",
        tf
    );
    for (ti, s) in &results {
        for (key, path) in &s.failures {
            println!("{}: {key}: {path}", opts.targets[*ti].name);
        }
    }
    if tf > 0 {
        std::process::exit(1);
    }
    // a target that ran nothing (its worker could not start) is not a clean run
    let idle: Vec<&str> = results
        .iter()
        .filter(|(_, s)| s.execs == 0)
        .map(|(ti, _)| opts.targets[*ti].name)
        .collect();
    if !idle.is_empty() {
        eprintln!("fuzz: no input ran for {}", idle.join(", "));
        std::process::exit(2);
    }
}
