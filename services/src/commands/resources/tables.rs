//! Printing typed views as tables, JSON or YAML.

use crate::cli::OutputFormat;
use crate::output::render_table;
use serde::Serialize;
use std::collections::BTreeMap;

/// A table column: its header and how to render a row's cell.
pub type Column<'a, T> = (&'a str, &'a dyn Fn(&T) -> String);

/// Prints `rows` as JSON or YAML (a list), or as a table of `columns`.
pub fn print_list<T: Serialize>(format: OutputFormat, rows: &[T], columns: &[Column<'_, T>]) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(rows)?),
        OutputFormat::Yaml => print!("{}", serde_norway::to_string(rows)?),
        OutputFormat::Table => print_table(rows, columns),
    }
    Ok(())
}

/// Prints one value as JSON or YAML (an object), or as a one-row table of `columns`.
pub fn print_one<T: Serialize>(format: OutputFormat, row: &T, columns: &[Column<'_, T>]) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(row)?),
        OutputFormat::Yaml => print!("{}", serde_norway::to_string(row)?),
        OutputFormat::Table => print_table(std::slice::from_ref(row), columns),
    }
    Ok(())
}

fn print_table<T>(rows: &[T], columns: &[Column<'_, T>]) {
    let headers: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| columns.iter().map(|(_, f)| f(row)).collect())
        .collect();
    print!("{}", render_table(&headers, &cells));
}

/// An optional value, `-` when absent.
pub fn or_dash<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".into(), |v| v.to_string())
}

/// Labels as `k=v,k=v`, `-` when none.
pub fn labels(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "-".into();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Milliseconds ago, for people.
pub fn ago(ms: Option<u64>) -> String {
    match ms {
        None => "-".into(),
        Some(ms) if ms < 1_000 => format!("{ms}ms ago"),
        Some(ms) => format!("{}s ago", ms / 1_000),
    }
}

/// `KEY=VALUE` pairs as a map.
pub fn pairs(pairs: Vec<(String, String)>) -> BTreeMap<String, String> {
    pairs.into_iter().collect()
}
