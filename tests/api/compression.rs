//! Compression (SPEC, Compression): pages are stored compressed and sent in
//! the encoding `Accept-Encoding` asks for, each with its own `ETag`.
//! reqwest is built without its decompression features, so the bytes seen
//! here are the bytes on the wire; they are decoded with brotli and flate2.

use crate::both_databases;
use crate::helpers::{Backend, Options, browser, spawn_app, spawn_pair, x_cache};
use reqwest::{Method, Response};
use std::io::Read;

const BR_GZIP: Option<&str> = Some("br, gzip");

/// A visitor's request with these headers, read whole.
struct Got {
    status: u16,
    cache: String,
    encoding: Option<String>,
    etag: String,
    vary: String,
    content_type: String,
    length: Option<String>,
    bytes: Vec<u8>,
}

async fn request(
    method: Method,
    url: &str,
    accept_encoding: Option<&str>,
    if_none_match: Option<&str>,
) -> Got {
    let mut request = browser().request(method, url);
    if let Some(value) = accept_encoding {
        request = request.header("accept-encoding", value);
    }
    if let Some(value) = if_none_match {
        request = request.header("if-none-match", value);
    }
    let response = request.send().await.expect("request succeeds");
    read(response).await
}

async fn read(response: Response) -> Got {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    Got {
        status: response.status().as_u16(),
        cache: x_cache(&response),
        encoding: header("content-encoding"),
        etag: header("etag").unwrap_or_default(),
        vary: header("vary").unwrap_or_default(),
        content_type: header("content-type").unwrap_or_default(),
        length: header("content-length"),
        bytes: response.bytes().await.unwrap().to_vec(),
    }
}

async fn get(url: &str, accept_encoding: Option<&str>) -> Got {
    request(Method::GET, url, accept_encoding, None).await
}

/// The body as the client would see it after undoing `Content-Encoding`.
fn decoded(got: &Got) -> Vec<u8> {
    let mut out = Vec::new();
    match got.encoding.as_deref() {
        None => out.clone_from(&got.bytes),
        Some("br") => {
            brotli::Decompressor::new(&got.bytes[..], 4096)
                .read_to_end(&mut out)
                .expect("valid brotli");
        }
        Some("gzip") => {
            flate2::read::GzDecoder::new(&got.bytes[..])
                .read_to_end(&mut out)
                .expect("valid gzip");
        }
        Some(other) => panic!("unexpected content-encoding {other}"),
    }
    out
}

fn text(got: &Got) -> String {
    String::from_utf8(decoded(got)).expect("UTF-8 page")
}

async fn every_page_decodes_to_exactly_the_identity_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let slug = admin.create("Squeezed", "A body worth compressing.").await;
    admin.create_tagged("Tagged", "rust").await;
    let paths = [
        "/".to_string(),
        format!("/posts/{slug}"),
        "/tags/rust".to_string(),
        "/about".to_string(),
        "/feed.xml".to_string(),
        "/sitemap.xml".to_string(),
    ];
    for path in &paths {
        let url = app.url(path);
        // The miss compresses; every later answer is a hit in some encoding.
        let first = get(&url, BR_GZIP).await;
        assert_eq!(
            (first.status, first.cache.as_str()),
            (200, "MISS"),
            "{path}"
        );
        let plain = get(&url, None).await;
        assert_eq!((plain.status, plain.cache.as_str()), (200, "HIT"), "{path}");
        assert_eq!(plain.encoding, None, "{path}: no header means identity");
        let br = get(&url, BR_GZIP).await;
        let gzip = get(&url, Some("gzip")).await;
        assert_eq!(br.encoding.as_deref(), Some("br"), "{path}");
        assert_eq!(gzip.encoding.as_deref(), Some("gzip"), "{path}");
        for got in [&first, &br, &gzip] {
            assert_eq!(decoded(got), plain.bytes, "{path}: the same page");
            assert_eq!(got.content_type, plain.content_type, "{path}");
            assert!(got.bytes.len() < plain.bytes.len(), "{path}: smaller");
        }
        for got in [&plain, &br, &gzip] {
            assert_eq!(got.vary, "Cookie, Accept-Encoding", "{path}");
            assert_eq!(got.length, Some(got.bytes.len().to_string()), "{path}");
        }
        let tags = [&plain.etag, &br.etag, &gzip.etag];
        assert!(
            tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2],
            "{path}: an ETag per encoding, got {tags:?}"
        );
        assert_eq!(first.etag, br.etag, "{path}: the same bytes, the same tag");
    }
}
both_databases!(every_page_decodes_to_exactly_the_identity_page);

