//! Progress of the long steps of a load (reading each file, joining, indexing, preparing
//! tiles): on a terminal, a bar (when the amount of work is known) or a spinner on stderr;
//! otherwise — a service log, a test — nothing is drawn and each step's duration is logged
//! at info level when it ends.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// One step; it ends when dropped.
#[derive(Debug)]
pub struct Step {
    bar: ProgressBar,
    label: String,
    started: Instant,
}

/// Whether progress is drawn: only when stderr is a terminal.
fn drawn() -> bool {
    std::io::stderr().is_terminal()
}

impl Step {
    /// A step of unknown length (a spinner).
    pub fn start(label: impl Into<String>) -> Step {
        let label = label.into();
        let bar = if drawn() {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(label.clone());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        } else {
            ProgressBar::hidden()
        };
        Step {
            bar,
            label,
            started: Instant::now(),
        }
    }

    /// A step of `len` units of `unit` (a bar).
    pub fn counted(label: impl Into<String>, len: usize, unit: &str) -> Step {
        let label = label.into();
        let bar = if drawn() {
            let bar = ProgressBar::new(len as u64);
            bar.set_style(
                ProgressStyle::with_template(&format!(
                    "{{msg}} {{bar:40}} {{human_pos}}/{{human_len}} {unit} ({{elapsed}})"
                ))
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_message(label.clone());
            bar
        } else {
            ProgressBar::hidden()
        };
        Step {
            bar,
            label,
            started: Instant::now(),
        }
    }

    /// `n` more units done.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        if self.bar.is_hidden() {
            tracing::info!("{}: {:.2?}", self.label, self.started.elapsed());
        } else {
            self.bar.finish_and_clear();
        }
    }
}
