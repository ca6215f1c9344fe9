//! Uploads: judged by decoding, stored upright without metadata with their
//! resized copies, served immutable, shown in posts with their size and
//! files, listed in the library, and written like any other write.

use crate::both_databases;
use crate::helpers::{Backend, Options, spawn_app, spawn_pair};
use crate::media_files::{
    SECRETS, files_of, jpeg, jpeg_with_metadata, multipart, png, png_claiming, png_with_text,
    upload, upload_count, uploaded,
};

async fn uploads_are_stored_upright_without_metadata_with_their_resized_copies(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    // Orientation 6: the camera was turned; the picture is 300 × 500 upright.
    let photo = uploaded(&admin, "photo.jpg", &jpeg_with_metadata(500, 300, 6), "").await;
    let chart = uploaded(&admin, "chart.png", &png_with_text(2100, 40), "").await;

    let photo_files = files_of(&admin, &photo).await;
    assert_eq!(photo_files.len(), 1, "300 px wide: no copy {photo_files:?}");
    let chart_files = files_of(&admin, &chart).await;
    let widths: Vec<&str> = chart_files
        .iter()
        .filter_map(|f| f.split('-').nth(1)?.split('.').next())
        .collect();
    assert_eq!(chart_files.len(), 4, "{chart_files:?}");
    for w in ["480", "960", "1920"] {
        assert!(widths.contains(&w), "{chart_files:?}");
    }

    for file in photo_files.iter().chain(&chart_files) {
        let r = app.get(file).await;
        assert_eq!(r.status().as_u16(), 200, "{file}");
        let h = r.headers().clone();
        let expected = if file.ends_with(".jpg") {
            "image/jpeg"
        } else {
            "image/png"
        };
        assert_eq!(h["content-type"], expected);
        assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
        assert_eq!(h["x-content-type-options"], "nosniff");
        let etag = h["etag"].to_str().unwrap().to_string();
        let bytes = r.bytes().await.unwrap();
        for secret in SECRETS {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} in {file}"
            );
        }
        let decoded = image::load_from_memory(&bytes).unwrap();
        if *file == photo {
            assert_eq!((decoded.width(), decoded.height()), (300, 500), "upright");
        }
        if let Some(w) = widths.iter().find(|w| file.contains(&format!("-{w}."))) {
            assert_eq!(decoded.width().to_string(), *w);
        }
        let again = admin
            .client
            .get(app.url(file))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304);
    }
    assert_eq!(
        app.get("/media/0000000000000000.jpg")
            .await
            .status()
            .as_u16(),
        404
    );
    assert_eq!(app.get("/media/..%2Fetc").await.status().as_u16(), 404);
}
both_databases!(uploads_are_stored_upright_without_metadata_with_their_resized_copies);

async fn the_same_file_uploaded_twice_is_stored_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let bytes = png(64, 48, 1);
    let first = uploaded(&admin, "a.png", &bytes, "one").await;
    let second = uploaded(&admin, "b.png", &bytes, "two").await;
    assert_eq!(first, second);
    assert_eq!(upload_count(&app.db).await, 1);
    let other = uploaded(&admin, "c.png", &png(64, 48, 2), "").await;
    assert_ne!(first, other);
    assert_eq!(upload_count(&app.db).await, 2);
}
both_databases!(the_same_file_uploaded_twice_is_stored_once);

