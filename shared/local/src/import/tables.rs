//! What an import asks of the tables as a whole: their row counts, their
//! patron ids, and their indexes set aside during a first import.

use std::collections::HashSet;

use rusqlite::Transaction;

/// The ids of every patron stored, this import's included: the loans of a
/// million-loan export look their patron up here rather than in the table, where
/// it cost a fifth of the import. About 50 bytes a patron.
pub(super) fn patron_ids(tx: &Transaction<'_>) -> rusqlite::Result<HashSet<Box<str>>> {
    let mut ids = HashSet::new();
    let mut statement = tx.prepare("SELECT patron_id FROM patrons")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        ids.insert(id.into_boxed_str());
    }
    Ok(ids)
}

/// When `table` is empty (a first import), drops its indexes and returns their
/// definitions, for [`build_indexes`] once the rows are in: one sort per index
/// instead of a b-tree insert per row, which for the loans' patron index, filled
/// in random order, took a third of the import. The transaction restores them
/// if the import fails.
pub(super) fn defer_indexes(
    tx: &Transaction<'_>,
    table: &str,
    rows: u64,
) -> rusqlite::Result<Vec<String>> {
    if rows > 0 {
        return Ok(Vec::new());
    }
    let mut statement = tx.prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL",
    )?;
    let indexes: Vec<(String, String)> = statement
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (name, _) in &indexes {
        tx.execute_batch(&format!("DROP INDEX \"{name}\""))?;
    }
    Ok(indexes.into_iter().map(|(_, sql)| sql).collect())
}

/// Builds again the indexes [`defer_indexes`] dropped.
pub(super) fn build_indexes(tx: &Transaction<'_>, definitions: &[String]) -> rusqlite::Result<()> {
    for sql in definitions {
        tx.execute_batch(sql)?;
    }
    Ok(())
}

/// Rows in a table (never deleted from, so the growth is the inserts).
pub(super) fn rows_in(tx: &Transaction<'_>, table: &str) -> rusqlite::Result<u64> {
    let count: i64 = tx.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
    Ok(count as u64)
}
