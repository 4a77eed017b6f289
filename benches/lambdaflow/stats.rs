//! Small statistics for the benchmark: medians of repeated runs, latency percentiles, and the
//! result table.

use std::time::Duration;

/// The median of `values` (the mean of the two middle ones for an even count).
pub fn median(values: &[f64]) -> f64 {
    assert!(!values.is_empty(), "median of nothing");
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// The `p`-th percentile (0–100) of `latencies`, nearest rank.
pub fn percentile(latencies: &[Duration], p: f64) -> Duration {
    assert!(!latencies.is_empty(), "percentile of nothing");
    let mut v = latencies.to_vec();
    v.sort();
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// Milliseconds as a float.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One measured figure, with its baseline measured in the same run.
#[derive(Debug, Clone)]
pub struct Row {
    /// What is measured (e.g. `engine: Feeder → Display, 1,000,000 msgs`).
    pub bench: String,
    /// The unit (`msg/s`, `ns/msg`, `inv/s`, `p50 ms`, …).
    pub metric: String,
    /// lambdaflow's figure.
    pub ours: f64,
    /// The baseline's figure.
    pub baseline: f64,
    /// What the baseline is.
    pub baseline_name: String,
}

impl Row {
    /// A row.
    pub fn new(
        bench: impl Into<String>,
        metric: impl Into<String>,
        ours: f64,
        baseline: f64,
        baseline_name: impl Into<String>,
    ) -> Row {
        Row {
            bench: bench.into(),
            metric: metric.into(),
            ours,
            baseline,
            baseline_name: baseline_name.into(),
        }
    }
}

/// Formats a figure with a sensible number of digits and thousands separators.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    let abs = v.abs();
    if abs >= 100.0 {
        group_thousands(v.round() as i64)
    } else if abs >= 10.0 {
        format!("{v:.1}")
    } else if abs >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Prints the rows as one Markdown table: benchmark, metric, lambdaflow, baseline, ratio
/// (lambdaflow ÷ baseline) and what the baseline is.
pub fn print_table(rows: &[Row]) {
    let header = [
        "benchmark",
        "metric",
        "lambdaflow",
        "baseline",
        "ratio",
        "baseline is",
    ];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            let ratio = if r.baseline == 0.0 {
                f64::NAN
            } else {
                r.ours / r.baseline
            };
            [
                r.bench.clone(),
                r.metric.clone(),
                fmt_num(r.ours),
                fmt_num(r.baseline),
                if ratio.is_finite() {
                    format!("{ratio:.2}")
                } else {
                    "n/a".into()
                },
                r.baseline_name.clone(),
            ]
        })
        .collect();
    let mut width = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in width.iter_mut().zip(row.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: [&str; 6]| {
        let parts: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = width[i] - c.chars().count();
                // Figures are right-aligned, words left-aligned.
                if (2..=4).contains(&i) {
                    format!("{}{c}", " ".repeat(pad))
                } else {
                    format!("{c}{}", " ".repeat(pad))
                }
            })
            .collect();
        println!("| {} |", parts.join(" | "));
    };
    line(header);
    let rule: Vec<String> = width
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if (2..=4).contains(&i) {
                format!("{}:", "-".repeat(w + 1))
            } else {
                "-".repeat(w + 2)
            }
        })
        .collect();
    println!("|{}|", rule.join("|"));
    for row in &cells {
        line([&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]]);
    }
}
