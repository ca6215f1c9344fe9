//! Feeds and the sitemap are well-formed XML with RFC 3339 dates whatever
//! the admin typed: one-line fields refuse characters XML 1.0 forbids (`422`,
//! input kept), pasted text loses them, publish times outside 1970–9999 are
//! refused, and renders filter rows written before those checks.

use crate::both_databases;
use crate::helpers::{Admin, Backend, TestApp, slug_of, spawn_app};

/// Characters XML 1.0 forbids that a paste or a keyboard can bring in.
const FORBIDDEN: [char; 6] = ['\u{8}', '\u{B}', '\u{C}', '\u{1B}', '\u{FFFE}', '\u{FFFF}'];

fn has_forbidden(text: &str) -> bool {
    text.contains(FORBIDDEN)
}

/// Parses `text` as XML, or fails the test with the parser's message.
pub fn parse<'a>(what: &str, text: &'a str) -> roxmltree::Document<'a> {
    roxmltree::Document::parse(text)
        .unwrap_or_else(|e| panic!("{what} is not well-formed XML: {e}\n{text}"))
}

/// Every date element of a feed or sitemap is RFC 3339; returns them.
pub fn rfc3339_dates(what: &str, doc: &roxmltree::Document<'_>) -> Vec<String> {
    let dates: Vec<String> = doc
        .descendants()
        .filter(|n| matches!(n.tag_name().name(), "published" | "updated" | "lastmod"))
        .map(|n| n.text().unwrap_or_default().to_string())
        .collect();
    for date in &dates {
        assert!(
            chrono::DateTime::parse_from_rfc3339(date).is_ok(),
            "{what}: {date:?} is not RFC 3339"
        );
    }
    dates
}

/// The site feed, the tag's feed and the sitemap, each parsed and its dates
/// checked; their texts.
async fn feeds_parse(app: &TestApp, tag: &str) -> Vec<String> {
    let mut texts = Vec::new();
    for path in [
        "/feed.xml",
        &format!("/tags/{tag}/feed.xml"),
        "/sitemap.xml",
    ] {
        let page = app.fetch(path).await;
        assert_eq!(page.status, 200, "{path}");
        let doc = parse(path, &page.body);
        assert!(!rfc3339_dates(path, &doc).is_empty(), "{path} has dates");
        texts.push(page.body);
    }
    texts
}

async fn refused(admin: &Admin, path: &str, fields: &[(&str, &str)], field: &str, typed: &str) {
    let r = admin.post_form(path, fields).await;
    assert_eq!(r.status().as_u16(), 422, "{path} {field}={typed:?}");
    let page = r.text().await.unwrap();
    assert!(
        page.contains(&format!("id=\"{field}-error\"")),
        "{field}: the message is under the field"
    );
    assert!(page.contains(typed), "{field}: the input is kept");
}

async fn one_line_fields_refuse_characters_xml_forbids_with_the_input_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    for c in FORBIDDEN {
        let title = format!("Bad{c}title");
        refused(
            &admin,
            "/admin/posts",
            &[("title", &title), ("body", "b"), ("published", "on")],
            "title",
            &title,
        )
        .await;
        let tags = format!("fine, bad{c}tag");
        refused(
            &admin,
            "/admin/posts",
            &[("title", "T"), ("body", "b"), ("tags", &tags)],
            "tags",
            &tags,
        )
        .await;
        refused(
            &admin,
            "/admin/settings",
            &[("title", &title), ("tagline", ""), ("about", "")],
            "title",
            &title,
        )
        .await;
        let tagline = format!("A{c}tagline");
        refused(
            &admin,
            "/admin/settings",
            &[("title", "Site"), ("tagline", &tagline), ("about", "")],
            "tagline",
            &tagline,
        )
        .await;
    }
    // Nothing was saved.
    let posts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM posts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(posts, 0);
    let feed = app.fetch("/feed.xml").await.body;
    assert!(
        parse("/feed.xml", &feed)
            .descendants()
            .any(|n| n.text() == Some("folio"))
    );
}
both_databases!(one_line_fields_refuse_characters_xml_forbids_with_the_input_kept);

