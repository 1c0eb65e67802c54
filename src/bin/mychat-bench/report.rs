//! Output: one JSON line per scenario as it finishes (`{"bench":"<name>",...}`, easy to
//! grep), and a table of every row at the end. Figures only — no verdicts.

use crate::scenarios::Outcome;
use serde_json::{Value, json};

/// A finished scenario, or the error it ended with.
pub struct Row {
    pub name: String,
    pub params: String,
    pub figures: String,
    pub bench_cpu: String,
    pub server_cpu: String,
}

/// Prints the JSON line and returns the table row.
pub fn emit(result: Result<Outcome, String>, fallback_name: &str, context: &Value) -> Row {
    match result {
        Ok(outcome) => {
            let mut line = json!({
                "bench": outcome.name,
                "params": outcome.params,
                "results": outcome.results,
                "context": context,
            });
            if let Some(cpu) = &outcome.cpu {
                line["cpu"] = cpu.json();
            }
            println!("{line}");
            Row {
                name: outcome.name,
                params: outcome.params_text,
                figures: outcome.summary,
                bench_cpu: outcome.cpu.map_or("-".into(), |c| c.bench_text()),
                server_cpu: outcome.cpu.map_or("-".into(), |c| c.server_text()),
            }
        }
        Err(error) => {
            println!("{}", json!({ "bench": fallback_name, "error": error, "context": context }));
            Row {
                name: fallback_name.into(),
                params: "-".into(),
                figures: format!("ERROR: {error}"),
                bench_cpu: "-".into(),
                server_cpu: "-".into(),
            }
        }
    }
}

/// The table: one row per scenario; long figures wrap onto continuation lines.
pub fn table(rows: &[Row]) -> String {
    const FIGURES_WIDTH: usize = 70;
    let head = ["scenario", "parameters", "figures", "bench CPU (user+sys, % of wall)", "server CPU"];
    let wrapped: Vec<Vec<String>> = rows.iter().map(|r| wrap(&r.figures, FIGURES_WIDTH)).collect();
    let width = |i: usize, cell: &dyn Fn(&Row) -> usize| rows.iter().map(cell).max().unwrap_or(0).max(head[i].len());
    let w = [
        width(0, &|r| r.name.len()),
        width(1, &|r| r.params.chars().count()),
        wrapped.iter().flatten().map(|l| l.chars().count()).max().unwrap_or(0).max(head[2].len()),
        width(3, &|r| r.bench_cpu.len()),
        width(4, &|r| r.server_cpu.len()),
    ];
    let line = |cells: [&str; 5]| -> String {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = w[i].saturating_sub(cell.chars().count());
            out.push_str(cell);
            if i < 4 {
                out.push_str(&" ".repeat(pad + 2));
            }
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = line(head);
    out.push_str(&line([
        "-".repeat(w[0]).as_str(),
        &"-".repeat(w[1]),
        &"-".repeat(w[2]),
        &"-".repeat(w[3]),
        &"-".repeat(w[4]),
    ]));
    for (row, figures) in rows.iter().zip(&wrapped) {
        let first = figures.first().map_or("", String::as_str);
        out.push_str(&line([&row.name, &row.params, first, &row.bench_cpu, &row.server_cpu]));
        for more in figures.iter().skip(1) {
            out.push_str(&line(["", "", more, "", ""]));
        }
    }
    out
}

/// Splits at "; " (then spaces) so no line is much over `width`.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for part in text.split("; ") {
        let candidate = if current.is_empty() { part.to_string() } else { format!("{current}; {part}") };
        if candidate.chars().count() <= width || current.is_empty() {
            current = candidate;
        } else {
            lines.push(format!("{current};"));
            current = part.to_string();
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_clause_boundaries() {
        assert_eq!(wrap("a; b; c", 4), ["a; b;", "c"]);
        assert_eq!(wrap("short", 70), ["short"]);
        let table = table(&[Row {
            name: "room".into(),
            params: "100 members".into(),
            figures: "x".into(),
            bench_cpu: "0.1 s".into(),
            server_cpu: "-".into(),
        }]);
        assert!(table.lines().nth(2).is_some_and(|l| l.starts_with("room ")), "{table}");
    }
}
