//! folio in a real headless Chromium, driven over WebDriver: a visitor reads
//! and pages through the blog, follows a tag and a neighbour link; the admin
//! logs in, names the site, writes a post with code and previews it in the
//! editor, schedules another and opens its preview link; after the logout the
//! visitor sees the new title and post at once, and the cache panel counts. On the
//! way it checks what a person would notice (horizontal scrolling on a
//! phone, unlabelled controls, invisible focus, errors far from their field)
//! and takes screenshots: into docs/screenshots/ with FOLIO_SCREENSHOTS=1
//! (`scripts/screenshots`), otherwise into the temp dir.
//!
//! Needs /usr/bin/chromium and /usr/bin/chromedriver (`scripts/browser-deps`);
//! without them it says so and skips.

// A test crate's root resolves modules beside itself, so name the folder.
#[path = "browser/app.rs"]
mod app;
#[path = "browser/checks.rs"]
mod checks;
#[path = "browser/driver.rs"]
mod driver;
#[path = "browser/page.rs"]
mod page;
#[path = "browser/pictures.rs"]
mod pictures;
#[path = "browser/steps.rs"]
mod steps;

use app::{ADMIN_PASSWORD, ADMIN_USER, Folio};
use fantoccini::Locator;
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;

const DESKTOP: (u32, u32) = (1280, 900);
/// Where the post the admin writes ends up (its slug comes from its title).
const NEW_POST_PATH: &str =
    "/posts/highlighted-code-from-a-browser-supercalifragilisticexpialidocious";
const PHONE: (u32, u32) = (390, 844);
/// The site title the admin sets.
const SITE_TITLE: &str = "Notes from a browser";
/// The post the admin schedules for tomorrow.
const SCHEDULED_TITLE: &str = "A post for tomorrow";
const SCHEDULED_PATH: &str = "/posts/a-post-for-tomorrow";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_and_the_admin_use_the_blog_in_a_real_browser() {
    if let Some(why) = driver::missing() {
        eprintln!("SKIPPED the browser test: {why}");
        return;
    }
    let folio = Folio::start().await;
    let seeded = folio.seed(15).await;
    let browser = driver::Browser::launch().await;
    let mut run = Run {
        page: page::Page {
            client: browser.client.clone(),
            base: folio.base.clone(),
        },
        shots: screenshot_dir(),
        findings: Vec::new(),
    };
    // The session is closed (Chromium exits) even when a step panics.
    let outcome = AssertUnwindSafe(run.scenario(&seeded)).catch_unwind().await;
    browser.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    println!("screenshots: {}", run.shots.display());
    run.report();
}

struct Run {
    page: page::Page,
    shots: PathBuf,
    /// `(page, check, what is wrong)`
    findings: Vec<(&'static str, &'static str, String)>,
}

