//! The kept fast paths against their full implementations, for a fixed
//! time in every test run: each check of `equivalence/checks.rs` runs on
//! mutations of its seeds in `fuzz/seeds/` (the cargo-fuzz targets run the
//! same checks longer, with coverage guidance, on nightly).
//!
//! `TRACECAT_EQUIVALENCE_SECONDS` sets the time per check (default 8);
//! `TRACECAT_EQUIVALENCE_SEED` replays a run (each run prints its seed).
//! A failing input is written to a file whose path the failure names.

#[path = "equivalence/checks.rs"]
mod checks;
mod common;

use std::cell::Cell;
use std::time::{Duration, Instant};

/// xorshift64*: enough to pick mutations, and replayable from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Pieces that matter to YAML and to the template language, spliced in by
/// the mutations.
const PIECES: &[&str] = &[
    "\n",
    " ",
    "  ",
    "\t",
    ": ",
    "- ",
    "#",
    "'",
    "\"",
    "{",
    "}",
    "[",
    "]",
    "{}",
    "[]",
    ",",
    "|",
    ">",
    "|-",
    "&a ",
    "*a",
    "!!str ",
    "!!int ",
    "~",
    "null",
    "true",
    "no",
    "0x1F",
    "1e3",
    "-.5",
    "---\n",
    "...\n",
    "? ",
    "\\",
    "\r",
    "é",
    "kind: ",
    "metadata:\n  name: ",
    "annotations:\n",
    "helm.sh/hook: ",
    "{{ ",
    " }}",
    "{% ",
    " %}",
    "{%- ",
    " -%}",
    "if ",
    "endif",
    "else",
    "not ",
    " and ",
    " or ",
    "Values.a",
    "Values.b",
    "set x = ",
    "{# ",
    " #}",
    "raw",
    "import ",
    // Scalars in the forms a document head can hold them.
    "\" a \"",
    "' b '",
    "\"\\t\"",
    "'it''s'",
    "\"\\u00e9\"",
    "\"x\\\"y\"",
    " # c",
    "\"\"",
    "kind: \" Job \"\n",
    "  name: ' x '\n",
    "    \"helm.sh/hook\": ' pre-install '\n",
    "    helm.sh/hook-weight: \"-5\"\n",
    "kind: 'Se''cret'\n",
    "  name: \"a\\\\b\"\n",
    // Head fields of shapes Helm refuses.
    "apiVersion:\n  - x\n",
    "metadata: x\n",
    "metadata:\n- a\n",
    "  annotations: |\n    x\n",
    "  annotations:\n    []\n",
    "  name:\n    a: b\n",
];

fn mutate(rng: &mut Rng, input: &[u8], seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = (rng.next() % 128) as u8;
            }
            1 | 2 => {
                let piece = PIECES[rng.below(PIECES.len())].as_bytes();
                out.splice(at..at, piece.iter().copied());
            }
            3 => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            4 => {
                // A line from another seed, at a line start.
                let other = &seeds[rng.below(seeds.len())];
                let lines: Vec<&[u8]> = other.split(|b| *b == b'\n').collect();
                let line = lines[rng.below(lines.len())];
                let start = out[..at]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |p| p + 1);
                out.splice(start..start, line.iter().chain(b"\n").copied());
            }
            5 => {
                // One more or one less space of indentation on a line.
                let start = out[..at]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |p| p + 1);
                if rng.below(2) == 0 {
                    out.insert(start, b' ');
                } else if out.get(start) == Some(&b' ') {
                    out.remove(start);
                }
            }
            _ => {
                // A repeated line.
                let start = out[..at]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |p| p + 1);
                let end = out[at..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(out.len(), |p| at + p + 1);
                let line = out[start..end].to_vec();
                out.splice(end..end, line);
            }
        }
    }
    out.truncate(1 << 16);
    out
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = common::root().join("fuzz/seeds").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let out: Vec<Vec<u8>> = files.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out
}

thread_local! {
    static IN_ENGINE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `check` on the seeds, then on mutations of them (and of earlier
/// mutations) until `time` is up; returns the inputs tried and those where
/// the fast path answered, so that the two were compared.
fn run(
    target: &str,
    rng: &mut Rng,
    time: Duration,
    check: &dyn Fn(&[u8]) -> bool,
) -> (usize, usize) {
    let seeds = seeds(target);
    let deadline = Instant::now() + time;
    let mut last = seeds[0].clone();
    let (mut tried, mut compared) = (0, 0);
    let mut input: Vec<u8>;
    loop {
        input = if tried < seeds.len() {
            seeds[tried].clone()
        } else if rng.below(3) == 0 {
            mutate(rng, &last, &seeds)
        } else {
            let pick = rng.below(seeds.len());
            mutate(rng, &seeds[pick], &seeds)
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&input)));
        match outcome {
            Ok(true) => compared += 1,
            Ok(false) => {}
            Err(e) => {
                let why = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let path =
                    std::env::temp_dir().join(format!("tracecat-equivalence-{target}.input"));
                std::fs::write(&path, &input).unwrap();
                panic!("{target}: {why}\ninput written to {}", path.display());
            }
        }
        tried += 1;
        last = input;
        if tried >= seeds.len() && Instant::now() >= deadline {
            return (tried, compared);
        }
    }
}

#[test]
fn the_fast_paths_answer_as_the_full_implementations() {
    let secs: u64 = std::env::var("TRACECAT_EQUIVALENCE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let seed: u64 = std::env::var("TRACECAT_EQUIVALENCE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    eprintln!("equivalence seed {seed} (TRACECAT_EQUIVALENCE_SEED replays it)");
    // Panics inside the engine on malformed templates are the render's to
    // guard, not findings; every other panic is reported as usual.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !IN_ENGINE.with(|e| e.get()) {
            default_hook(info);
        }
    }));
    let time = Duration::from_secs(secs);
    let mut rng = Rng(seed);
    let mut report = Vec::new();
    let head = run("manifest_head", &mut rng, time, &checks::manifest_head);
    report.push(("manifest_head", head));
    let schema = run("schema_fast", &mut rng, time, &checks::schema_fast);
    report.push(("schema_fast", schema));
    let gates = run("template_gate", &mut rng, time, &|d| {
        checks::template_gate(d, &|on| IN_ENGINE.with(|e| e.set(on)))
    });
    report.push(("template_gate", gates));
    for (target, (tried, compared)) in &report {
        eprintln!("{target}: {tried} inputs, {compared} compared");
        // A check that never compares anything could not fail.
        assert!(
            *compared >= 20,
            "{target}: only {compared} of {tried} inputs were compared"
        );
    }
}
