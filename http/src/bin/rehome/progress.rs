//! Progress of long work: a bar on a terminal, plain lines (every 10 %, or every 5 seconds
//! without a total) otherwise, so logs and CI output stay readable.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Progress of one task, written to standard error.
pub struct Progress {
    bar: Option<ProgressBar>,
    label: String,
    total: Option<u64>,
    done: u64,
    next_line_at: u64,
    last_line: Instant,
}

impl Progress {
    /// Starts reporting `label`, out of `total` when known.
    pub fn new(label: &str, total: Option<u64>) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = match total {
                Some(t) => ProgressBar::new(t).with_style(
                    ProgressStyle::with_template(
                        "{msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                ),
                None => ProgressBar::new_spinner().with_style(
                    ProgressStyle::with_template("{spinner} {msg} {pos} ({elapsed})")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                ),
            };
            bar.set_message(label.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        if bar.is_none() {
            match total {
                Some(t) => eprintln!("{label}: 0/{t}"),
                None => eprintln!("{label}: started"),
            }
        }
        Progress {
            bar,
            label: label.to_owned(),
            total,
            done: 0,
            next_line_at: total.map_or(u64::MAX, |t| (t / 10).max(1)),
            last_line: Instant::now(),
        }
    }

    /// `n` more done.
    pub fn inc(&mut self, n: u64) {
        self.done += n;
        if let Some(bar) = &self.bar {
            bar.inc(n);
            return;
        }
        let due = match self.total {
            Some(_) => self.done >= self.next_line_at,
            None => self.last_line.elapsed() >= Duration::from_secs(5),
        };
        if due {
            match self.total {
                Some(t) => {
                    eprintln!("{}: {}/{t}", self.label, self.done);
                    self.next_line_at = self.done + (t / 10).max(1);
                }
                None => eprintln!("{}: {}", self.label, self.done),
            }
            self.last_line = Instant::now();
        }
    }

    /// How many are done so far.
    pub fn done(&self) -> u64 {
        self.done
    }

    /// Done, with a closing sentence.
    pub fn finish(self, message: &str) {
        match self.bar {
            Some(bar) => bar.finish_with_message(format!("{}: {message}", self.label)),
            None => eprintln!("{}: {message}", self.label),
        }
    }
}
