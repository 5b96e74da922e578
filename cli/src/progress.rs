//! A one-line progress indicator on stderr, shown only when stderr is a terminal (CI logs stay
//! clean).

use std::io::{IsTerminal, Write};

pub struct Progress {
    verb: &'static str,
    enabled: bool,
}

impl Progress {
    pub fn new(verb: &'static str) -> Progress {
        Progress { verb, enabled: std::io::stderr().is_terminal() }
    }

    pub fn update(&self, done: usize, total: usize, item: &str) {
        if !self.enabled || total == 0 {
            return;
        }
        let width = 24;
        let filled = width * done / total;
        let bar: String = "#".repeat(filled) + &"-".repeat(width - filled);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K[{bar}] {done}/{total} {} {item}", self.verb);
        let _ = err.flush();
    }

    pub fn finish(&self) {
        if self.enabled {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
        }
    }
}