async fn pasted_bodies_and_about_lose_them_and_every_feed_stays_xml(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let pasted: String = FORBIDDEN.iter().flat_map(|&c| [c, 'x']).collect();
    // A character reference decodes to a forbidden character in the HTML.
    let body = format!("Pasted {pasted} text &#8; &#xFFFF; end");
    let r = admin
        .submit_post(
            None,
            &[
                ("title", "Clean title"),
                ("body", &body),
                ("tags", "xml"),
                ("published", "on"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let slug = slug_of(&r);
    let r = admin
        .settings("Site", "Tag line", &format!("About {pasted}"))
        .await;
    assert_eq!(r.status().as_u16(), 303);

    let id = app.post_id(&slug).await;
    let (stored, html): (String, String) =
        sqlx::query_as("SELECT body, body_html FROM posts WHERE id = $1")
            .bind(id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(stored.contains("Pasted xxxxxx text"), "{stored:?}");
    assert!(!has_forbidden(&stored) && !has_forbidden(&html), "{html:?}");
    for path in [format!("/posts/{slug}"), "/about".to_string()] {
        let page = app.fetch(&path).await;
        assert_eq!(page.status, 200);
        assert!(!has_forbidden(&page.body), "{path}");
    }
    let texts = feeds_parse(&app, "xml").await;
    assert!(texts[0].contains("Pasted xxxxxx text") && texts[0].contains("Tag line"));
    assert!(texts[2].contains(&format!("/posts/{slug}")));
}
both_databases!(pasted_bodies_and_about_lose_them_and_every_feed_stays_xml);

async fn publish_times_outside_1970_to_9999_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    for at in [
        "-0001-01-01T00:00",
        "0000-01-01T00:00",
        "1969-12-31T23:59:59",
        "+10000-01-01T00:00",
        "10000-01-01T00:00",
    ] {
        refused(
            &admin,
            "/admin/posts",
            &[
                ("title", "Dated"),
                ("body", "b"),
                ("tags", "old"),
                ("published", "on"),
                ("publish_at", at),
            ],
            "publish_at",
            at,
        )
        .await;
    }
    // The edges of the range are accepted, and feeds still parse.
    for (title, at) in [
        ("First", "1970-01-01T00:00"),
        ("Last", "9999-12-31T23:59:59"),
    ] {
        let r = admin
            .submit_post(
                None,
                &[
                    ("title", title),
                    ("body", "b"),
                    ("tags", "old"),
                    ("published", "on"),
                    ("publish_at", at),
                ],
            )
            .await;
        assert_eq!(r.status().as_u16(), 303, "{at}");
    }
    // The last one is scheduled, so only the first is in the feeds.
    let texts = feeds_parse(&app, "old").await;
    assert!(texts[0].contains("<published>1970-01-01T00:00:00Z</published>"));
}
both_databases!(publish_times_outside_1970_to_9999_are_refused);

async fn rows_stored_before_the_checks_still_give_well_formed_feeds(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let slug = admin.create_tagged("Old row", "legacy").await;
    let id = app.post_id(&slug).await;
    // As an older folio stored them: nothing is cached yet, so the next
    // renders read these rows.
    sqlx::query(
        "UPDATE posts SET title = $1, body_html = $2, published_at = $3, updated_at = $3 \
         WHERE id = $4",
    )
    .bind("Old\u{8} row\u{FFFF}")
    .bind("<p>text\u{1B}\u{C}</p>")
    .bind(-62_198_755_200_i64) // -0001-01-01T00:00:00Z
    .bind(id)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO settings (name, value) VALUES ('site_tagline', $1) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    )
    .bind("tag\u{B}line")
    .execute(&app.db)
    .await
    .unwrap();
    let texts = feeds_parse(&app, "legacy").await;
    assert!(texts[0].contains("Old row") && texts[0].contains("tagline"));
    assert!(texts[0].contains("<published>1970-01-01T00:00:00Z</published>"));
}
both_databases!(rows_stored_before_the_checks_still_give_well_formed_feeds);
