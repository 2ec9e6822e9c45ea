//! The AWS emulators for the serverless tests: DynamoDB Local and moto server on
//! loopback, started once per test process by `scripts/emulators.sh start` (which
//! installs them on first use and does nothing when they already run).

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use relance_aws::Clients;

/// Clients pointed at the emulators, which are started when they are not running.
/// Panics with the script's output when they cannot start: a serverless test
/// without its emulators must fail, not pass.
pub fn clients() -> Clients {
    static STARTED: OnceLock<(String, String)> = OnceLock::new();
    let (dynamodb, moto) = STARTED.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/emulators.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg("start")
            .output()
            .expect("run scripts/emulators.sh");
        assert!(
            out.status.success(),
            "the emulators did not start:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let port =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
        (
            format!("http://127.0.0.1:{}", port("RELANCE_DYNAMODB_PORT", "8000")),
            format!("http://127.0.0.1:{}", port("RELANCE_MOTO_PORT", "5000")),
        )
    });
    Clients::for_emulators(dynamodb, moto)
}

/// A resource name no other test of any process uses (`relance-t-{pid}-{n}-{what}`):
/// tests share the emulators, so each makes its own table, queues and bucket.
pub fn unique(what: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("relance-t-{}-{n}-{what}", std::process::id())
}

/// moto's base URL on loopback.
pub fn moto_url() -> String {
    let port = std::env::var("RELANCE_MOTO_PORT").unwrap_or_else(|_| "5000".into());
    format!("http://127.0.0.1:{port}")
}

/// A message moto's SES accepted.
#[derive(Debug, Clone)]
pub struct SentMail {
    /// SES's message id.
    pub id: String,
    /// The envelope sender.
    pub source: String,
    /// The envelope recipients.
    pub destinations: Vec<String>,
    /// The raw MIME message as sent.
    pub raw: String,
}

/// Every message moto's SES accepted since it started, oldest first. moto keeps
/// every message sent through SES (v1 or v2) as a `RawMessage` model instance and
/// lists the instances of every model at `GET /moto-api/data.json`.
pub fn sent_mail() -> Vec<SentMail> {
    // moto builds that listing from every live model: while another test writes,
    // it can fail with a 500 (an S3 object it cannot serialize); ask again.
    let url = format!("{}/moto-api/data.json", moto_url());
    let mut answer = http_get(&url);
    for _ in 0..10 {
        if answer.0 == 200 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        answer = http_get(&url);
    }
    let (status, body) = answer;
    assert_eq!(status, 200, "moto's data");
    let data: serde_json::Value = serde_json::from_slice(&body).expect("moto data is JSON");
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    data["ses"]["RawMessage"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| SentMail {
            id: text(&m["id"]),
            source: text(&m["source"]),
            destinations: m["destinations"]
                .as_array()
                .into_iter()
                .flatten()
                .map(text)
                .collect(),
            raw: text(&m["raw_data"]),
        })
        .collect()
}

/// A plain HTTP/1.0 GET on loopback (no keep-alive, no chunking): status and body.
pub fn http_get(url: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    assert!(host.starts_with("127.0.0.1:"), "loopback only, got {host}");
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("timeout");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").expect("request");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("response");
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&response[..end]);
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, response[end + 4..].to_vec())
}
