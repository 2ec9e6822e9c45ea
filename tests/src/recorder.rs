//! A recording HTTP proxy on loopback, placed between a function's SDK clients
//! and the emulators: it forwards each request unchanged (DynamoDB to DynamoDB
//! Local, everything else to moto) and records it, so a test can list the AWS
//! API calls a function really made and the IAM authorizations each one needs
//! ([`Recorded::accesses`]). The SDKs are not mocked: they sign, send and parse
//! as they would against AWS.
//!
//! One request per connection: every answer carries `Connection: close`.

use std::io::{BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};

use relance_aws::Clients;

use crate::relay::{IO_TIMEOUT, Listener, forward, read_request};
use serde_json::Value;

/// The account id the recorded ARNs carry (moto's default account).
pub const ACCOUNT: &str = "123456789012";

/// One request as the proxy received it.
pub use crate::relay::Request as Recorded;

/// One IAM authorization a request needs: an action on a resource, with the
/// condition keys the request sets.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Access {
    /// `service:Action`, or `unmapped:…` for a request this module cannot map.
    pub action: String,
    /// The resource's ARN.
    pub resource: String,
    /// Condition keys and their values (e.g. `ses:FromAddress`).
    pub context: Vec<(String, Vec<String>)>,
}

impl Recorded {
    /// The signing service of the request (from its SigV4 credential scope).
    pub fn service(&self) -> Option<&str> {
        let auth = self.header("authorization")?;
        let scope = auth.split("Credential=").nth(1)?.split(',').next()?;
        scope.split('/').nth(3)
    }

    /// The signing region.
    pub fn region(&self) -> &str {
        self.header("authorization")
            .and_then(|auth| auth.split("Credential=").nth(1))
            .and_then(|scope| scope.split('/').nth(2))
            .unwrap_or("us-east-1")
    }

