//! Where things are on the page: the address in the envelope window, nothing else
//! in it, nothing off the page.

use super::*;
use crate::letter::compose::compose;
use crate::letter::fonts::Weight;
use crate::letter::layout::lay_out;
use crate::letter::page::{MM, PAGE_HEIGHT, PAGE_WIDTH};
use crate::letter::render_letter;

/// The window of a French DL envelope, as the letter aims at it (rules §8).
const WINDOW: (f64, f64, f64, f64) = (110.0, 45.0, 200.0, 90.0);

fn mm(points: f64) -> f64 {
    points * 25.4 / 72.0
}

#[test]
fn the_layout_puts_the_address_block_in_the_window() {
    let fixture = Fixture::camille();
    let layout = lay_out(&compose(&fixture.view()).unwrap());
    let address = layout.address;
    assert!((address.x / MM - 110.0).abs() < 0.01);
    assert!(
        (45.0..=50.0).contains(&(address.top / MM)),
        "top at {} mm",
        address.top / MM
    );
    assert!(address.width / MM <= 90.0);
    assert!(
        f64::from(address.bottom / MM) <= WINDOW.3,
        "bottom at {} mm",
        address.bottom / MM
    );
}

#[test]
fn the_address_is_printed_in_the_window_and_nothing_else_is() {
    let fixture = Fixture::camille();
    let pdf = render_letter(&fixture.view()).unwrap().pdf;
    let chars: Vec<Drawn> = drawn(&pdf).into_iter().filter(|c| c.page == 0).collect();
    let ascent = f64::from(Weight::Regular.face().ascent);

    let name_line = chars
        .iter()
        .find(|c| c.text == "C" && mm(c.x) > 100.0)
        .expect("the patron's name on page 1");
    assert!(
        (mm(name_line.x) - 110.0).abs() < 0.5,
        "name at x = {} mm",
        mm(name_line.x)
    );
    let top = mm(name_line.baseline - ascent * name_line.size);
    assert!((45.0..=50.0).contains(&top), "name line top at {top} mm");

    let in_window = |c: &Drawn| {
        let (left, top, right, bottom) = WINDOW;
        mm(c.end) > left && mm(c.x) < right && mm(c.baseline) > top && mm(c.baseline) < bottom
    };
    let window_text: String = chars
        .iter()
        .filter(|c| in_window(c))
        .map(|c| c.text.as_str())
        .collect();
    assert_eq!(
        window_text,
        "Camille Martin12 rue Sainte-CatherineAppartement 333000 Bordeaux"
    );
    let address_chars = chars.iter().filter(|c| in_window(c));
    assert!(
        address_chars
            .clone()
            .all(|c| mm(c.x) >= 109.9 && mm(c.end) <= 200.0)
    );
}

#[test]
fn a_long_address_wraps_within_the_window_width() {
    let mut long = patron(
        "P000126",
        "Marie-Pierre de La Tour d’Auvergne-Lauraguais",
        None,
    );
    long.address.line1 = "Résidence universitaire Village 3, bâtiment B, chambre 214".into();
    let fixture = Fixture::new("letter", long.clone(), vec![loan(&long, 1, "Chimie")]);
    let layout = lay_out(&compose(&fixture.view()).unwrap());
    assert!(f64::from(layout.address.bottom / MM) <= WINDOW.3);
    let pdf = render_letter(&fixture.view()).unwrap().pdf;
    let address: Vec<Drawn> = drawn(&pdf)
        .into_iter()
        .filter(|c| c.page == 0 && mm(c.x) >= 109.9 && mm(c.baseline) < 85.0)
        .collect();
    assert!(!address.is_empty());
    assert!(
        address.iter().all(|c| mm(c.end) <= 200.1),
        "nothing past the window's right edge"
    );
}

#[test]
fn nothing_is_drawn_off_the_page() {
    let fixture = Fixture::many(60);
    let pdf = render_letter(&fixture.view()).unwrap().pdf;
    for c in drawn(&pdf) {
        assert!(
            c.x >= 0.0 && c.end <= f64::from(PAGE_WIDTH) - 10.0 * 72.0 / 25.4,
            "{c:?}"
        );
        assert!(
            c.baseline > 0.0 && c.baseline <= f64::from(PAGE_HEIGHT) - 8.0 * 72.0 / 25.4,
            "{c:?}"
        );
    }
}
