//! Calls to a library system: one client, every call counted, 429 and 5xx
//! retried with exponential backoff within a time budget, Alma's remaining
//! daily quota (`X-Exl-Api-Remaining`) kept, and a spent quota never retried.
//! Credentials travel in headers only, so no URL, log line or error holds one.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

use crate::SourceError;

/// How failed calls are retried.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Attempts per call, the first included.
    pub attempts: u32,
    /// The wait before the second attempt; doubled each time after.
    pub first_backoff: Duration,
    /// No retry starts past this much time since [`Retry::since`].
    pub budget: Duration,
    /// What the time budget counts from.
    pub since: Since,
    /// One call's limit (connect, send, read the whole answer).
    pub timeout: Duration,
}

impl Retry {
    /// For a pull: patient (a partial pull is refused whole, so it is worth
    /// waiting for a busy server), the whole pull within ten minutes.
    pub const PULL: Self = Self {
        attempts: 5,
        first_backoff: Duration::from_millis(500),
        budget: Duration::from_secs(600),
        since: Since::Client,
        timeout: Duration::from_secs(120),
    };

    /// For the check at send time: quick (the notice goes as planned when the
    /// system does not answer), one retry within 20 seconds of each call's
    /// start. Counted per call, not from the client: a Lambda instance keeps
    /// its client for hours, and would otherwise stop retrying after its
    /// first minutes.
    pub const RECHECK: Self = Self {
        attempts: 2,
        first_backoff: Duration::from_millis(300),
        budget: Duration::from_secs(20),
        since: Since::Call,
        timeout: Duration::from_secs(15),
    };
}

/// What a [`Retry`]'s time budget counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// The client's creation: every call it makes shares the budget (a pull).
    Client,
    /// Each call's first attempt (a check at send time).
    Call,
}

/// An answer as read: its status and whole body.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self, what: &str) -> Result<serde_json::Value, SourceError> {
        serde_json::from_slice(&self.body).map_err(|e| SourceError::Malformed {
            what: what.to_owned(),
            reason: format!("not JSON ({e})"),
        })
    }
}

/// Alma's header giving the calls left in the institution's daily quota.
pub const ALMA_REMAINING: &str = "x-exl-api-remaining";

/// A library system's API: its root URL, the client and the tally of calls.
pub struct Api {
    client: reqwest::Client,
    base: String,
    retry: Retry,
    started: Instant,
    calls: AtomicU32,
    quota_left: Mutex<Option<u64>>,
}

impl Api {
    /// A client of the API at `base` (no trailing slash).
    pub fn new(base: &str, retry: Retry) -> Result<Self, SourceError> {
        let client = reqwest::Client::builder()
            .timeout(retry.timeout)
            .user_agent(concat!("relance/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SourceError::Client { source: e })?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
            retry,
            started: Instant::now(),
            calls: AtomicU32::new(0),
            quota_left: Mutex::new(None),
        })
    }

    /// Calls made so far (retries included).
    pub fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }

    /// The last `X-Exl-Api-Remaining` seen.
    pub fn quota_left(&self) -> Option<u64> {
        *self
            .quota_left
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The client, to build a request on `self.url(path)`.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The full URL of a path (and query) of the API.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends the request `build` makes, again after a 429 (unless Alma says the
    /// daily quota is spent), a 5xx or a network failure, with backoff, within
    /// the attempts and time budget. Answers 2xx, and 400 and 404 (the caller
    /// decides what "not found" means); any other status is an error. `what`
    /// names the call in errors (a path with ids, never a credential).
    pub async fn send(
        &self,
        what: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Answer, SourceError> {
        let started = match self.retry.since {
            Since::Client => self.started,
            Since::Call => Instant::now(),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.calls.fetch_add(1, Ordering::SeqCst);
            let failure = match build().send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let headers = response.headers().clone();
                    let remaining = headers
                        .get(ALMA_REMAINING)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    if let Some(left) = remaining {
                        *self
                            .quota_left
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(left);
                    }
                    if status == 429 && remaining == Some(0) {
                        return Err(SourceError::QuotaSpent {
                            what: what.to_owned(),
                        });
                    }
                    if status == 429 || status >= 500 {
                        Failure::Status(status, retry_after(&headers))
                    } else {
                        let body = response.bytes().await;
                        match body {
                            Ok(body)
                                if (200..300).contains(&status)
                                    || status == 400
                                    || status == 404 =>
                            {
                                return Ok(Answer {
                                    status,
                                    body: body.to_vec(),
                                });
                            }
                            Ok(_) => {
                                return Err(SourceError::Refused {
                                    what: what.to_owned(),
                                    status,
                                });
                            }
                            Err(e) => Failure::Network(e),
                        }
                    }
                }
                Err(e) => Failure::Network(e),
            };
            let backoff = self.retry.first_backoff * 2u32.saturating_pow(attempt - 1);
            let wait = match &failure {
                Failure::Status(_, Some(after)) => (*after).max(backoff),
                _ => backoff,
            };
            let out_of_time = started.elapsed() + wait > self.retry.budget;
            if attempt >= self.retry.attempts || out_of_time {
                return Err(match failure {
                    Failure::Status(status, _) => SourceError::Unavailable {
                        what: what.to_owned(),
                        status: Some(status),
                        attempts: attempt,
                        source: None,
                    },
                    Failure::Network(e) => SourceError::Unavailable {
                        what: what.to_owned(),
                        status: None,
                        attempts: attempt,
                        // The URL holds no credential; it is dropped all the same.
                        source: Some(e.without_url()),
                    },
                });
            }
            tracing::info!(
                call = what,
                attempt,
                wait_ms = wait.as_millis() as u64,
                "retrying a library system call"
            );
            tokio::time::sleep(wait).await;
        }
    }
}

enum Failure {
    Status(u16, Option<Duration>),
    Network(reqwest::Error),
}

/// A `Retry-After` given in seconds, capped at a minute.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s.min(60)))
}

/// `text` percent-encoded for a query parameter or a path segment.
pub fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests;
