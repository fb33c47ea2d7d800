//! The `|`-separated tables `callcenter_config queue list ...` prints (mod_callcenter.c,
//! `list_result_callback`: a header row of column names, one row per record, then `+OK`).

/// One `api/response` table: rows read by column name, so added or reordered columns in
/// another FreeSWITCH release do not matter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiTable {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// Most rows read from one table.
const MAX_ROWS: usize = 100_000;

impl ApiTable {
    /// Reads an `api/response` body. An `-ERR` answer, or an empty table (no header row is
    /// printed when there are no records), gives no rows.
    pub fn parse(body: &str) -> ApiTable {
        let mut lines = body
            .lines()
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| !l.is_empty() && *l != "+OK" && !l.starts_with("-ERR"));
        let Some(header) = lines.next() else {
            return ApiTable::default();
        };
        let columns: Vec<String> = header.split('|').map(|c| c.trim().to_string()).collect();
        let rows = lines
            .take(MAX_ROWS)
            .map(|l| l.split('|').map(str::to_string).collect::<Vec<_>>())
            .filter(|r| r.len() == columns.len())
            .collect();
        ApiTable { columns, rows }
    }

    /// Builds a table (the fake switch prints it with [`ApiTable::encode`]).
    pub fn new(columns: &[&str]) -> ApiTable {
        ApiTable {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; values in column order (a `|` or line break in a value becomes a space).
    pub fn push(&mut self, values: Vec<String>) {
        self.rows.push(
            values
                .into_iter()
                .map(|v| v.replace(['|', '\n', '\r'], " "))
                .collect(),
        );
    }

    /// The table as mod_callcenter prints it, `+OK` last; no header row without records.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if !self.rows.is_empty() {
            out.push_str(&self.columns.join("|"));
            out.push('\n');
            for row in &self.rows {
                out.push_str(&row.join("|"));
                out.push('\n');
            }
        }
        out.push_str("+OK\n");
        out
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether it has no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Each row as a lookup by column name.
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|values| Row {
            columns: &self.columns,
            values,
        })
    }
}

/// One row of an [`ApiTable`].
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    columns: &'a [String],
    values: &'a [String],
}

impl<'a> Row<'a> {
    /// The value in `column`, trimmed; `None` if absent or empty.
    pub fn get(&self, column: &str) -> Option<&'a str> {
        let at = self.columns.iter().position(|c| c == column)?;
        self.values
            .get(at)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_read_by_column_name() {
        let t = ApiTable::parse(
            "queue|agent|state|level|position\nsupport|1001|Ready|1|1\nshort|row\n+OK\n",
        );
        assert_eq!(t.len(), 1);
        let row = t.rows().next().unwrap();
        assert_eq!(row.get("agent"), Some("1001"));
        assert_eq!(row.get("nope"), None);
        assert!(ApiTable::parse("+OK\n").is_empty());
        assert!(ApiTable::parse("-ERR Invalid!\n").is_empty());
        let mut built = ApiTable::new(&["a", "b"]);
        built.push(vec!["x|y".into(), "z".into()]);
        assert_eq!(built.encode(), "a|b\nx y|z\n+OK\n");
        assert_eq!(ApiTable::parse(&built.encode()), built);
    }
}
