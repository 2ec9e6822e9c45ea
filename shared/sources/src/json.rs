//! Reading the systems' JSON objects into table cells.

use serde_json::Value;

/// The value at a dotted path (`item.location.name`) as a cell: strings as
/// they are, numbers and booleans written out, null or absent as "".
pub fn cell(object: &Value, path: &str) -> String {
    let mut value = object;
    for key in path.split('.') {
        match value.get(key) {
            Some(v) => value = v,
            None => return String::new(),
        }
    }
    text(value)
}

/// A JSON scalar as a cell.
pub fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}
