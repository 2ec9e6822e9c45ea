use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;

#[test]
fn scratch_probe() {
    let cases = [
        ("ascii crlf", "Camille\r\nBcc: evil@example.com"),
        ("nonascii quote", "Zoë\" <evil@example.com>, \"x"),
        ("nonascii", "Zoë Ñúñez-Łukasiewicz"),
        ("viet", "Nguyễn Thị Minh"),
        ("ascii quote", "Martin, \"Cam\" \\ x"),
    ];
    for (label, name) in cases {
        let raw = MessageBuilder::new()
            .from(("Sender", "s@example.fr"))
            .to(Address::new_address(Some(name), "p@example.fr"))
            .subject(name)
            .date(0i64)
            .message_id("x@y")
            .text_body("hi")
            .write_to_string()
            .unwrap();
        let head = raw.split("\r\n\r\n").next().unwrap();
        println!("=== {label}\n{head}");
        let msg = mail_parser::MessageParser::new().parse(raw.as_bytes()).unwrap();
        println!("to = {:?}", msg.to());
        println!("bcc = {:?}", msg.bcc());
        println!("subject = {:?}", msg.subject());
    }
}
