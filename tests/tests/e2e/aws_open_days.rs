//! Open days on the serverless path (rules §14), against the emulators: the
//! config and its iCalendar file read from S3; a letter decided on a Sunday is
//! not printed by the letters function that day but queued again by the next
//! planner run and printed on the Monday, once, with its reference; a library
//! closed on that Monday by its iCalendar file prints on the Tuesday.

use chrono::Duration;
use relance_core::ladder::Channel;
use relance_core::ports::Ledger as _;
use relance_tests::emulators::sent_mail;
use relance_tests::stack::{SENT_MAIL, Stack, morning, new_mail, to};
use relance_tests::{CONFIG, LOANS_HEADER, PATRONS_HEADER, day, loan_row, patron_row};

/// STS is closed on Monday 7 December 2026 for its inventory, by its own file.
const INVENTORY_ICS: &str = "BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Relance//tests//FR\r
BEGIN:VEVENT\r
UID:inventaire-sts@example.fr\r
DTSTAMP:20261101T000000Z\r
DTSTART;VALUE=DATE:20261207\r
DTEND;VALUE=DATE:20261208\r
RRULE:FREQ=YEARLY\r
SUMMARY:Inventaire\r
END:VEVENT\r
END:VCALENDAR\r
";

fn config() -> String {
    CONFIG
        .replace(
            "catch_up_days = 2\n",
            "catch_up_days = 2\nclosed_weekdays = [\"sunday\"]\nholidays = \"FR\"\n",
        )
        .replace(
            "phone = \"05 40 00 00 00\"\n",
            "phone = \"05 40 00 00 00\"\ncalendar = \"inventaire-sts.ics\"\n",
        )
}

