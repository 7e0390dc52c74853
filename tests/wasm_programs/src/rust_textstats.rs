//! Text statistics with `std::fs`: `read_to_string` of input.txt, then per line its characters
//! (Unicode scalar values), bytes, the line reversed by characters and upper-cased (Unicode case
//! mapping), the distinct words sorted; written with `fs::write` and checked with `fs::metadata`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::process;

fn main() {
    let text = match fs::read_to_string("input.txt") {
        Ok(text) => text,
        Err(err) => {
            eprintln!("textstats: input.txt: {}", err);
            process::exit(1);
        }
    };
    let mut out = String::new();
    let mut words = BTreeSet::new();
    for (number, line) in text.lines().enumerate() {
        let reversed: String = line.chars().rev().collect();
        let _ = writeln!(
            out,
            "{:>3} chars={} bytes={} upper={} reversed={}",
            number + 1,
            line.chars().count(),
            line.len(),
            line.to_uppercase(),
            reversed
        );
        words.extend(line.split_whitespace().map(|w| w.to_lowercase()));
    }
    let _ = writeln!(
        out,
        "total chars={} bytes={} lines={} distinct words={}",
        text.chars().count(),
        text.len(),
        text.lines().count(),
        words.len()
    );
    let listed: Vec<&str> = words.iter().map(String::as_str).take(50).collect();
    let _ = writeln!(out, "words: {}", listed.join(" "));
    if let Err(err) = fs::write("output.txt", &out) {
        eprintln!("textstats: output.txt: {}", err);
        process::exit(1);
    }
    match fs::metadata("output.txt") {
        Ok(meta) if meta.len() == out.len() as u64 => {}
        Ok(meta) => {
            eprintln!("textstats: output.txt has {} bytes, wrote {}", meta.len(), out.len());
            process::exit(5);
        }
        Err(err) => {
            eprintln!("textstats: metadata of output.txt: {}", err);
            process::exit(1);
        }
    }
}
