//! A tiny preprocessor over `std::fs`: input.txt is copied to output.txt line by line, except
//! directives: `#write NAME TEXT` creates the file NAME with TEXT (`fs::write`), `#append NAME TEXT`
//! adds a line to it (`OpenOptions::append`), `#include NAME` inserts its content
//! (`fs::read_to_string`), `#remove NAME` deletes it (`fs::remove_file`). Including a file that is
//! not there ends the run: the error on stderr, exit code 2.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::process;

fn fail(what: &str, name: &str, err: std::io::Error) -> ! {
    eprintln!("include: {} {}: {}", what, name, err);
    process::exit(2);
}

fn main() {
    let text = fs::read_to_string("input.txt").unwrap_or_else(|e| fail("read", "input.txt", e));
    let file = File::create("output.txt").unwrap_or_else(|e| fail("create", "output.txt", e));
    let mut out = BufWriter::new(file);
    let mut directives = 0;
    for line in text.lines() {
        let mut parts = line.splitn(3, ' ');
        let (word, name, rest) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
        match (word, name) {
            (Some("#write"), Some(name)) => {
                fs::write(name, format!("{}\n", rest)).unwrap_or_else(|e| fail("write", name, e));
            }
            (Some("#append"), Some(name)) => {
                let mut f = OpenOptions::new()
                    .append(true)
                    .open(name)
                    .unwrap_or_else(|e| fail("append to", name, e));
                writeln!(f, "{}", rest).unwrap_or_else(|e| fail("append to", name, e));
            }
            (Some("#include"), Some(name)) => {
                let content = fs::read_to_string(name).unwrap_or_else(|e| fail("include", name, e));
                out.write_all(content.as_bytes()).unwrap_or_else(|e| fail("write", "output.txt", e));
            }
            (Some("#remove"), Some(name)) => {
                fs::remove_file(name).unwrap_or_else(|e| fail("remove", name, e));
            }
            _ => {
                writeln!(out, "{}", line).unwrap_or_else(|e| fail("write", "output.txt", e));
                continue;
            }
        }
        directives += 1;
    }
    writeln!(out, "-- {} directives", directives).unwrap_or_else(|e| fail("write", "output.txt", e));
    out.flush().unwrap_or_else(|e| fail("flush", "output.txt", e));
}
