//! Received mail and feedback events, whatever the bytes: reading never panics,
//! what it gives holds its promises, and its forward can always be composed.

#![no_main]

use std::sync::OnceLock;

use chrono::{NaiveDate, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use relance_core::config::Config;
use relance_core::inbound::forward::{Forward, compose};
use relance_core::inbound::{TEXT_LIMIT, Verdicts, feedback, read};

const CONFIG: &str = r#"
[institution]
name = "Université de Bordeaux (exemple)"
timezone = "Europe/Paris"
default_language = "fr"

[mail]
from = "Service du contentieux des bibliothèques <contentieux@bibliotheques.example.fr>"
reply_to = "contentieux@bibliotheques.example.fr"
staff_inbox = "equipe-contentieux@bibliotheques.example.fr"

[[libraries]]
code = "STS"
name = "Bibliothèque Sciences et techniques"
inbox = "bu-sciences@bibliotheques.example.fr"
"#;

fn config() -> &'static Config {
    static CONFIG_ONCE: OnceLock<Config> = OnceLock::new();
    CONFIG_ONCE.get_or_init(|| Config::parse(CONFIG).expect("the fuzz config parses"))
}

fuzz_target!(|data: &[u8]| {
    let flagged = Verdicts {
        spam: true,
        virus: true,
    };
    for verdicts in [Verdicts::default(), flagged] {
        let mail = read(data, verdicts);
        assert!(mail.text.chars().count() <= TEXT_LIMIT);
        assert!(
            !mail.subject.chars().any(char::is_control),
            "{:?}",
            mail.subject
        );
        let plain_id = |id: &str| {
            !id.is_empty()
                && id
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>')
        };
        assert!(mail.message_id.as_deref().is_none_or(plain_id));
        assert!(mail.replied_to.iter().all(|id| plain_id(id)));
        if verdicts == flagged {
            continue;
        }
        let forward = Forward {
            config: config(),
            mail: &mail,
            raw: data,
            source: "fuzz/input.eml",
            patron: None,
            notice: None,
            linked_by: None,
            open_loans: &[],
            today: NaiveDate::from_ymd_opt(2026, 11, 29).expect("a date"),
            received_at: Utc.with_ymd_and_hms(2026, 11, 29, 10, 14, 7).unwrap(),
        };
        compose(&forward).expect("a forward can always be composed");
    }
    let _ = feedback::parse(data);
});
