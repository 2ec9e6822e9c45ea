//! SES v2 mail transport: the raw MIME message as the core built it, sent with
//! `SendEmail` and `EmailContent::raw`, never rebuilt (so headers, Message-ID and
//! attachments are ours).

use std::time::Duration;

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::config::http::HttpResponse;
use aws_sdk_sesv2::config::retry::RetryConfig;
use aws_sdk_sesv2::config::timeout::TimeoutConfig;
use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};
use relance_core::ports::{MailTransport, OutgoingMail, TransportError};

/// Attempts the SDK makes itself (standard mode, so throttling and transient
/// errors back off with jitter) before the error reaches the caller, which
/// retries later through SQS redelivery.
const SDK_ATTEMPTS: u32 = 3;
/// Long enough that a slow but successful send is not cut and sent again.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);

/// The engine's [`MailTransport`] on SES v2.
#[derive(Debug, Clone)]
pub struct SesTransport {
    client: Client,
    configuration_set: Option<String>,
}

impl SesTransport {
    /// A transport over `client`, its retry and timeout settings replaced by the
    /// transport's (standard retry mode, 3 attempts, 20 s per attempt); messages
    /// are tagged with `configuration_set` (bounce and complaint events) when given.
    pub fn new(client: &Client, configuration_set: Option<String>) -> Self {
        let config = client
            .config()
            .to_builder()
            .retry_config(RetryConfig::standard().with_max_attempts(SDK_ATTEMPTS))
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .build(),
            )
            .build();
        Self {
            client: Client::from_conf(config),
            configuration_set,
        }
    }

    /// The configuration set messages are sent with.
    pub fn configuration_set(&self) -> Option<&str> {
        self.configuration_set.as_deref()
    }
}

impl MailTransport for SesTransport {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, TransportError> {
        let raw = RawMessage::builder()
            .data(Blob::new(mail.raw.clone()))
            .build()
            .map_err(|e| TransportError::unexpected(e.to_string()).caused_by(e))?;
        let sent = self
            .client
            .send_email()
            .from_email_address(mail.from.as_str())
            .destination(
                Destination::builder()
                    .to_addresses(mail.to.as_str())
                    .build(),
            )
            .content(EmailContent::builder().raw(raw).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(|err| transport_error(err, mail.from.as_str()))?;
        sent.message_id
            .filter(|id| !id.is_empty())
            .ok_or_else(|| TransportError::unexpected("SES returned no message id"))
    }
}

/// Messages of SES errors about the syntax of an address (the sender is a
/// verified identity, so these are about the recipient).
const ADDRESS_SYNTAX: [&str; 5] = [
    "illegal address",
    "missing final '@domain'",
    "missing domain",
    "local address",
    "domain contains",
];

/// Maps a `SendEmail` failure: slow-down signals are `Throttled`, timeouts,
/// unreachable endpoints and 5xx are `Transient`, a refused message or recipient
/// is `Rejected`, and the rest (account suspended, unverified sender or MAIL
/// FROM domain, missing configuration set) is `Unexpected`.
///
/// `MessageRejected` is also what SES answers when an identity is not verified
/// (the sender, or in the sandbox the recipient): that is our configuration, not
/// the patron's address, so it stays `Unexpected` rather than marking every
/// patron undeliverable.
fn transport_error(err: SdkError<SendEmailError, HttpResponse>, sender: &str) -> TransportError {
    let text = DisplayErrorContext(&err).to_string();
    let error = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            TransportError::transient(text)
        }
        SdkError::ServiceError(service) => {
            let message = service
                .err()
                .message()
                .unwrap_or_default()
                .to_ascii_lowercase();
            match service.err().code() {
                Some(
                    "TooManyRequestsException"
                    | "Throttling"
                    | "ThrottlingException"
                    | "LimitExceededException"
                    | "SendingPausedException",
                ) => TransportError::throttled(text),
                Some("MessageRejected") => {
                    let identity_check = message.contains("not verified")
                        || message.contains("authority to send")
                        || message.contains("not authorized")
                        || message.contains(&sender.to_ascii_lowercase());
                    if identity_check {
                        TransportError::unexpected(text)
                    } else {
                        TransportError::rejected(text)
                    }
                }
                Some("BadRequestException" | "InvalidParameterValue")
                    if ADDRESS_SYNTAX.iter().any(|m| message.contains(m)) =>
                {
                    TransportError::rejected(text)
                }
                _ if service.raw().status().is_server_error() => TransportError::transient(text),
                _ => TransportError::unexpected(text),
            }
        }
        _ => TransportError::unexpected(text),
    };
    error.caused_by(err)
}

