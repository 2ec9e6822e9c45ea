use chrono::TimeZone;

use super::*;

/// An SES event publishing bounce record, as documented ("Examples of event
/// data that Amazon SES publishes to Amazon SNS"), headers trimmed.
const BOUNCE: &str = r#"{
  "eventType": "Bounce",
  "bounce": {
    "bounceType": "Permanent",
    "bounceSubType": "General",
    "bouncedRecipients": [
      {
        "emailAddress": "noemie.bonnet@etu.example.fr",
        "action": "failed",
        "status": "5.1.1",
        "diagnosticCode": "smtp; 550 5.1.1 user unknown"
      }
    ],
    "timestamp": "2026-11-29T07:30:06.669Z",
    "feedbackId": "0102019373a1b2c3-5d6e7f80-9a1b-4c2d-8e3f-405162738495-000000",
    "reportingMTA": "dsn; a7-12.smtp-out.eu-west-1.amazonses.com"
  },
  "mail": {
    "timestamp": "2026-11-29T07:30:00.012Z",
    "source": "Service du contentieux des bibliothèques <contentieux@bibliotheques.example.fr>",
    "sourceArn": "arn:aws:ses:eu-west-1:123456789012:identity/bibliotheques.example.fr",
    "sendingAccountId": "123456789012",
    "messageId": "0102019373a0f1e2-8c7d6e5f-4a3b-2c1d-0e9f-8a7b6c5d4e3f-000000",
    "destination": ["noemie.bonnet@etu.example.fr"],
    "headersTruncated": false,
    "tags": {"ses:configuration-set": ["relance"]}
  }
}"#;

const COMPLAINT: &str = r#"{
  "eventType": "Complaint",
  "complaint": {
    "feedbackId": "0102019380c1d2e3-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d-000000",
    "complaintSubType": null,
    "complainedRecipients": [{"emailAddress": "jerome.lefevre@courriel.example.org"}],
    "timestamp": "2026-12-13T09:12:45Z",
    "userAgent": "Yahoo!-Mail-Feedback/2.0",
    "complaintFeedbackType": "abuse",
    "arrivalDate": "2026-12-13T09:12:44.000Z"
  },
  "mail": {"messageId": "01020193808f0e1d-2c3b4a59-6877-4e5d-9c8b-7a6f5e4d3c2b-000000"}
}"#;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn a_permanent_bounce_is_a_hard_bounce_of_its_recipients() {
    let event = parse(BOUNCE.as_bytes()).unwrap().unwrap();
    assert_eq!(
        event,
        FeedbackEvent {
            id: "0102019373a1b2c3-5d6e7f80-9a1b-4c2d-8e3f-405162738495-000000".into(),
            at: at("2026-11-29T07:30:06.669Z"),
            kind: FeedbackKind::HardBounce,
            recipients: vec!["noemie.bonnet@etu.example.fr".into()],
            message_id: Some("0102019373a0f1e2-8c7d6e5f-4a3b-2c1d-0e9f-8a7b6c5d4e3f-000000".into()),
        }
    );
}

#[test]
fn transient_and_undetermined_bounces_are_soft() {
    for kind in ["Transient", "Undetermined"] {
        let json = BOUNCE.replace("\"Permanent\"", &format!("\"{kind}\""));
        let event = parse(json.as_bytes()).unwrap().unwrap();
        assert_eq!(event.kind, FeedbackKind::SoftBounce, "{kind}");
    }
}

#[test]
fn a_complaint_names_the_complaining_recipients() {
    let event = parse(COMPLAINT.as_bytes()).unwrap().unwrap();
    assert_eq!(event.kind, FeedbackKind::Complaint);
    assert_eq!(event.recipients, ["jerome.lefevre@courriel.example.org"]);
    assert_eq!(
        event.at,
        Utc.with_ymd_and_hms(2026, 12, 13, 9, 12, 45).unwrap()
    );
    assert_eq!(
        event.id,
        "0102019380c1d2e3-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d-000000"
    );
    assert!(event.message_id.is_some());
}

#[test]
fn identity_notifications_name_the_type_differently_and_read_the_same() {
    let json = BOUNCE.replace("\"eventType\"", "\"notificationType\"");
    assert_eq!(
        parse(json.as_bytes()).unwrap(),
        parse(BOUNCE.as_bytes()).unwrap()
    );
}

