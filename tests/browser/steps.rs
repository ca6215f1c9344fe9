//! The checks the scenario runs on each page (layout, focus, colour scheme,
//! favicon, highlighting, a refused form), logging in, and screenshots.

use super::{ADMIN_USER, DESKTOP, PHONE, Run, checks, driver};
use fantoccini::key::Key;
use std::time::Duration;

impl Run {
    /// Screenshots of the top of the page at both sizes, and the layout checks.
    pub(super) async fn look(&mut self, page: &'static str) {
        self.page
            .client
            .execute(
                "document.activeElement.blur(); window.scrollTo(0, 0)",
                vec![],
            )
            .await
            .unwrap();
        self.screenshot(&format!("{page}-desktop")).await;
        driver::set_viewport(&self.page.client, PHONE.0, PHONE.1).await;
        self.screenshot(&format!("{page}-phone")).await;
        driver::set_viewport(&self.page.client, DESKTOP.0, DESKTOP.1).await;
        self.check_layout(page).await;
    }

    /// On a phone, no horizontal scrolling; every form control has a label.
    pub(super) async fn check_layout(&mut self, page: &'static str) {
        driver::set_viewport(&self.page.client, PHONE.0, PHONE.1).await;
        if let Some(overflow) = checks::horizontal_overflow(&self.page.client).await {
            self.findings
                .push((page, "no horizontal scrolling", overflow));
        }
        driver::set_viewport(&self.page.client, DESKTOP.0, DESKTOP.1).await;
        for control in checks::unlabelled_controls(&self.page.client).await {
            self.findings.push((page, "labelled controls", control));
        }
    }

    /// The first Tab reaches the skip link, visibly; following it takes the
    /// next Tab into the main content, past the header's links.
    pub(super) async fn keyboard_focus_is_visible(&mut self) {
        checks::press(&self.page.client, Key::Tab).await;
        let skip = checks::focused(&self.page.client).await;
        assert_eq!(
            (skip.tag.as_str(), skip.text.as_str(), skip.href.as_deref()),
            ("a", "Skip to content", Some("#main")),
            "the skip link is the first thing Tab reaches"
        );
        assert!(skip.in_view, "the focused skip link is on screen");
        assert!(skip.ring, "the skip link shows focus: {}", skip.style);
        checks::press(&self.page.client, Key::Enter).await;
        checks::press(&self.page.client, Key::Tab).await;
        let next = checks::focused(&self.page.client).await;
        assert!(
            self.page
                .client
                .execute(
                    "return document.querySelector('main').contains(document.activeElement)",
                    vec![]
                )
                .await
                .unwrap()
                .as_bool()
                .unwrap(),
            "after the skip link, Tab goes into main, not to {next:?}"
        );
        assert!(next.ring, "a focused link shows focus: {next:?}");
    }

    /// A reader whose system is dark gets dark pages and dark-scheme code
    /// colours, from the stylesheet alone.
    pub(super) async fn dark_scheme_is_followed(&mut self) {
        const COLOURS: &str = "return [getComputedStyle(document.body).backgroundColor,
            getComputedStyle(document.querySelector('.prose pre .hl-storage')).color]";
        let light = self.page.client.execute(COLOURS, vec![]).await.unwrap();
        driver::set_color_scheme(&self.page.client, "dark").await;
        let dark = self.page.client.execute(COLOURS, vec![]).await.unwrap();
        assert_ne!(light[0], dark[0], "the page turns dark");
        assert_ne!(light[1], dark[1], "code takes the dark theme's colours");
        let channels: Vec<u32> = dark[0]
            .as_str()
            .unwrap()
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect();
        assert!(
            channels.iter().all(|&c| c < 64),
            "a dark background: {dark}"
        );
        self.screenshot("post-dark-desktop").await;
        driver::set_viewport(&self.page.client, PHONE.0, PHONE.1).await;
        self.screenshot("post-dark-phone").await;
        driver::set_viewport(&self.page.client, DESKTOP.0, DESKTOP.1).await;
        driver::set_color_scheme(&self.page.client, "light").await;
    }

    pub(super) async fn favicon_is_served(&self) {
        let answer = self
            .page
            .client
            .execute(
                "return fetch(document.querySelector('link[rel=icon]').href)
                     .then(r => [r.status, r.headers.get('content-type')]);",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(answer, serde_json::json!([200, "image/svg+xml"]));
    }

    pub(super) async fn code_is_highlighted(&mut self) {
        let colours = self
            .page
            .client
            .execute(
                "const code = document.querySelector('.prose pre code');
                 const word = code.querySelector('.hl-storage, .hl-keyword');
                 return word && [getComputedStyle(code).color, getComputedStyle(word).color];",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            colours[0].is_string() && colours[0] != colours[1],
            "keywords in code blocks have their own colour: {colours}"
        );
    }

    /// A long line of code scrolls inside its block, not the page.
    pub(super) async fn code_scrolls_inside_itself_on_a_phone(&mut self) {
        driver::set_viewport(&self.page.client, PHONE.0, PHONE.1).await;
        let scrolls = self
            .page
            .client
            .execute(
                "const pre = document.querySelector('.prose pre');
                 return pre.scrollWidth > pre.clientWidth
                     && getComputedStyle(pre).overflowX === 'auto';",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(scrolls, true, "the code block scrolls sideways by itself");
        driver::set_viewport(&self.page.client, DESKTOP.0, DESKTOP.1).await;
    }

    /// The browser itself refuses an empty required title; past that (a
    /// browser that does not check, or a title of spaces) the server's
    /// message must sit by the field and be tied to it.
    pub(super) async fn empty_title_is_refused(&mut self) {
        self.page.mark_page().await;
        self.page
            .press_button("form:has(#title) button[type=submit]")
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            self.page.is_marked_page().await,
            "the browser keeps the form"
        );
        let missing = self
            .page
            .client
            .execute(
                "return document.getElementById('title').validity.valueMissing",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(missing, true, "the browser says the title is missing");
        self.page
            .client
            .execute(
                "document.getElementById('title').form.noValidate = true",
                vec![],
            )
            .await
            .unwrap();
        self.page.submit("#title").await;
        self.page.wait_for_path("/admin/posts").await;
        assert!(
            self.page
                .text("main")
                .await
                .contains("The title is required.")
        );
        for problem in
            checks::error_tied_to_field(&self.page.client, "title", "title is required").await
        {
            self.findings
                .push(("editor", "error tied to its field", problem));
        }
    }

    pub(super) async fn log_in(&mut self, password: &str) {
        self.page.type_into("#username", ADMIN_USER).await;
        self.page.type_into("#password", password).await;
        self.page.submit("#password").await;
    }

    /// Fails with every finding, each with its page and check.
    pub(super) fn report(&self) {
        let failures: Vec<String> = self
            .findings
            .iter()
            .map(|(page, check, what)| format!("{page} / {check}: {what}"))
            .collect();
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    pub(super) async fn screenshot(&self, name: &str) {
        let png = self.page.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }
}