    /// The JSON operation of `X-Amz-Target` (`DynamoDB_20120810.Query` → `Query`).
    pub fn json_operation(&self) -> Option<&str> {
        self.header("x-amz-target")?.rsplit('.').next()
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The IAM authorizations this request needs.
    pub fn accesses(&self) -> Vec<Access> {
        let unmapped = || {
            vec![Access {
                action: format!(
                    "unmapped:{}:{} {}",
                    self.service().unwrap_or("?"),
                    self.method,
                    self.target
                ),
                resource: String::new(),
                context: Vec::new(),
            }]
        };
        let mapped = match self.service() {
            Some("dynamodb") => self.dynamodb(),
            Some("sqs") => self.sqs(),
            Some("s3") => self.s3(),
            Some("ses") => self.ses(),
            Some("secretsmanager") => self.secretsmanager(),
            _ => None,
        };
        mapped.unwrap_or_else(unmapped)
    }

    fn dynamodb(&self) -> Option<Vec<Access>> {
        let op = self.json_operation()?;
        let body = self.json();
        let arn = |table: &str, index: Option<&str>| {
            let mut arn = format!("arn:aws:dynamodb:{}:{ACCOUNT}:table/{table}", self.region());
            if let Some(index) = index {
                arn.push_str(&format!("/index/{index}"));
            }
            arn
        };
        let access = |action: &str, resource: String| Access {
            action: format!("dynamodb:{action}"),
            resource,
            context: Vec::new(),
        };
        Some(match op {
            "BatchGetItem" | "BatchWriteItem" => body["RequestItems"]
                .as_object()?
                .keys()
                .map(|table| access(op, arn(table, None)))
                .collect(),
            // Transactions are authorized item by item, as the operation each one is.
            "TransactWriteItems" | "TransactGetItems" => body["TransactItems"]
                .as_array()?
                .iter()
                .filter_map(|item| {
                    let (kind, inner) = item.as_object()?.iter().next()?;
                    let action = match kind.as_str() {
                        "Put" => "PutItem",
                        "Update" => "UpdateItem",
                        "Delete" => "DeleteItem",
                        "ConditionCheck" => "ConditionCheckItem",
                        "Get" => "GetItem",
                        _ => return None,
                    };
                    Some(access(action, arn(inner["TableName"].as_str()?, None)))
                })
                .collect(),
            _ => vec![access(
                op,
                arn(body["TableName"].as_str()?, body["IndexName"].as_str()),
            )],
        })
    }

    /// Secrets Manager's JSON operations on one secret, named by its ARN.
    fn secretsmanager(&self) -> Option<Vec<Access>> {
        Some(vec![Access {
            action: format!("secretsmanager:{}", self.json_operation()?),
            resource: self.json()["SecretId"].as_str()?.to_owned(),
            context: Vec::new(),
        }])
    }

    fn sqs(&self) -> Option<Vec<Access>> {
        let (op, url) = match self.json_operation() {
            Some(op) => (op.to_owned(), self.json()["QueueUrl"].as_str()?.to_owned()),
            // The query protocol, in case an SDK falls back to it.
            None => {
                let form = String::from_utf8_lossy(&self.body).into_owned();
                let field = |name: &str| {
                    form.split('&').find_map(|pair| {
                        let (k, v) = pair.split_once('=')?;
                        (k == name).then(|| percent_decode(v, true))
                    })
                };
                (field("Action")?, field("QueueUrl")?)
            }
        };
        let action = op.strip_suffix("Batch").unwrap_or(&op);
        let name = url.trim_end_matches('/').rsplit('/').next()?;
        Some(vec![Access {
            action: format!("sqs:{action}"),
            resource: format!("arn:aws:sqs:{}:{ACCOUNT}:{name}", self.region()),
            context: Vec::new(),
        }])
    }

    fn s3(&self) -> Option<Vec<Access>> {
        let (path, query) = self
            .target
            .split_once('?')
            .unwrap_or((self.target.as_str(), ""));
        let path = percent_decode(path.trim_start_matches('/'), false);
        let (bucket, key) = path.split_once('/').unwrap_or((path.as_str(), ""));
        let action = match (self.method.as_str(), key.is_empty()) {
            ("GET" | "HEAD", false) => "GetObject",
            ("PUT", false) if self.header("x-amz-copy-source").is_some() => return None,
            ("PUT" | "POST", false) => "PutObject",
            ("DELETE", false) => "DeleteObject",
            ("GET", true) if query.contains("list-type") || query.is_empty() => "ListBucket",
            _ => return None,
        };
        let resource = if key.is_empty() {
            format!("arn:aws:s3:::{bucket}")
        } else {
            format!("arn:aws:s3:::{bucket}/{key}")
        };
        // ListBucket's condition key: the listing's prefix, as IAM sees it.
        let context = query
            .split('&')
            .filter_map(|pair| pair.strip_prefix("prefix="))
            .map(|prefix| ("s3:prefix".to_owned(), vec![percent_decode(prefix, true)]))
            .collect();
        Some(vec![Access {
            action: format!("s3:{action}"),
            resource,
            context,
        }])
    }

    fn ses(&self) -> Option<Vec<Access>> {
        let path = self.target.split('?').next().unwrap_or_default();
        if !(self.method == "POST" && path == "/v2/email/outbound-emails") {
            return None;
        }
        let body = self.json();
        let from = bare_address(body["FromEmailAddress"].as_str()?);
        let content = body["Content"].as_object()?;
        // SES v2 SendEmail is authorized as SendRawEmail for raw content.
        let action = if content.contains_key("Raw") {
            "ses:SendRawEmail"
        } else {
            "ses:SendEmail"
        };
        let mut recipients = Vec::new();
        for field in ["ToAddresses", "CcAddresses", "BccAddresses"] {
            for address in body["Destination"][field].as_array().into_iter().flatten() {
                recipients.extend(address.as_str().map(bare_address));
            }
        }
        let context = vec![
            ("ses:FromAddress".to_owned(), vec![from.clone()]),
            ("ses:Recipients".to_owned(), recipients),
        ];
        let base = format!("arn:aws:ses:{}:{ACCOUNT}", self.region());
        let domain = from.rsplit('@').next().unwrap_or_default().to_owned();
        let mut resources = vec![
            format!("{base}:identity/{from}"),
            format!("{base}:identity/{domain}"),
        ];
        if let Some(set) = body["ConfigurationSetName"].as_str() {
            resources.push(format!("{base}:configuration-set/{set}"));
        }
        Some(
            resources
                .into_iter()
                .map(|resource| Access {
                    action: action.to_owned(),
                    resource,
                    context: context.clone(),
                })
                .collect(),
        )
    }
}

/// `Name <a@b>` → `a@b`.
fn bare_address(text: &str) -> String {
    match (text.rfind('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => text[open + 1..close].trim().to_owned(),
        _ => text.trim().to_owned(),
    }
}

/// URL-decodes `%XX`, and `+` as a space in forms (not in paths).
fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push((hi * 16 + lo) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct Shared {
    dynamodb: SocketAddr,
    moto: SocketAddr,
    log: Mutex<Vec<Recorded>>,
}

/// The running proxy; stopped when dropped.
pub struct RecordingProxy {
    listener: Listener,
    shared: Arc<Shared>,
}

impl RecordingProxy {
    /// Listens on `127.0.0.1:0`, in front of the emulators the tests use
    /// (`RELANCE_DYNAMODB_PORT`, 8000; `RELANCE_MOTO_PORT`, 5000).
    pub fn for_emulators() -> Self {
        let port = |name: &str, default: u16| {
            std::env::var(name)
                .ok()
                .and_then(|p| p.parse().ok())
                .unwrap_or(default)
        };
        let dynamodb = SocketAddr::from(([127, 0, 0, 1], port("RELANCE_DYNAMODB_PORT", 8000)));
        let moto = SocketAddr::from(([127, 0, 0, 1], port("RELANCE_MOTO_PORT", 5000)));
        let shared = Arc::new(Shared {
            dynamodb,
            moto,
            log: Mutex::new(Vec::new()),
        });
        Self {
            listener: Listener::start("recording proxy", Arc::clone(&shared), serve),
            shared,
        }
    }

    /// Clients whose every call goes through the proxy (the emulators' region and
    /// dummy credentials, S3 path-style).
    pub fn clients(&self) -> Clients {
        let url = self.listener.url();
        Clients::for_emulators(&url, &url)
    }

    /// The requests recorded since the last `take`, oldest first.
    pub fn take(&self) -> Vec<Recorded> {
        std::mem::take(&mut *self.shared.log.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

fn serve(client: TcpStream, shared: &Shared) -> std::io::Result<()> {
    client.set_read_timeout(Some(IO_TIMEOUT))?;
    client.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut writer = client.try_clone()?;
    let mut reader = BufReader::new(client);
    let Some(request) = read_request(&mut reader, &mut writer)? else {
        return Ok(());
    };
    let upstream = if request.service() == Some("dynamodb") {
        shared.dynamodb
    } else {
        shared.moto
    };
    let response = forward(&request, upstream)?;
    shared
        .log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(request);
    writer.write_all(&response)?;
    writer.flush()?;
    writer.shutdown(Shutdown::Both)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> Recorded {
        Recorded {
            method: method.into(),
            target: target.into(),
            version: "HTTP/1.1".into(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn signed(service: &str) -> (&'static str, String) {
        (
            "Authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential=testing/20261130/eu-west-3/{service}/aws4_request, SignedHeaders=host, Signature=0"
            ),
        )
    }

    #[test]
    fn transactions_are_authorized_item_by_item() {
        let (name, auth) = signed("dynamodb");
        let r = request(
            "POST",
            "/",
            &[
                (name, &auth),
                ("X-Amz-Target", "DynamoDB_20120810.TransactWriteItems"),
            ],
            r#"{"TransactItems":[{"Put":{"TableName":"t"}},{"ConditionCheck":{"TableName":"t"}}]}"#,
        );
        let actions: Vec<_> = r.accesses().into_iter().map(|a| a.action).collect();
        assert_eq!(actions, ["dynamodb:PutItem", "dynamodb:ConditionCheckItem"]);
    }

    #[test]
    fn index_queries_name_the_index() {
        let (name, auth) = signed("dynamodb");
        let r = request(
            "POST",
            "/",
            &[(name, &auth), ("X-Amz-Target", "DynamoDB_20120810.Query")],
            r#"{"TableName":"t","IndexName":"by_due"}"#,
        );
        assert_eq!(
            r.accesses()[0].resource,
            "arn:aws:dynamodb:eu-west-3:123456789012:table/t/index/by_due"
        );
    }

    #[test]
    fn raw_sends_need_send_raw_email_on_the_sender() {
        let (name, auth) = signed("ses");
        let r = request(
            "POST",
            "/v2/email/outbound-emails",
            &[(name, &auth)],
            r#"{"FromEmailAddress":"a@b.fr","Destination":{"ToAddresses":["c@d.fr"]},"Content":{"Raw":{"Data":"eA=="}}}"#,
        );
        let accesses = r.accesses();
        assert_eq!(accesses[0].action, "ses:SendRawEmail");
        assert_eq!(
            accesses[0].resource,
            "arn:aws:ses:eu-west-3:123456789012:identity/a@b.fr"
        );
        assert_eq!(
            accesses[1].resource,
            "arn:aws:ses:eu-west-3:123456789012:identity/b.fr"
        );
        assert_eq!(
            accesses[0].context[0],
            ("ses:FromAddress".to_owned(), vec!["a@b.fr".to_owned()])
        );
    }

    #[test]
    fn s3_objects_and_batches_map_to_their_actions() {
        let (name, auth) = signed("s3");
        let get = request(
            "GET",
            "/bkt/config/relance.toml?x-id=GetObject",
            &[(name, &auth)],
            "",
        );
        assert_eq!(get.accesses()[0].action, "s3:GetObject");
        assert_eq!(
            get.accesses()[0].resource,
            "arn:aws:s3:::bkt/config/relance.toml"
        );
        let (name, auth) = signed("sqs");
        let batch = request(
            "POST",
            "/",
            &[
                (name, &auth),
                ("X-Amz-Target", "AmazonSQS.SendMessageBatch"),
            ],
            r#"{"QueueUrl":"http://127.0.0.1:5000/123456789012/q"}"#,
        );
        assert_eq!(batch.accesses()[0].action, "sqs:SendMessage");
        assert_eq!(
            batch.accesses()[0].resource,
            "arn:aws:sqs:eu-west-3:123456789012:q"
        );
    }
}
