//! Rendering client output as aligned tables or JSON.

use crate::cli::OutputFormat;
use serde::Serialize;

/// Prints rows as a table (headers + aligned columns) or the value as pretty JSON.
pub fn print<T: Serialize>(
    format: OutputFormat,
    headers: &[&str],
    rows: &[Vec<String>],
    value: &T,
) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(value)?),
        OutputFormat::Yaml => print!("{}", serde_norway::to_string(value)?),
        OutputFormat::Table => print!("{}", render_table(headers, rows)),
    }
    Ok(())
}

/// Aligned columns, two spaces apart, headers first.
pub fn render_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}", w = *w))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(headers.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// Milliseconds since the epoch as RFC 3339 (UTC, millisecond precision).
pub fn rfc3339_ms(unix_ms: u64) -> String {
    humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + std::time::Duration::from_millis(unix_ms)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_to_the_widest_cell() {
        let table = render_table(
            &["ID", "STATE"],
            &[vec!["n1".into(), "ready".into()], vec!["node-22".into(), "-".into()]],
        );
        assert_eq!(table, "ID       STATE\nn1       ready\nnode-22  -\n");
    }
}
