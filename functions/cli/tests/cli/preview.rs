//! `relance preview` in a real browser: the page loads in headless Chromium with
//! no console message, shows the forecast chart, and its counts are the engine's
//! (`run --dry-run --json`); a screenshot is kept in `target/test-artefacts/`.
//! Nothing is sent or recorded.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

/// Debian's `chromium`; the test fails, never skips, when it is missing.
fn chromium() -> PathBuf {
    let candidates = [
        std::env::var_os("RELANCE_CHROMIUM").map(PathBuf::from),
        Some(PathBuf::from("/usr/bin/chromium")),
        Some(PathBuf::from("/usr/bin/chromium-browser")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "Chromium is needed to check the preview page in a browser and is not installed. \
                 `make test` installs it (scripts/browser-check.sh); by hand: apt-get install -y chromium \
                 (or set RELANCE_CHROMIUM to its path)."
            )
        })
}

/// Runs headless Chromium on `url` with a fresh profile; returns (stdout, stderr).
fn headless(url: &str, extra: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium starts");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "chromium failed: {stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// The number in `data-count` of the element that follows `marker`.
fn count_after(dom: &str, marker: &str) -> Option<u64> {
    let at = dom.find(marker)?;
    let rest = &dom[at..];
    let start = rest.find("data-count=\"")? + "data-count=\"".len();
    let end = rest[start..].find('"')?;
    rest[start..start + end].parse().ok()
}

/// The text of the element with `id`.
fn text_of(dom: &str, id: &str) -> Option<String> {
    let at = dom.find(&format!("id=\"{id}\""))?;
    let rest = &dom[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find('<')?;
    Some(rest[start..start + end].to_owned())
}

/// Every local link (href, src) of the page, entities decoded.
fn local_links(html: &str) -> Vec<String> {
    let mut links = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for (at, _) in html.match_indices(attr) {
            let rest = &html[at + attr.len()..];
            let end = rest.find('"').unwrap();
            links.push(rest[..end].replace("&#x2f;", "/").replace("&amp;", "&"));
        }
    }
    links
}

fn artefacts_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is `target/tmp`: the artefacts go beside it.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("test-artefacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_preview_page_renders_in_chromium_with_the_engines_counts_and_the_chart() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 400);
    let date = TODAY;
    let dry = json(&ok(relance(
        &config,
        &["run", "--dry-run", "--date", date, "--json"],
    )));
    let out_dir = dir.path().join("preview-out");
    let printed = ok(relance(
        &config,
        &[
            "preview",
            "--date",
            date,
            "--out",
            out_dir.to_str().unwrap(),
        ],
    ));
    assert!(printed.contains("nothing sent or recorded"), "{printed}");

    // Nothing recorded, nothing in the outbox.
    let status = json(&ok(relance(&config, &["status", "--json"])));
    assert_eq!(status["watermark"], serde_json::Value::Null);
    assert_eq!(status["pending"], serde_json::json!([]));
    assert!(!dir.path().join("var/outbox").exists());

    let page = out_dir.join("index.html");
    let html = std::fs::read_to_string(&page).unwrap();
    for link in local_links(&html) {
        assert!(
            out_dir.join(&link).is_file(),
            "the page links {link}, which exists"
        );
    }

    let url = format!("file://{}", page.display());
    let (dom, log) = headless(&url, &["--dump-dom", "--virtual-time-budget=5000"]);
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    assert!(
        dom.contains("<h1>Ce qui part le"),
        "the page rendered: {dom}"
    );

    // The chart is there, with bars.
    let chart = &dom[dom.find("id=\"chart\"").expect("the chart figure")..];
    let svg_end = chart.find("</svg>").expect("an inline SVG");
    assert!(chart[..svg_end].contains("<svg"));
    assert!(chart[..svg_end].matches("<rect").count() > 5);

    // The counts per stage are the engine's.
    let notices = dry["notices"].as_object().unwrap();
    assert!(!notices.is_empty(), "{dry}");
    let mut total = 0;
    for stage in ["courtesy", "first_reminder", "second_reminder", "letter"] {
        let expected = notices.get(stage).and_then(|v| v.as_u64()).unwrap_or(0);
        total += expected;
        let shown = count_after(&dom, &format!("<tr data-stage=\"{stage}\">"))
            .unwrap_or_else(|| panic!("a row for {stage}"));
        assert_eq!(shown, expected, "{stage}");
    }
    assert_eq!(count_after(&dom, "id=\"total\""), Some(total));

    // Each email it would send is there as an .eml, beside its HTML part.
    let emls: Vec<PathBuf> = files_under(&out_dir.join("mail"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .filter(|p| {
            !p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("letters-")
        })
        .collect();
    let sent: usize = text_of(&dom, "emails-sent").unwrap().parse().unwrap();
    assert_eq!(emls.len(), sent);
    assert!(sent > 0);
    for eml in &emls {
        assert!(eml.with_extension("html").is_file(), "{}", eml.display());
    }
    let letters: usize = text_of(&dom, "letters-rendered").unwrap().parse().unwrap();
    assert!(letters > 0 && out_dir.join("letters").is_dir());

    // The screenshot, kept for a human to look at.
    let shot = artefacts_dir().join(format!("preview-{date}.png"));
    let _ = std::fs::remove_file(&shot);
    headless(
        &url,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2400",
            "--hide-scrollbars",
        ],
    );
    let png = std::fs::read(&shot).expect("the screenshot is written");
    assert!(png.starts_with(b"\x89PNG"), "a PNG at {}", shot.display());
    eprintln!("screenshot: {}", shot.display());
}

#[test]
fn a_preview_shows_how_the_day_compares_with_the_previous_run() {
    let dir = tempfile::tempdir().unwrap();
    let config = imported_sample(dir.path(), 200);
    let yesterday = json(&ok(relance(
        &config,
        &["run", "--date", &day(-1), "--json"],
    )));
    ok(relance(&config, &["preview", "--date", TODAY]));
    let page = dir.path().join(format!("var/preview/{TODAY}/index.html"));
    let html = std::fs::read_to_string(page).unwrap();
    // The sample institution writes French.
    assert!(
        html.contains("tel que le registre l&#x27;a enregistré lors des exécutions de ce jour")
    );
    for (stage, n) in yesterday["notices"].as_object().unwrap() {
        let row = &html[html.find(&format!("<tr data-stage=\"{stage}\">")).unwrap()..];
        let previous = &row[row.find("class=\"n previous\"").unwrap()..];
        assert!(
            previous.starts_with(&format!("class=\"n previous\" data-count=\"{n}\"")),
            "{stage}: {}",
            &previous[..60]
        );
    }
    // The preview of an unrecorded day compares with a dry run of the day before.
    ok(relance(&config, &["preview", "--date", &day(5)]));
    let html = std::fs::read_to_string(
        dir.path()
            .join(format!("var/preview/{}/index.html", day(5))),
    )
    .unwrap();
    assert!(html.contains(
        "aucune exécution de ce jour n&#x27;est enregistrée : ce que run --dry-run pour ce jour \
         planifierait maintenant"
    ));
}