fn screenshot_dir() -> PathBuf {
    let dir = if std::env::var("FOLIO_SCREENSHOTS").as_deref() == Ok("1") {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots")
    } else {
        std::env::temp_dir().join("folio-browser-screenshots")
    };
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Run {
    async fn scenario(&mut self, seeded: &[String]) {
        driver::set_viewport(&self.page.client, DESKTOP.0, DESKTOP.1).await;

        // A visitor reads the index: the ten newest posts, then page 2.
        self.page.goto("/").await;
        assert_eq!(self.page.texts(".summary__title a").await.len(), 10);
        assert_eq!(self.page.texts(".summary__title a").await[0], seeded[14]);
        assert_eq!(self.page.text(".pagination__status").await, "Page 1 of 2");
        self.keyboard_focus_is_visible().await;
        self.favicon_is_served().await;
        self.look("index").await;
        self.page.click("a[rel=next]").await;
        self.page.wait_for_path("/?page=2").await;
        assert_eq!(self.page.texts(".summary__title a").await.len(), 5);
        assert_eq!(self.page.text(".pagination__status").await, "Page 2 of 2");
        self.page.click("a[rel=prev]").await;
        self.page.wait_for_path("/").await;

        // … and opens a post: rendered Markdown with its code highlighted.
        let first = self
            .page
            .client
            .find(Locator::Css(".summary__title a"))
            .await;
        let href = first.unwrap().attr("href").await.unwrap().unwrap();
        self.page.click(".summary__title a").await;
        self.page.wait_for_path(&href).await;
        assert_eq!(self.page.text("h1.post__title").await, seeded[14]);
        assert!(!self.page.texts(".prose h2").await.is_empty());
        self.code_is_highlighted().await;
        self.check_layout("a long post").await;

        // … follows one of its tags, comes back, and reads the post before it.
        let tag = self.page.text(".post__header .tags a").await;
        self.page.click(".post__header .tags a").await;
        self.page.wait_for_path(&format!("/tags/{tag}")).await;
        assert_eq!(
            self.page.text(".list-header h1").await,
            format!("Posts tagged {tag}")
        );
        assert!(
            self.page
                .texts(".summary__title a")
                .await
                .contains(&seeded[14])
        );
        self.page
            .click(&format!(".summary__title a[href='{href}']"))
            .await;
        self.page.wait_for_path(&href).await;
        self.page.click(".neighbours a[rel=prev]").await;
        assert_eq!(self.page.text("h1.post__title").await, seeded[13]);
        self.page.click(".neighbours a[rel=next]").await;
        self.page.wait_for_path(&href).await;

        // The admin logs in through the form; a wrong password says so.
        self.page.click(".site-nav a[href='/login']").await;
        self.page.wait_for_path("/login").await;
        self.look("login").await;
        self.log_in("not the password").await;
        assert!(
            self.page
                .text("[role=alert]")
                .await
                .contains("Wrong username or password")
        );
        assert_eq!(self.page.value("#username").await, ADMIN_USER);
        self.log_in(ADMIN_PASSWORD).await;
        self.page.wait_for_path("/").await;
        assert!(self.page.exists(".site-nav form[action='/logout']").await);

        // … names the site.
        self.page.click(".site-nav a[href='/admin']").await;
        self.page.wait_for_path("/admin").await;
        self.page.click("main a[href='/admin/settings']").await;
        self.page.wait_for_path("/admin/settings").await;
        self.page.type_into("#title", SITE_TITLE).await;
        self.page.submit("#title").await;
        self.page.wait_for_path("/admin/settings").await;
        assert_eq!(self.page.value("#title").await, SITE_TITLE);

        // … writes a post with a fenced Rust block; an empty title is refused.
        self.page
            .click(".site-nav a[href='/admin/posts/new']")
            .await;
        self.page.wait_for_path("/admin/posts/new").await;
        // One word wider than a phone: the title must wrap, not widen the page.
        let title = "Highlighted code from a browser, supercalifragilisticexpialidocious";
        self.page.type_into("#body", POST_BODY).await;
        self.page.type_into("#tags", "rust, testing").await;
        self.look("editor").await;
        self.empty_title_is_refused().await;
        assert!(
            self.page.value("#body").await.contains("fn hit_ratio"),
            "kept"
        );
        self.page.type_into("#title", title).await;
        assert_eq!(
            self.page.text("#title-count").await,
            format!("{} / 200", title.chars().count()),
            "the count follows the typing"
        );
        self.preview_in_the_editor(title).await;
        self.page.submit("#title").await;
        self.page.wait_for_path(NEW_POST_PATH).await;
        assert_eq!(self.page.text("h1.post__title").await, title);
        self.code_is_highlighted().await;
        self.code_scrolls_inside_itself_on_a_phone().await;
        let preview_link = self.schedule_a_post().await;
        self.page.goto(NEW_POST_PATH).await;

        // … logs out, and a visitor sees the new title and post at once, not
        // the scheduled one, which only its preview link shows.
        self.page
            .click(".site-nav form[action='/logout'] button")
            .await;
        self.page.wait_for_path("/").await;
        assert!(self.page.exists(".site-nav a[href='/login']").await);
        assert_eq!(self.page.text(".site-title").await, SITE_TITLE);
        let titles = self.page.texts(".summary__title a").await;
        assert_eq!(titles[0], title);
        assert!(!titles.iter().any(|t| t == SCHEDULED_TITLE), "{titles:?}");
        self.page.goto(&preview_link).await;
        assert_eq!(self.page.text("h1.post__title").await, SCHEDULED_TITLE);
        self.page.goto("/").await;
        assert_eq!(self.page.texts(".summary__title a").await[0], title);
        self.check_layout("index with a long word").await;
        self.page.click(".summary__title a").await;
        self.page.wait_for_path(NEW_POST_PATH).await;
        self.look("post").await;
        self.dark_scheme_is_followed().await;

        // A visitor who mistypes an address is helped on.
        self.page.goto("/posts/no-such-post").await;
        assert_eq!(self.page.text("h1").await, "Page not found");
        assert!(self.page.exists("main a[href='/']").await);
        assert!(self.page.exists("main a[href='/feed.xml']").await);
        assert_eq!(self.page.texts(".recent-posts a").await[0], title);
        self.look("not-found").await;

        // The admin's cache panel counts the visitors' hits and misses.
        self.page.goto("/login").await;
        self.log_in(ADMIN_PASSWORD).await;
        self.page.wait_for_path("/").await;
        self.page.click(".site-nav a[href='/debug/cache']").await;
        self.page.wait_for_path("/debug/cache").await;
        let stats = self.page.texts(".stat").await;
        for label in ["hits", "misses"] {
            let stat = stats
                .iter()
                .find(|s| s.ends_with(label))
                .unwrap_or_else(|| panic!("the panel shows {label}: {stats:?}"));
            let count: u64 = stat.split_whitespace().next().unwrap().parse().unwrap();
            assert!(count >= 1, "{label}: {stat}");
        }
        self.look("panel").await;
        self.picture_in_a_post().await;
    }

    /// The editor's Preview button shows the unsaved post rendered (code
    /// highlighted) above the form, with every field kept.
    async fn preview_in_the_editor(&mut self, title: &str) {
        self.page.click("form:has(#title) button[formaction]").await;
        self.page.wait_for_path("/admin/posts/new").await;
        assert_eq!(self.page.text(".editor-preview .post__title").await, title);
        assert!(self.page.exists(".editor-preview .prose pre code").await);
        self.code_is_highlighted().await;
        assert_eq!(self.page.value("#title").await, title);
        assert!(self.page.value("#body").await.contains("fn hit_ratio"));
        assert_eq!(self.page.value("#tags").await, "rust, testing");
        self.look("editor-preview").await;
    }

    /// The admin schedules a post for tomorrow, sees it marked so, and opens
    /// the preview link its edit page offers; returns that link.
    async fn schedule_a_post(&mut self) -> String {
        self.page
            .click(".site-nav a[href='/admin/posts/new']")
            .await;
        self.page.type_into("#title", SCHEDULED_TITLE).await;
        self.page.type_into("#body", "Not yet.").await;
        let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
            .format("%Y-%m-%dT%H:%M")
            .to_string();
        // A datetime-local field takes typed digits in the locale's order;
        // setting its value is what every locale ends with.
        self.page
            .client
            .execute(
                "document.getElementById('publish_at').value = arguments[0]",
                vec![serde_json::json!(tomorrow)],
            )
            .await
            .unwrap();
        self.page.submit("#title").await;
        self.page.wait_for_path(SCHEDULED_PATH).await;
        assert!(
            self.page
                .text(".post__header .badge")
                .await
                .starts_with("Scheduled for")
        );
        self.page
            .click(".post__header .meta a[href$='/edit']")
            .await;
        assert_eq!(self.page.value("#publish_at").await, tomorrow);
        let link = self
            .page
            .client
            .find(Locator::Css(".preview-link a"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        assert!(link.starts_with("/preview/"), "{link}");
        self.page.click(".preview-link a").await;
        self.page.wait_for_path(&link).await;
        assert_eq!(self.page.text("h1.post__title").await, SCHEDULED_TITLE);
        assert!(self.page.exists("meta[name=robots][content=noindex]").await);
        link
    }
}

/// A post as the admin would write it: a fenced Rust block with a line
/// longer than a phone is wide, and a word longer than one too.
const POST_BODY: &str = "Written in the browser test.

```rust
/// Share of requests served from the cache.
fn hit_ratio(hits: u64, misses: u64) -> f64 {
    let total = hits + misses; // a comment that makes this line wider than a phone screen
    hits as f64 / total as f64
}
```

A long word must wrap: Donaudampfschifffahrtsgesellschaftskapitänswitwenrentenversicherung.
";
