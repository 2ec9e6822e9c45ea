//! A fault-injecting HTTP proxy on loopback, placed between an SES client and
//! moto: moto cannot throttle, so the proxy answers chosen SES v2 `SendEmail`
//! requests with the throttling error SES itself sends (HTTP 429,
//! `x-amzn-ErrorType: TooManyRequestsException`) and forwards everything else
//! to moto unchanged. The SDK is not mocked: it signs, sends, parses the error
//! and retries exactly as it would against SES.
//!
//! One request per connection: every answer carries `Connection: close`, so the
//! client never reuses a connection the proxy is about to close.

use std::io::{BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::relay::{IO_TIMEOUT, Listener, forward, read_request};

/// The path of SES v2 `SendEmail`.
pub const SEND_EMAIL_PATH: &str = "/v2/email/outbound-emails";
/// The body of the throttling answer, as SES v2 words it.
pub const THROTTLED_BODY: &str = r#"{"message":"Maximum sending rate exceeded."}"#;

/// A `SendEmail` request as the proxy sees it, for a [`Rule`] to decide on.
#[derive(Debug, Clone)]
pub struct SendRequest {
    /// How many `SendEmail` requests came before this one (throttled or not).
    pub index: usize,
    /// The JSON body (the destination addresses are in clear in it).
    pub body: String,
}

impl SendRequest {
    /// Whether the request is addressed to (or otherwise mentions) `address`.
    pub fn mentions(&self, address: &str) -> bool {
        self.body.contains(&format!("\"{address}\""))
    }
}

/// Which `SendEmail` requests are answered with a throttling error.
pub type Rule = Box<dyn Fn(&SendRequest) -> bool + Send + Sync>;

/// No request is throttled.
pub fn never() -> Rule {
    Box::new(|_| false)
}

/// The first `n` `SendEmail` requests (counted from when the rule is set) are throttled.
pub fn first(n: usize) -> Rule {
    let seen = AtomicUsize::new(0);
    Box::new(move |_| seen.fetch_add(1, Ordering::SeqCst) < n)
}

/// Every other `SendEmail` request, starting with the first after the rule is set.
pub fn every_other() -> Rule {
    let seen = AtomicUsize::new(0);
    Box::new(move |_| seen.fetch_add(1, Ordering::SeqCst).is_multiple_of(2))
}

/// Every `SendEmail` request addressed to one of `addresses`, however often it is tried.
pub fn addressed_to(addresses: &[&str]) -> Rule {
    let addresses: Vec<String> = addresses.iter().map(|a| (*a).to_owned()).collect();
    Box::new(move |request| addresses.iter().any(|a| request.mentions(a)))
}

#[derive(Default)]
struct Counters {
    sends: AtomicUsize,
    throttled: AtomicUsize,
    forwarded_sends: AtomicUsize,
    forwarded: AtomicUsize,
}

struct Shared {
    upstream: SocketAddr,
    rule: Mutex<Rule>,
    counters: Counters,
    throttled_bodies: Mutex<Vec<String>>,
}

/// The running proxy; stopped when dropped.
pub struct ThrottlingProxy {
    listener: Listener,
    shared: Arc<Shared>,
}

impl ThrottlingProxy {
    /// Listens on `127.0.0.1:0` and forwards to `upstream` (loopback only),
    /// throttling the `SendEmail` requests `rule` picks.
    pub fn start(upstream: SocketAddr, rule: Rule) -> Self {
        assert!(upstream.ip().is_loopback(), "loopback only, got {upstream}");
        let shared = Arc::new(Shared {
            upstream,
            rule: Mutex::new(rule),
            counters: Counters::default(),
            throttled_bodies: Mutex::new(Vec::new()),
        });
        Self {
            listener: Listener::start("throttling proxy", Arc::clone(&shared), serve),
            shared,
        }
    }

    /// A proxy in front of the moto server the tests use (`RELANCE_MOTO_PORT`, 5000).
    pub fn for_moto(rule: Rule) -> Self {
        let port: u16 = std::env::var("RELANCE_MOTO_PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(5000);
        Self::start(SocketAddr::from(([127, 0, 0, 1], port)), rule)
    }

    /// The endpoint URL to give the client (`http://127.0.0.1:{port}`).
    pub fn url(&self) -> String {
        self.listener.url()
    }

    /// Replaces the rule for the requests to come.
    pub fn set_rule(&self, rule: Rule) {
        *self.shared.rule.lock().unwrap_or_else(|e| e.into_inner()) = rule;
    }

    /// `SendEmail` requests received (throttled or forwarded).
    pub fn sends(&self) -> usize {
        self.shared.counters.sends.load(Ordering::SeqCst)
    }

    /// `SendEmail` requests answered with a throttling error.
    pub fn throttled(&self) -> usize {
        self.shared.counters.throttled.load(Ordering::SeqCst)
    }

    /// `SendEmail` requests forwarded to the upstream.
    pub fn forwarded_sends(&self) -> usize {
        self.shared.counters.forwarded_sends.load(Ordering::SeqCst)
    }

    /// Every request forwarded to the upstream, `SendEmail` or not.
    pub fn forwarded(&self) -> usize {
        self.shared.counters.forwarded.load(Ordering::SeqCst)
    }

    /// The bodies of the throttled `SendEmail` requests, in order.
    pub fn throttled_requests(&self) -> Vec<String> {
        self.shared
            .throttled_bodies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
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
    let path = request.target.split('?').next().unwrap_or_default();
    let is_send = request.method == "POST" && path == SEND_EMAIL_PATH;
    if is_send {
        let send = SendRequest {
            index: shared.counters.sends.fetch_add(1, Ordering::SeqCst),
            body: String::from_utf8_lossy(&request.body).into_owned(),
        };
        let throttle = (shared.rule.lock().unwrap_or_else(|e| e.into_inner()))(&send);
        if throttle {
            shared.counters.throttled.fetch_add(1, Ordering::SeqCst);
            shared
                .throttled_bodies
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(send.body);
            write!(
                writer,
                "HTTP/1.1 429 Too Many Requests\r\n\
                 Content-Type: application/json\r\n\
                 x-amzn-ErrorType: TooManyRequestsException\r\n\
                 x-amzn-RequestId: throttling-proxy-{}\r\n\
                 Content-Length: {}\r\n\
                 Connection: close\r\n\r\n{THROTTLED_BODY}",
                send.index,
                THROTTLED_BODY.len()
            )?;
            writer.flush()?;
            return writer.shutdown(Shutdown::Both);
        }
        shared
            .counters
            .forwarded_sends
            .fetch_add(1, Ordering::SeqCst);
    }
    shared.counters.forwarded.fetch_add(1, Ordering::SeqCst);
    let response = forward(&request, shared.upstream)?;
    writer.write_all(&response)?;
    writer.flush()?;
    writer.shutdown(Shutdown::Both)
}