#[cfg(test)]
mod tests {
    use aws_sdk_sesv2::error::ErrorMetadata;

    use super::*;

    const SENDER: &str = "contentieux@bibliotheques.example.fr";

    fn service(code: &str, message: &str, status: u16) -> TransportError {
        let err =
            SendEmailError::generic(ErrorMetadata::builder().code(code).message(message).build());
        let raw = HttpResponse::new(status.try_into().expect("status"), Vec::new().into());
        transport_error(SdkError::service_error(err, raw), SENDER)
    }

    #[test]
    fn slow_down_signals_are_throttled() {
        for code in [
            "TooManyRequestsException",
            "LimitExceededException",
            "SendingPausedException",
            "Throttling",
        ] {
            assert!(
                matches!(
                    service(code, "slow down", 400),
                    TransportError::Throttled { .. }
                ),
                "{code}"
            );
        }
    }

    #[test]
    fn the_sdk_error_is_kept_as_the_source() {
        use std::error::Error as _;

        let err = service(
            "MessageRejected",
            "Message rejected: address blacklisted.",
            400,
        );
        assert!(err.message().contains("address blacklisted"), "{err}");
        let source = err.source().expect("the SDK error is kept");
        let sdk = source
            .downcast_ref::<SdkError<SendEmailError, HttpResponse>>()
            .expect("the source is the SDK error itself");
        assert_eq!(
            sdk.as_service_error().and_then(|e| e.code()),
            Some("MessageRejected")
        );
    }

    #[test]
    fn a_rejected_message_is_rejected() {
        let err = service(
            "MessageRejected",
            "Message rejected: address blacklisted.",
            400,
        );
        assert!(matches!(err, TransportError::Rejected { .. }), "{err:?}");
        let err = service("BadRequestException", "Illegal address", 400);
        assert!(matches!(err, TransportError::Rejected { .. }), "{err:?}");
    }

    #[test]
    fn an_unverified_identity_is_our_configuration_not_the_recipient() {
        let sender = format!(
            "Email address is not verified. The following identities failed the check in region EU-WEST-3: {SENDER}"
        );
        let sandbox = "Email address is not verified. The following identities failed the check in region EU-WEST-3: patron@example.org";
        for message in [
            sender.as_str(),
            sandbox,
            "Did not have authority to send from email x@y.z",
        ] {
            let err = service("MessageRejected", message, 400);
            assert!(
                matches!(err, TransportError::Unexpected { .. }),
                "{message}: {err:?}"
            );
        }
    }

    #[test]
    fn account_problems_are_unexpected_and_server_errors_transient() {
        for code in [
            "AccountSuspendedException",
            "MailFromDomainNotVerifiedException",
            "NotFoundException",
            "BadRequestException",
        ] {
            assert!(
                matches!(service(code, "no", 400), TransportError::Unexpected { .. }),
                "{code}"
            );
        }
        assert!(matches!(
            service("InternalFailure", "oops", 500),
            TransportError::Transient { .. }
        ));
        assert!(matches!(
            service("ServiceUnavailable", "later", 503),
            TransportError::Transient { .. }
        ));
    }
}
