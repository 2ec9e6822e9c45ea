//! Retries over a real HTTP exchange with a loopback server that answers a
//! scripted status per request.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::{Api, Retry, Since};
use crate::SourceError;

/// A server on loopback answering the `statuses` in turn (the last one
/// again after that); its address and the number of requests it read.
async fn server(statuses: &'static [u16]) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let asked = Arc::new(AtomicUsize::new(0));
    let count = asked.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            let n = count.fetch_add(1, Ordering::SeqCst);
            let status = statuses[n.min(statuses.len() - 1)];
            let answer = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    (url, asked)
}

fn retry(since: Since) -> Retry {
    Retry {
        attempts: 2,
        first_backoff: Duration::from_millis(10),
        budget: Duration::from_secs(1),
        since,
        timeout: Duration::from_secs(5),
    }
}

/// A client older than its budget, as on a Lambda instance that has run for
/// hours, then one call that fails once.
async fn late_call(since: Since) -> (Result<u16, SourceError>, usize, u32) {
    let (url, asked) = server(&[500, 200]).await;
    let api = Api::new(&url, retry(since)).expect("client");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let answer = api
        .send("/loans/L1", || api.client().get(api.url("/loans/L1")))
        .await
        .map(|a| a.status);
    (answer, asked.load(Ordering::SeqCst), api.calls())
}

#[tokio::test]
async fn a_check_made_long_after_the_client_was_made_is_still_retried() {
    let (answer, asked, calls) = late_call(Since::Call).await;
    assert_eq!(answer.expect("the retry succeeds"), 200);
    assert_eq!((asked, calls), (2, 2));
}

#[tokio::test]
async fn a_pull_past_its_budget_starts_no_retry() {
    let (answer, asked, calls) = late_call(Since::Client).await;
    assert!(
        matches!(
            answer,
            Err(SourceError::Unavailable {
                status: Some(500),
                attempts: 1,
                ..
            })
        ),
        "{answer:?}"
    );
    assert_eq!((asked, calls), (1, 1));
}

#[test]
fn the_send_time_check_retries_per_call() {
    assert_eq!(Retry::RECHECK.since, Since::Call);
    assert_eq!(Retry::PULL.since, Since::Client);
}