async fn q_values_choose_the_encoding(backend: Backend) {
    let app = spawn_app(backend).await;
    let url = app.url("/");
    let plain = get(&url, None).await;
    for (accept, expected) in [
        ("gzip, deflate, br, zstd", Some("br")),
        ("br;q=0, gzip", Some("gzip")),
        ("br;q=0.5, gzip;q=0.9", Some("gzip")),
        ("br;q=0.9, gzip;q=0.9", Some("br")),
        ("identity, gzip;q=0.5", None),
        ("*", Some("br")),
        ("br;q=0, *", Some("gzip")),
        ("deflate, zstd", None),
        ("br;q=0, gzip;q=0", None),
        ("br;q=nonsense", None),
        ("", None),
        // Everything refused: folio sends identity rather than a 406.
        ("*;q=0", None),
        ("identity;q=0", None),
        ("br;q=0, gzip;q=0, identity;q=0", None),
    ] {
        let got = get(&url, Some(accept)).await;
        assert_eq!(got.status, 200, "{accept:?}");
        assert_eq!(got.encoding.as_deref(), expected, "{accept:?}");
        assert_eq!(decoded(&got), plain.bytes, "{accept:?}");
    }
}
both_databases!(q_values_choose_the_encoding);

async fn each_encoding_answers_304_for_its_own_etag(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let slug = admin.create("Validated", "body").await;
    for path in ["/".to_string(), format!("/posts/{slug}")] {
        let url = app.url(&path);
        let br = get(&url, Some("br")).await;
        let gzip = get(&url, Some("gzip")).await;
        let plain = get(&url, None).await;
        for (accept, got) in [(Some("br"), &br), (Some("gzip"), &gzip), (None, &plain)] {
            let again = request(Method::GET, &url, accept, Some(&got.etag)).await;
            assert_eq!(again.status, 304, "{path} {accept:?}");
            assert!(again.bytes.is_empty());
            assert_eq!(again.etag, got.etag, "{path} {accept:?}");
            assert_eq!(again.vary, "Cookie, Accept-Encoding", "{path}");
        }
        // A tag of another encoding is not these bytes: the full page.
        let other = request(Method::GET, &url, Some("gzip"), Some(&br.etag)).await;
        assert_eq!(other.status, 200, "{path}");
        assert_eq!(other.encoding.as_deref(), Some("gzip"));
        assert_eq!(decoded(&other), plain.bytes);
        let other = request(Method::GET, &url, None, Some(&gzip.etag)).await;
        assert_eq!((other.status, other.encoding), (200, None), "{path}");
    }
}
both_databases!(each_encoding_answers_304_for_its_own_etag);

async fn head_has_the_headers_of_get(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let slug = admin.create("Headed", "body").await;
    for path in [
        "/".to_string(),
        format!("/posts/{slug}"),
        "/feed.xml".into(),
    ] {
        let url = app.url(&path);
        get(&url, None).await;
        for accept in [Some("br"), Some("gzip"), None] {
            let got = get(&url, accept).await;
            let head = request(Method::HEAD, &url, accept, None).await;
            assert_eq!(head.status, 200, "{path} {accept:?}");
            assert!(head.bytes.is_empty(), "{path} {accept:?}");
            assert_eq!(
                (&head.cache, &head.encoding, &head.etag, &head.vary),
                (&got.cache, &got.encoding, &got.etag, &got.vary),
                "{path} {accept:?}"
            );
            assert_eq!(head.content_type, got.content_type, "{path} {accept:?}");
            assert_eq!(head.length, got.length, "{path} {accept:?}");
            assert_eq!(head.length, Some(got.bytes.len().to_string()));
        }
    }
}
both_databases!(head_has_the_headers_of_get);

async fn a_write_removes_every_encoding_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let slug = admin.create("Before", "old words").await;
    let id = app.post_id(&slug).await;
    let paths = [
        "/".to_string(),
        format!("/posts/{slug}"),
        "/feed.xml".into(),
    ];
    for path in &paths {
        for accept in [BR_GZIP, Some("gzip"), None] {
            get(&app.url(path), accept).await;
        }
        let hit = get(&app.url(path), Some("gzip")).await;
        assert_eq!(hit.cache, "HIT", "{path}");
        assert!(text(&hit).contains("Before"), "{path}");
    }
    let r = admin.edit(id, "After", &slug, "new words", true).await;
    assert_eq!(r.status().as_u16(), 303);
    for path in &paths {
        for accept in [BR_GZIP, Some("gzip"), None] {
            let got = get(&app.url(path), accept).await;
            let page = text(&got);
            assert!(
                page.contains("After") && !page.contains("Before"),
                "{path} {accept:?}: no stale encoding beside a fresh one"
            );
        }
    }
}
both_databases!(a_write_removes_every_encoding_at_once);

