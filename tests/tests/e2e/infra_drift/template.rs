//! The template, parsed and rendered, and the IAM evaluation of its statements.

use std::collections::BTreeMap;

use relance_tests::recorder::{ACCOUNT, Access};
use serde_norway::Value;

use super::{REGION, STACK_NAME, STAFF, root};
use relance_tests::stack::SENDER;

/// The template, rendered with the tests' parameters: `!Ref`, `!GetAtt`, `!Sub`,
/// `!Select`, `!Split`, `!Join` and `!FindInMap` resolve to the names the
/// resources would have in a stack named `relance` in `eu-west-3`.
pub(crate) struct Template {
    doc: Value,
    parameters: BTreeMap<String, String>,
}

impl Template {
    pub(crate) fn load() -> Self {
        let path = root().join("infra/template.yaml");
        let text = std::fs::read_to_string(&path).expect("infra/template.yaml");
        Self::parse(&text)
    }

    pub(crate) fn parse(text: &str) -> Self {
        let doc: Value = serde_norway::from_str(text).expect("the template is YAML");
        let mut parameters = BTreeMap::new();
        for (name, value) in [
            ("SenderAddress", SENDER),
            ("ReplyAddress", SENDER),
            ("StaffInbox", STAFF),
            ("AlarmEmail", "alarms@example.org"),
            (
                "SourceSecretArns",
                "arn:aws:secretsmanager:eu-west-3:123456789012:secret:relance-source-AbCdEf",
            ),
        ] {
            parameters.insert(name.to_owned(), value.to_owned());
        }
        Self { doc, parameters }
    }

