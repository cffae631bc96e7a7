//! Printing API replies as tables, JSON or YAML.

use crate::cli::OutputFormat;
use crate::output::render_table;
use serde_json::Value;

/// A cell: strings bare, null as `-`, other values as JSON.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Object(map) if map.is_empty() => "-".into(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", cell(v)))
            .collect::<Vec<_>>()
            .join(","),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// A table column: its header and how to render a row's cell.
pub type Column<'a> = (&'a str, &'a dyn Fn(&Value) -> String);

/// Prints `value`: as JSON or YAML, or as a table of `columns` over its rows.
pub fn print(format: OutputFormat, value: &Value, columns: &[Column<'_>]) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(value)?),
        OutputFormat::Yaml => print!("{}", serde_norway::to_string(value)?),
        OutputFormat::Table => {
            let rows: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                single => vec![single],
            };
            let headers: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|row| columns.iter().map(|(_, f)| f(row)).collect())
                .collect();
            print!("{}", render_table(&headers, &cells));
        }
    }
    Ok(())
}

/// A column reading one key.
pub fn key(name: &'static str) -> impl Fn(&Value) -> String {
    move |row: &Value| cell(&row[name])
}

/// Milliseconds ago, for people.
pub fn ago(value: &Value) -> String {
    match value.as_u64() {
        None => "-".into(),
        Some(ms) if ms < 1_000 => format!("{ms}ms ago"),
        Some(ms) => format!("{}s ago", ms / 1_000),
    }
}