async fn two_instances_serve_each_others_compressed_pages(backend: Backend) {
    let (first, second) = spawn_pair(Options::new(backend).await).await;
    let admin = first.login().await;
    let slug = admin.create("Shared", "one body").await;
    let id = first.post_id(&slug).await;
    let path = format!("/posts/{slug}");
    let filled = get(&first.url(&path), BR_GZIP).await;
    assert_eq!(filled.cache, "MISS");
    let plain = get(&second.url(&path), None).await;
    assert_eq!(
        plain.cache, "HIT",
        "the other instance reads the stored entry"
    );
    for accept in [BR_GZIP, Some("gzip")] {
        let got = get(&second.url(&path), accept).await;
        assert_eq!(got.cache, "HIT");
        assert_eq!(decoded(&got), plain.bytes);
    }
    assert_eq!(get(&second.url(&path), BR_GZIP).await.etag, filled.etag);
    admin.edit(id, "Changed", &slug, "two body", true).await;
    for app in [&first, &second] {
        for accept in [BR_GZIP, Some("gzip"), None] {
            let page = text(&get(&app.url(&path), accept).await);
            assert!(page.contains("Changed") && !page.contains("Shared"));
        }
    }
}
both_databases!(two_instances_serve_each_others_compressed_pages);

async fn redis_holds_less_than_the_plain_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    for i in 0..12 {
        admin
            .create(&format!("Post number {i}"), "Some words to store.")
            .await;
    }
    let mut conn = app.redis().await;
    for path in ["/", "/feed.xml"] {
        let plain = get(&app.url(path), None).await;
        let key = format!("{}view/{path}", app.prefix);
        let stored: usize = redis::cmd("STRLEN")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        let memory: usize = redis::cmd("MEMORY")
            .arg("USAGE")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        let plain = plain.bytes.len();
        // Both encodings together stay well under the plain page.
        assert!(stored * 2 < plain, "{path}: {stored} stored for {plain}");
        assert!(
            memory < plain,
            "{path}: {memory} bytes of Redis for {plain}"
        );
    }
}
both_databases!(redis_holds_less_than_the_plain_page);

async fn static_text_assets_and_robots_are_compressed(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/static/css/site.css", "/static/js/editor.js"] {
        let url = app.url(path);
        let plain = get(&url, None).await;
        assert_eq!((plain.status, plain.encoding.as_deref()), (200, None));
        let mut tags = vec![plain.etag.clone()];
        for (accept, coding) in [(BR_GZIP, "br"), (Some("gzip"), "gzip")] {
            let got = get(&url, accept).await;
            assert_eq!(got.encoding.as_deref(), Some(coding), "{path}");
            assert_eq!(decoded(&got), plain.bytes, "{path} {coding}");
            assert!(got.bytes.len() < plain.bytes.len(), "{path} {coding}");
            assert_eq!(got.vary, "Accept-Encoding");
            assert_eq!(got.content_type, plain.content_type);
            let again = request(Method::GET, &url, accept, Some(&got.etag)).await;
            assert_eq!(again.status, 304, "{path} {coding}");
            tags.push(got.etag);
        }
        tags.sort();
        tags.dedup();
        assert_eq!(tags.len(), 3, "{path}: an ETag per encoding");
    }
    let icon = get(&app.url("/static/img/favicon.svg"), Some("gzip")).await;
    assert_eq!(icon.encoding.as_deref(), Some("gzip"));
    assert!(text(&icon).contains("<svg"));
    let robots = get(&app.url("/robots.txt"), BR_GZIP).await;
    assert_eq!(robots.encoding.as_deref(), Some("br"));
    assert_eq!(
        decoded(&robots),
        get(&app.url("/robots.txt"), None).await.bytes
    );
    assert!(text(&robots).starts_with("User-agent: *"));
}
both_databases!(static_text_assets_and_robots_are_compressed);

async fn an_admins_render_is_sent_plain(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let response = admin
        .client
        .get(admin.url("/"))
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    let got = read(response).await;
    assert_eq!((got.status, got.cache.as_str()), (200, "BYPASS"));
    assert_eq!(
        got.encoding, None,
        "a page with a CSRF token is not compressed"
    );
    assert!(String::from_utf8(got.bytes).unwrap().contains("<html"));
}
both_databases!(an_admins_render_is_sent_plain);