    pub(crate) fn resources(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.doc["Resources"]
            .as_mapping()
            .expect("Resources")
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?, v)))
    }

    pub(crate) fn resource(&self, id: &str) -> &Value {
        let found = &self.doc["Resources"][id];
        assert!(!found.is_null(), "no resource {id} in the template");
        found
    }

    /// Functions: logical id → crate folder (the last part of `CodeUri`).
    pub(crate) fn functions(&self) -> BTreeMap<String, String> {
        self.resources()
            .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
            .map(|(id, r)| {
                let uri = r["Properties"]["CodeUri"].as_str().expect("CodeUri");
                let name = uri.trim_end_matches('/').rsplit('/').next().unwrap();
                (id.to_owned(), name.to_owned())
            })
            .collect()
    }

    /// A function's environment, rendered.
    pub(crate) fn environment(&self, function: &str) -> BTreeMap<String, String> {
        let mut vars = BTreeMap::new();
        for scope in [
            &self.doc["Globals"]["Function"],
            &self.resource(function)["Properties"],
        ] {
            if let Some(map) = scope["Environment"]["Variables"].as_mapping() {
                for (k, v) in map {
                    vars.insert(k.as_str().unwrap().to_owned(), self.text(v));
                }
            }
        }
        vars
    }

    pub(crate) fn text(&self, value: &Value) -> String {
        let mut items = self.render(value);
        assert_eq!(items.len(), 1, "expected one value, got {items:?}");
        items.remove(0)
    }

    /// A value as one or more strings (lists flatten).
    pub(crate) fn render(&self, value: &Value) -> Vec<String> {
        match value {
            Value::String(s) => vec![s.clone()],
            Value::Number(n) => vec![n.to_string()],
            Value::Bool(b) => vec![b.to_string()],
            Value::Sequence(items) => items.iter().flat_map(|v| self.render(v)).collect(),
            Value::Tagged(tagged) => {
                let tag = tagged.tag.to_string();
                self.intrinsic(tag.trim_start_matches('!'), &tagged.value)
            }
            Value::Mapping(map) if map.len() == 1 => {
                let (k, v) = map.iter().next().unwrap();
                let name = k.as_str().unwrap_or_default();
                let name = name.strip_prefix("Fn::").unwrap_or(name);
                self.intrinsic(name, v)
            }
            other => panic!("cannot render {other:?}"),
        }
    }

    fn intrinsic(&self, name: &str, arg: &Value) -> Vec<String> {
        let seq = |v: &Value| v.as_sequence().cloned().unwrap_or_default();
        match name {
            "Ref" => vec![self.reference(arg.as_str().expect("Ref name"))],
            "GetAtt" => {
                let (id, attr) = match arg {
                    Value::String(s) => s.split_once('.').expect("Res.Attr"),
                    _ => {
                        let parts = seq(arg);
                        return vec![
                            self.attribute(parts[0].as_str().unwrap(), parts[1].as_str().unwrap()),
                        ];
                    }
                };
                vec![self.attribute(id, attr)]
            }
            "Sub" => {
                let (text, vars) = match arg {
                    Value::String(s) => (s.clone(), BTreeMap::new()),
                    _ => {
                        let parts = seq(arg);
                        let vars = parts[1]
                            .as_mapping()
                            .unwrap()
                            .iter()
                            .map(|(k, v)| (k.as_str().unwrap().to_owned(), self.text(v)))
                            .collect();
                        (parts[0].as_str().unwrap().to_owned(), vars)
                    }
                };
                vec![self.substitute(&text, &vars)]
            }
            "Select" => {
                let parts = seq(arg);
                let index: usize = self.text(&parts[0]).parse().unwrap();
                vec![self.render(&parts[1])[index].clone()]
            }
            "Split" => {
                let parts = seq(arg);
                let delimiter = self.text(&parts[0]);
                self.text(&parts[1])
                    .split(delimiter.as_str())
                    .map(str::to_owned)
                    .collect()
            }
            "Join" => {
                let parts = seq(arg);
                vec![self.render(&parts[1]).join(&self.text(&parts[0]))]
            }
            "FindInMap" => {
                let parts: Vec<String> = seq(arg).iter().map(|v| self.text(v)).collect();
                vec![self.text(&self.doc["Mappings"][&parts[0]][&parts[1]][&parts[2]])]
            }
            other => panic!("intrinsic {other} is not rendered by this test"),
        }
    }

    fn substitute(&self, text: &str, vars: &BTreeMap<String, String>) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').expect("closing }") + start;
            let name = &rest[start + 2..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str(&format!("${{{literal}}}"));
            } else if let Some(value) = vars.get(name) {
                out.push_str(value);
            } else if let Some((id, attr)) = name.split_once('.') {
                out.push_str(&self.attribute(id, attr));
            } else {
                out.push_str(&self.reference(name));
            }
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }

    pub(crate) fn property(&self, id: &str, name: &str) -> Option<String> {
        let value = &self.resource(id)["Properties"][name];
        (!value.is_null()).then(|| self.text(value))
    }

    pub(crate) fn reference(&self, name: &str) -> String {
        match name {
            "AWS::Region" => return REGION.into(),
            "AWS::AccountId" => return ACCOUNT.into(),
            "AWS::StackName" => return STACK_NAME.into(),
            "AWS::Partition" => return "aws".into(),
            "AWS::URLSuffix" => return "amazonaws.com".into(),
            _ => {}
        }
        if let Some(parameter) = self.doc["Parameters"].get(name) {
            return self.parameters.get(name).cloned().unwrap_or_else(|| {
                self.text(
                    parameter
                        .get("Default")
                        .unwrap_or_else(|| panic!("parameter {name} needs a test value")),
                )
            });
        }
        let kind = self.resource(name)["Type"].as_str().unwrap_or_default();
        let named = |property: &str| self.property(name, property).unwrap_or(name.to_owned());
        match kind {
            "AWS::DynamoDB::Table" => named("TableName"),
            "AWS::S3::Bucket" => named("BucketName"),
            "AWS::SQS::Queue" => format!(
                "https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{}",
                named("QueueName")
            ),
            "AWS::SES::ConfigurationSet" => named("Name"),
            "AWS::SES::ReceiptRuleSet" => named("RuleSetName"),
            "AWS::SNS::Topic" => format!("arn:aws:sns:{REGION}:{ACCOUNT}:{name}"),
            _ => name.to_owned(),
        }
    }

    pub(crate) fn attribute(&self, id: &str, attr: &str) -> String {
        let kind = self.resource(id)["Type"].as_str().unwrap_or_default();
        let name = self.reference(id);
        match (kind, attr) {
            ("AWS::DynamoDB::Table", "Arn") => {
                format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}")
            }
            ("AWS::SQS::Queue", "Arn") => format!(
                "arn:aws:sqs:{REGION}:{ACCOUNT}:{}",
                name.rsplit('/').next().unwrap()
            ),
            ("AWS::SQS::Queue", "QueueName") => name.rsplit('/').next().unwrap().to_owned(),
            ("AWS::S3::Bucket", "Arn") => format!("arn:aws:s3:::{name}"),
            ("AWS::Serverless::Function", "Arn") => {
                format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")
            }
            _ => format!("{id}.{attr}"),
        }
    }

    /// A function's inline policy statements (SAM policy templates and managed
    /// policies cannot be checked here, so they are refused).
    pub(crate) fn statements(&self, function: &str) -> Vec<Statement> {
        let policies = &self.resource(function)["Properties"]["Policies"];
        let mut out = Vec::new();
        for policy in policies.as_sequence().into_iter().flatten() {
            // `!If [Condition, policy, !Ref AWS::NoValue]`: checked as if the
            // condition held (the tests give the parameters it tests a value).
            let policy = match policy {
                Value::Tagged(tagged) if tagged.tag.to_string().trim_start_matches('!') == "If" => {
                    &tagged.value[1]
                }
                _ => policy,
            };
            let inline = policy.get("Statement").unwrap_or_else(|| {
                panic!("{function}: only inline statements are checked, found {policy:?}")
            });
            for statement in inline.as_sequence().expect("Statement list") {
                out.push(self.statement(function, statement));
            }
        }
        out
    }

    fn statement(&self, function: &str, s: &Value) -> Statement {
        for unsupported in ["NotAction", "NotResource", "Principal"] {
            assert!(
                s.get(unsupported).is_none(),
                "{function}: {unsupported} is not checked"
            );
        }
        let mut conditions = Vec::new();
        if let Some(map) = s.get("Condition").and_then(Value::as_mapping) {
            for (op, keys) in map {
                for (key, values) in keys.as_mapping().expect("condition keys") {
                    conditions.push(Condition {
                        operator: op.as_str().unwrap().to_owned(),
                        key: key.as_str().unwrap().to_owned(),
                        values: self.render(values),
                    });
                }
            }
        }
        Statement {
            sid: s
                .get("Sid")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned(),
            allow: s["Effect"].as_str() == Some("Allow"),
            actions: self.render(&s["Action"]),
            resources: self.render(&s["Resource"]),
            conditions,
        }
    }
}

