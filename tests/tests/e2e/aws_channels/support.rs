//! What the channel tests share: the run day and a message as the core builds one.

use chrono::NaiveDate;
use relance_core::address::EmailAddress;
use relance_core::ids::NoticeId;
use relance_core::ports::OutgoingMail;

/// The run day of the tests.
pub fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).expect("date")
}

/// A message as the core builds one: encoded subject, Message-ID,
/// Auto-Submitted, multipart/alternative, CRLF line ends.
pub fn raw_mime(from: &str, to: &str, marker: &str) -> Vec<u8> {
    format!(
        "From: =?utf-8?q?Service_du_contentieux_des_biblioth=C3=A8ques?= <{from}>\r\n\
         To: {to}\r\n\
         Reply-To: {from}\r\n\
         Subject: =?utf-8?q?Premi=C3=A8re_relance_=E2=80=94_R=C3=A9f=2E_R7K2-9QF?=\r\n\
         Date: Sun, 29 Nov 2026 08:00:00 +0100\r\n\
         Message-ID: <{marker}@relance.example>\r\n\
         Auto-Submitted: auto-generated\r\n\
         Content-Language: fr\r\n\
         X-Relance-Test: {marker}\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative; boundary=\"b1\"\r\n\
         \r\n\
         --b1\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\
         \r\n\
         Bonjour, R=C3=A9f. R7K2-9QF\r\n\
         --b1\r\n\
         Content-Type: text/html; charset=utf-8\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\
         \r\n\
         <p>Bonjour, R=C3=A9f. R7K2-9QF</p>\r\n\
         --b1--\r\n"
    )
    .into_bytes()
}

/// An outgoing mail carrying `raw`.
pub fn outgoing(from: &str, to: &str, raw: Vec<u8>) -> OutgoingMail {
    OutgoingMail {
        notice_id: NoticeId::derive("aws-channels"),
        run_day: day(),
        name: "first_reminder-P0001".into(),
        from: EmailAddress::parse(from).expect("from"),
        to: EmailAddress::parse(to).expect("to"),
        raw,
    }
}
