//! The page in the browser, as a person uses it: go to an address, click,
//! submit a form, type, read; each navigation waits for the new page.

use fantoccini::{Client, Locator};
use std::time::{Duration, Instant};

pub struct Page {
    pub client: Client,
    /// `http://127.0.0.1:{port}` of the folio under test.
    pub base: String,
}

impl Page {
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    pub async fn wait_for_path(&self, expected: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let path = self.path().await;
            if path == expected {
                return;
            }
            assert!(Instant::now() < deadline, "expected {expected}, at {path}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks `css` and waits until the page it leads to has loaded.
    pub async fn click(&self, css: &str) {
        self.mark_page().await;
        self.press_button(css).await;
        self.wait_for_new_page().await;
    }

    /// Submits the form of the field `css` with its button, as a person
    /// does, and waits for the answer to load.
    pub async fn submit(&self, css: &str) {
        self.click(&format!("form:has({css}) button[type=submit]"))
            .await;
    }

    pub async fn press_button(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Marks the current document, so a new one can be told apart even at
    /// the same address (a form answered with itself).
    pub async fn mark_page(&self) {
        self.client
            .execute("window.folioOldPage = true", vec![])
            .await
            .unwrap();
    }

    pub async fn is_marked_page(&self) -> bool {
        let marked = self
            .client
            .execute("return window.folioOldPage === true", vec![])
            .await;
        // A script may meet the page while it is being replaced.
        marked.map(|v| v == true).unwrap_or(true)
    }

    pub async fn wait_for_new_page(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.is_marked_page().await {
            assert!(Instant::now() < deadline, "no new page loaded");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    pub async fn value(&self, css: &str) -> String {
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        field.prop("value").await.unwrap().unwrap_or_default()
    }

    pub async fn exists(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap()
            .is_empty()
    }

    pub async fn text(&self, css: &str) -> String {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        element.text().await.unwrap()
    }

    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await.unwrap() {
            out.push(element.text().await.unwrap());
        }
        out
    }
}