pub(crate) struct Statement {
    pub(crate) sid: String,
    pub(crate) allow: bool,
    pub(crate) actions: Vec<String>,
    pub(crate) resources: Vec<String>,
    conditions: Vec<Condition>,
}

struct Condition {
    operator: String,
    key: String,
    values: Vec<String>,
}

impl Statement {
    pub(crate) fn applies(&self, access: &Access) -> bool {
        self.actions
            .iter()
            .any(|a| glob(&a.to_ascii_lowercase(), &access.action.to_ascii_lowercase()))
            && self.resources.iter().any(|r| glob(r, &access.resource))
            && self.conditions.iter().all(|c| c.holds(access))
    }
}

impl Condition {
    /// IAM's string operators, with their set qualifiers.
    fn holds(&self, access: &Access) -> bool {
        let found: Vec<&String> = access
            .context
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(&self.key))
            .flat_map(|(_, v)| v)
            .collect();
        let (set, op) = match self.operator.split_once(':') {
            Some((set, op)) => (Some(set), op),
            None => (None, self.operator.as_str()),
        };
        let matches = |value: &str| match op {
            "StringEquals" => self.values.iter().any(|v| v == value),
            "StringLike" => self.values.iter().any(|v| glob(v, value)),
            other => panic!("condition operator {other} is not checked"),
        };
        match set {
            Some("ForAllValues") => found.iter().all(|v| matches(v)),
            Some("ForAnyValue") => found.iter().any(|v| matches(v)),
            None => found.len() == 1 && matches(found[0]),
            Some(other) => panic!("condition qualifier {other} is not checked"),
        }
    }
}

/// IAM's wildcards: `*` any run of characters, `?` one character.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}
