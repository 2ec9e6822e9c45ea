//! English.

use chrono::{Datelike, NaiveDate};

use super::Wording;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn long_date(day: NaiveDate) -> String {
    format!(
        "{} {} {}",
        day.day(),
        MONTHS[day.month0() as usize],
        day.year()
    )
}

fn short_date(day: NaiveDate) -> String {
    // Day and abbreviated month: neither a British nor an American reader can misread it.
    format!(
        "{} {} {}",
        day.day(),
        &MONTHS[day.month0() as usize][..3],
        day.year()
    )
}

pub(super) static WORDING: Wording = Wording {
    date_line: "{place}, {date}",
    reference: "Ref. {reference}",
    patron_number: "Borrower number: {patron_id}",
    subject: "Subject: {subject}",
    final_subject: "Final reminder – items to be returned",
    reminder_names: [
        "First reminder",
        "Second reminder",
        "Third reminder",
        "Fourth reminder",
        "Fifth reminder",
    ],
    reminder_name_beyond: "Reminder {number}",
    reminder_subject: "{reminder} – items to return",
    salutation: "Dear {name},",
    final_body: &[
        "Despite our previous reminders, the items below, borrowed from our library, have not been returned.",
        "Please bring them back as soon as possible. This letter is our last reminder about them: if anything prevents you from returning them (an item lost or damaged, being unable to travel…), please get in touch so that we can find a solution together.",
    ],
    first_reminder_body: &[
        "Unless we are mistaken, the items below, borrowed from our library, were due back and have not yet been returned. Please bring them back as soon as possible, so that other readers can borrow them in turn.",
    ],
    later_reminder_body: &[
        "Despite our previous reminder, the items below, borrowed from our library, have not yet been returned. Please bring them back as soon as possible.",
    ],
    by_post: "We are sending this reminder by post because we cannot reach you by email. Please let us know an up-to-date email address.",
    columns: [
        "Title",
        "Author",
        "Barcode",
        "Call number",
        "Due date",
        "Days overdue",
    ],
    contact_heading: "To return these items or get in touch",
    phone: "Phone {phone}",
    email: "Email: {email}",
    quote_reference: "Please quote reference {reference} in any reply.",
    already_returned: "If you have returned these items in the meantime, please disregard this letter.",
    closing: "Yours sincerely,",
    page: "Page {page}/{pages}",
    continued: "{name} – Ref. {reference} (continued)",
    long_date,
    short_date,
};