#[tokio::test(flavor = "multi_thread")]
async fn letters_of_a_closed_day_are_printed_by_the_first_run_on_an_open_day() {
    let _one = SENT_MAIL.lock().await;
    let stack = Stack::with_config(&config(), &[("inventaire-sts.ics", INVENTORY_ICS)]).await;
    let sunday = day("2026-12-06");
    let (monday, tuesday) = (day("2026-12-07"), day("2026-12-08"));
    stack
        .import(
            "patrons.csv",
            &[
                patron_row("P1", "Camille Martin", "camille.martin@example.org", false),
                patron_row("P3", "Ngozi Okafor", "ngozi.okafor@example.org", false),
            ],
            PATRONS_HEADER,
        )
        .await;
    let letter_due = sunday - Duration::days(35);
    stack
        .import(
            "loans.csv",
            &[
                loan_row("L1", "P1", "STS", sunday - Duration::days(7), None),
                loan_row("L2", "P3", "DRT", letter_due, None),
                loan_row("L3", "P3", "STS", letter_due, None),
            ],
            LOANS_HEADER,
        )
        .await;
    let before = sent_mail().len();

    // Sunday: the reminder goes (emails keep their day); both letters wait.
    let planned = stack.plan(sunday).await;
    assert_eq!(planned.summary.notices.get("letter"), Some(&2));
    assert_eq!(stack.deliver_mail(morning(sunday)).await, 0);
    assert_eq!(stack.deliver_letters(morning(sunday)).await, 0);
    assert!(
        stack.letter_keys(sunday).await.is_empty(),
        "no batch on a Sunday"
    );
    let mail = new_mail(before);
    assert_eq!(to(&mail, "camille.martin@example.org").len(), 1);
    assert!(to(&mail, "bu-droit@bibliotheques.example.fr").is_empty());
    let dynamo = stack.dynamo();
    let pending = dynamo
        .pending_notices(Channel::Letter, monday)
        .await
        .unwrap();
    assert_eq!(pending.len(), 2);
    assert!(pending.iter().all(|n| n.run_day == sunday));

    // Monday: DRT prints the Sunday letter; STS, closed by its iCalendar file, waits.
    let planned = stack.plan(monday).await;
    assert_eq!(
        planned.letter_batches_queued, 2,
        "the waiting letters are queued again"
    );
    assert_eq!(stack.deliver_letters(morning(monday)).await, 0);
    let keys = stack.letter_keys(monday).await;
    assert!(
        keys.contains(&format!("letters/{monday}/DRT/P3.pdf")),
        "{keys:?}"
    );
    assert!(!keys.iter().any(|k| k.contains("/STS/")), "{keys:?}");
    let drt = pending
        .iter()
        .find(|n| n.library.as_ref().unwrap().as_str() == "DRT")
        .unwrap();
    let batch = to(&new_mail(before), "bu-droit@bibliotheques.example.fr");
    assert_eq!(batch.len(), 1, "one batch for DRT");
    let manifest = stack
        .clients
        .s3
        .get_object()
        .bucket(&stack.resources.bucket)
        .key(format!("letters/{monday}/DRT/manifest.csv"))
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    let manifest = String::from_utf8(manifest.to_vec()).unwrap();
    assert!(
        manifest.contains(drt.reference.as_str()),
        "the Sunday letter, with its reference: {manifest}"
    );

    // Tuesday: STS prints it; a second run of the day prints nothing twice.
    stack.plan(tuesday).await;
    assert_eq!(stack.deliver_letters(morning(tuesday)).await, 0);
    stack.plan(tuesday).await;
    assert_eq!(stack.deliver_letters(morning(tuesday)).await, 0);
    let keys = stack.letter_keys(tuesday).await;
    assert_eq!(
        keys,
        vec![
            format!("letters/{tuesday}/STS/P3.pdf"),
            format!("letters/{tuesday}/STS/batch.pdf"),
            format!("letters/{tuesday}/STS/manifest.csv"),
        ]
    );
    let mail = new_mail(before);
    assert_eq!(to(&mail, "bu-sciences@bibliotheques.example.fr").len(), 1);
    assert_eq!(to(&mail, "bu-droit@bibliotheques.example.fr").len(), 1);
    assert!(
        dynamo
            .pending_notices(Channel::Letter, tuesday)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_email_held_for_an_open_day_is_sent_by_the_mailer_once_its_library_opens() {
    let _one = SENT_MAIL.lock().await;
    let config = config().replace(
        "holidays = \"FR\"\n",
        "holidays = \"FR\"\nemail_on_closed_days = \"next_open_day\"\n",
    );
    let stack = Stack::with_config(&config, &[("inventaire-sts.ics", INVENTORY_ICS)]).await;
    let sunday = day("2026-12-06");
    let (monday, tuesday) = (day("2026-12-07"), day("2026-12-08"));
    stack
        .import(
            "patrons.csv",
            &[patron_row(
                "P1",
                "Camille Martin",
                "camille.martin@example.org",
                false,
            )],
            PATRONS_HEADER,
        )
        .await;
    stack
        .import(
            "loans.csv",
            &[loan_row(
                "L1",
                "P1",
                "STS",
                sunday - Duration::days(7),
                None,
            )],
            LOANS_HEADER,
        )
        .await;
    let before = sent_mail().len();
    let patron = |before| to(&new_mail(before), "camille.martin@example.org").len();

    // Sunday, and Monday (STS's inventory): the reminder waits, pending.
    for d in [sunday, monday] {
        assert_eq!(stack.plan(d).await.emails_queued, 1, "{d}");
        assert_eq!(stack.deliver_mail(morning(d)).await, 0, "{d}");
        assert_eq!(patron(before), 0, "nothing sent on {d}");
    }
    let dynamo = stack.dynamo();
    let pending = dynamo
        .pending_notices(Channel::Email, monday)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].run_day, sunday, "still the Sunday notice");

    // Tuesday: sent once, even when queued twice.
    stack.plan(tuesday).await;
    stack.plan(tuesday).await;
    assert_eq!(stack.deliver_mail(morning(tuesday)).await, 0);
    assert_eq!(patron(before), 1);
    assert!(
        dynamo
            .pending_notices(Channel::Email, tuesday)
            .await
            .unwrap()
            .is_empty()
    );
}