#[test]
fn other_events_are_not_feedback() {
    for kind in [
        "Send",
        "Delivery",
        "Open",
        "Click",
        "Reject",
        "DeliveryDelay",
        "Rendering Failure",
    ] {
        let json = format!(r#"{{"eventType": "{kind}", "mail": {{"messageId": "x"}}}}"#);
        assert_eq!(parse(json.as_bytes()).unwrap(), None, "{kind}");
    }
}

#[test]
fn sns_and_eventbridge_envelopes_are_opened() {
    let sns = serde_json::json!({
        "Type": "Notification",
        "MessageId": "8d4f3c2b-1a0e-5f6d-9c8b-7a6e5d4c3b2a",
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:relance-feedback",
        "Message": BOUNCE,
        "Timestamp": "2026-11-29T07:30:07.000Z"
    });
    let bridge = serde_json::json!({
        "version": "0",
        "detail-type": "Email Bounced",
        "source": "aws.ses",
        "detail": serde_json::from_str::<serde_json::Value>(BOUNCE).unwrap()
    });
    let bare = parse(BOUNCE.as_bytes()).unwrap();
    assert!(bare.is_some());
    assert_eq!(parse(sns.to_string().as_bytes()).unwrap(), bare);
    assert_eq!(parse(bridge.to_string().as_bytes()).unwrap(), bare);
    let confirmation =
        r#"{"Type": "SubscriptionConfirmation", "Message": "You have chosen to subscribe"}"#;
    assert_eq!(parse(confirmation.as_bytes()).unwrap(), None);
}

#[test]
fn invalid_json_is_reported_with_its_line_and_column() {
    let err = parse(b"{\n  \"eventType\": \"Bounce\",\n  oops\n}").unwrap_err();
    let FeedbackError::Json { line, column, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!((*line, *column), (3, 3));
    assert!(err.to_string().contains("line 3, column 3"), "{err}");
    let err = parse(br#"{"Type": "Notification", "Message": "{not json"}"#).unwrap_err();
    assert!(err.to_string().starts_with("Message: "), "{err}");
}

#[test]
fn missing_fields_are_named_by_their_path() {
    let cases = [
        (r#"{"mail": {}}"#.to_owned(), "eventType"),
        (r#"{"eventType": "Bounce"}"#.to_owned(), "bounce"),
        (
            BOUNCE.replace("\"feedbackId\"", "\"x\""),
            "bounce.feedbackId",
        ),
        (
            BOUNCE.replace("\"timestamp\": \"2026-11-29T07:30:06", "\"x\": \"2026"),
            "bounce.timestamp",
        ),
        (
            BOUNCE.replace("\"bounceType\"", "\"x\""),
            "bounce.bounceType",
        ),
        (
            BOUNCE.replace("\"emailAddress\"", "\"x\""),
            "bounce.bouncedRecipients[0].emailAddress",
        ),
        (
            COMPLAINT.replace("\"complainedRecipients\"", "\"x\""),
            "complaint.complainedRecipients",
        ),
        (
            serde_json::json!({"detail": {"eventType": "Complaint"}}).to_string(),
            "detail.complaint",
        ),
    ];
    for (json, path) in cases {
        assert_eq!(
            parse(json.as_bytes()),
            Err(FeedbackError::Missing(path.to_owned())),
            "{path}"
        );
    }
}

#[test]
fn unknown_values_are_refused_with_their_path() {
    let json = BOUNCE.replace("\"Permanent\"", "\"Sometimes\"");
    let err = parse(json.as_bytes()).unwrap_err();
    assert!(
        matches!(&err, FeedbackError::Invalid { path, .. } if path == "bounce.bounceType"),
        "{err:?}"
    );
    let json = BOUNCE.replace("2026-11-29T07:30:06.669Z", "yesterday");
    let err = parse(json.as_bytes()).unwrap_err();
    assert!(
        matches!(&err, FeedbackError::Invalid { path, .. } if path == "bounce.timestamp"),
        "{err:?}"
    );
}

#[test]
fn wrong_types_are_json_errors_not_panics() {
    for json in [
        r#"{"eventType": 3}"#,
        r#"{"eventType": "Bounce", "bounce": []}"#,
        r#"[]"#,
        r#""Bounce""#,
        "",
    ] {
        assert!(
            matches!(parse(json.as_bytes()), Err(FeedbackError::Json { .. })),
            "{json}"
        );
    }
}
