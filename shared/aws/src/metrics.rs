//! CloudWatch metrics in the embedded metric format: one JSON line on stdout per
//! set of values, which CloudWatch Logs extracts into metrics of the `Relance`
//! namespace without an API call. Dimensions are the function and, where given,
//! a stage, a class or an outcome — never a patron or an address.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// The namespace of every metric.
pub const NAMESPACE: &str = "Relance";

/// A set of values with the same dimensions.
#[derive(Debug, Clone)]
pub struct Metrics {
    dimensions: Vec<(&'static str, String)>,
    values: Vec<(&'static str, f64, &'static str)>,
}

impl Metrics {
    /// Values of `function` (the `Function` dimension).
    pub fn of(function: &str) -> Self {
        Self {
            dimensions: vec![("Function", function.to_owned())],
            values: Vec::new(),
        }
    }

    /// Adds a dimension (`Stage`, `Class`…).
    pub fn dimension(mut self, name: &'static str, value: &str) -> Self {
        self.dimensions.push((name, value.to_owned()));
        self
    }

    /// Adds a count.
    pub fn count(mut self, name: &'static str, value: usize) -> Self {
        self.values.push((name, value as f64, "Count"));
        self
    }

    /// Adds a value without unit (read capacity units).
    pub fn value(mut self, name: &'static str, value: f64) -> Self {
        self.values.push((name, value, "None"));
        self
    }

    /// The EMF line for `at`.
    pub fn line(&self, at: DateTime<Utc>) -> String {
        let mut root = Map::new();
        for (name, value) in &self.dimensions {
            root.insert((*name).to_owned(), json!(value));
        }
        for (name, value, _) in &self.values {
            root.insert((*name).to_owned(), json!(value));
        }
        let dimensions: Vec<&str> = self.dimensions.iter().map(|(name, _)| *name).collect();
        let metrics: Vec<Value> = self
            .values
            .iter()
            .map(|(name, _, unit)| json!({"Name": name, "Unit": unit}))
            .collect();
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": at.timestamp_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [dimensions],
                    "Metrics": metrics,
                }],
            }),
        );
        Value::Object(root).to_string()
    }

    /// Writes the line to stdout, where Lambda's log capture finds it.
    pub fn emit(&self) {
        if !self.values.is_empty() {
            println!("{}", self.line(Utc::now()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_line_declares_each_value_under_its_dimensions() {
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 1, 0, 0).unwrap();
        let line = Metrics::of("planner")
            .dimension("Stage", "first_reminder")
            .count("Notices", 42)
            .value("ReadUnits", 12.5)
            .line(at);
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["Function"], "planner");
        assert_eq!(value["Stage"], "first_reminder");
        assert_eq!(value["Notices"], 42.0);
        assert_eq!(value["ReadUnits"], 12.5);
        let declared = &value["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(value["_aws"]["Timestamp"], at.timestamp_millis());
        assert_eq!(declared["Namespace"], "Relance");
        assert_eq!(declared["Dimensions"], json!([["Function", "Stage"]]));
        assert_eq!(
            declared["Metrics"],
            json!([{"Name": "Notices", "Unit": "Count"}, {"Name": "ReadUnits", "Unit": "None"}])
        );
        assert!(!line.contains('\n'), "one line");
    }
}