async fn anything_but_a_whole_picture_is_refused_and_nothing_is_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let whole = jpeg(400, 300, 9);
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "image.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec(),
            422,
        ),
        (
            "page.html",
            b"<!DOCTYPE html><script>alert(1)</script>".to_vec(),
            422,
        ),
        (
            "paper.png",
            b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\nendobj\n".to_vec(),
            422,
        ),
        ("cut.jpg", whole[..whole.len() * 6 / 10].to_vec(), 422),
        (
            "polyglot.gif",
            b"GIF89a<html><script>alert(1)</script></html>".to_vec(),
            422,
        ),
        ("bomb.png", png_claiming(100_000, 100_000), 422),
        ("empty.png", Vec::new(), 422),
    ];
    for (name, bytes, status) in cases {
        let r = upload(&admin, name, &bytes, "").await;
        assert_eq!(r.status().as_u16(), status, "{name}");
        let text = r.text().await.unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).expect(&text);
        assert!(!json["error"].as_str().unwrap().is_empty(), "{name}");
    }
    // The HTML form gets the library page with the message.
    let (content_type, body) = multipart(&[
        ("csrf_token", None, admin.csrf.as_bytes()),
        ("file", Some("bomb.png"), &png_claiming(100_000, 100_000)),
    ]);
    let r = admin
        .client
        .post(admin.url("/admin/media"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("100000 × 100000"));
    // Over 20 MiB.
    let mut big = png(16, 16, 1);
    big.resize(21 * 1024 * 1024, 0);
    let r = upload(&admin, "big.png", &big, "").await;
    assert_eq!(r.status().as_u16(), 413);
    // Without the token.
    let (content_type, body) = multipart(&[("file", Some("a.png"), &png(8, 8, 1))]);
    let r = admin
        .client
        .post(admin.url("/admin/media"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(upload_count(&app.db).await, 0);
}
both_databases!(anything_but_a_whole_picture_is_refused_and_nothing_is_stored);

async fn a_post_shows_its_uploads_with_their_size_files_and_alt_text(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let wide = uploaded(&admin, "wide.png", &png(1000, 500, 4), "A wide chart").await;
    let small = uploaded(&admin, "small.jpg", &jpeg(300, 200, 5), "Unused alt").await;
    let body = format!(
        "Intro.\n\n![]({wide})\n\n![Written alt]({small})\n\n![outside](https://example.com/x.png)\n\n\
         <img src=\"{small}\" onerror=\"alert(1)\" srcset=\"javascript:alert(1) 1x\">"
    );
    let slug = admin.create("With pictures", &body).await;
    let page = app.fetch(&format!("/posts/{slug}")).await.body;
    let stem = wide.trim_start_matches("/media/").trim_end_matches(".png");
    let first = format!(
        "<img src=\"{wide}\" alt=\"A wide chart\" width=\"1000\" height=\"500\" \
         srcset=\"/media/{stem}-480.png 480w, /media/{stem}-960.png 960w, {wide} 1000w\""
    );
    assert!(page.contains(&first), "{page}");
    let first_tag = &page[page.find(&first).unwrap()..];
    let first_tag = &first_tag[..first_tag.find('>').unwrap()];
    assert!(
        !first_tag.contains("loading="),
        "the first image loads at once"
    );
    assert!(first_tag.contains("decoding=\"async\""));
    assert!(first_tag.contains("sizes=\""));
    assert!(page.contains(&format!(
        "<img src=\"{small}\" alt=\"Written alt\" width=\"300\" height=\"200\" srcset=\"{small} 300w\""
    )));
    assert!(page.contains("loading=\"lazy\""));
    assert!(page.contains("<img src=\"https://example.com/x.png\" alt=\"outside\">"));
    assert!(
        !page.contains("onerror") && !page.contains("javascript:"),
        "{page}"
    );
    assert!(page.contains(&format!(
        "<meta property=\"og:image\" content=\"https://blog.example.com{wide}\">"
    )));
    let library = admin.get("/admin/media").await.text().await.unwrap();
    assert!(library.contains("1000 × 500") && library.contains("With pictures"));
}
both_databases!(a_post_shows_its_uploads_with_their_size_files_and_alt_text);

async fn deleting_an_upload_a_post_shows_is_409_naming_the_post(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let editor = admin.get("/admin/posts/new").await.text().await.unwrap();
    assert!(
        editor.contains("enctype=\"multipart/form-data\""),
        "{editor}"
    );
    assert!(editor.contains("type=\"file\" id=\"media-file\" name=\"file\""));
    let url = uploaded(&admin, "p.png", &png(50, 50, 6), "").await;
    // The editor's Preview shows it as the post will.
    let preview = admin
        .post_form(
            "/admin/posts/new",
            &[("title", "P"), ("body", &format!("![]({url})"))],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        preview.contains("width=\"50\" height=\"50\" srcset="),
        "{preview}"
    );
    let slug = admin.create("Shows it", &format!("![]({url})")).await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM media")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let r = admin
        .post_form(&format!("/admin/media/{id}/delete"), &[])
        .await;
    assert_eq!(r.status().as_u16(), 409);
    assert!(r.text().await.unwrap().contains("Shows it"));
    assert_eq!(app.get(&url).await.status().as_u16(), 200);

    let post_id = app.post_id(&slug).await;
    let r = admin
        .edit(post_id, "Shows it", &slug, "No picture now.", true)
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let r = admin
        .post_form(&format!("/admin/media/{id}/delete"), &[])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(upload_count(&app.db).await, 0);
    assert_eq!(app.get(&url).await.status().as_u16(), 404);
    let r = admin
        .post_form(&format!("/admin/media/{id}/delete"), &[])
        .await;
    assert_eq!(r.status().as_u16(), 404);
}
both_databases!(deleting_an_upload_a_post_shows_is_409_naming_the_post);

async fn a_new_alt_text_reaches_the_cached_post_on_both_instances(backend: Backend) {
    let (a, b) = spawn_pair(Options::new(backend).await).await;
    let admin = a.login().await;
    let url = uploaded(&admin, "kite.jpg", &jpeg(200, 100, 8), "A kite").await;
    let slug = admin.create("Kites", &format!("Look:\n\n![]({url})")).await;
    let path = format!("/posts/{slug}");
    for app in [&a, &b] {
        app.fetch(&path).await;
        let warm = app.fetch(&path).await;
        assert_eq!(warm.cache, "HIT");
        assert!(warm.body.contains("alt=\"A kite\""));
    }
    let id: i64 = sqlx::query_scalar("SELECT id FROM media")
        .fetch_one(&a.db)
        .await
        .unwrap();
    let r = admin
        .post_form(&format!("/admin/media/{id}"), &[("alt", "A red kite")])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    for app in [&a, &b] {
        let page = app.fetch(&path).await;
        assert!(page.body.contains("alt=\"A red kite\""), "{}", page.body);
        assert!(!page.body.contains("alt=\"A kite\""));
    }
}
both_databases!(a_new_alt_text_reaches_the_cached_post_on_both_instances);
