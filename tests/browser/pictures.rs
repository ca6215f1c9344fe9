//! The admin adds a picture to a post through the editor's file input (the
//! script uploads it and inserts its Markdown at the cursor), and the post
//! shows it with its resized copies, without horizontal scrolling on a phone.

use crate::driver;
use crate::{PHONE, Run};
use fantoccini::Locator;
use image::{DynamicImage, Rgb, RgbImage};
use std::time::{Duration, Instant};

const TITLE: &str = "A picture from a browser";
const PATH: &str = "/posts/a-picture-from-a-browser";

impl Run {
    pub(crate) async fn picture_in_a_post(&mut self) {
        let file = std::env::temp_dir().join(format!("folio-browser-{}.png", std::process::id()));
        DynamicImage::ImageRgb8(RgbImage::from_fn(1200, 700, |x, y| {
            Rgb([(x / 7) as u8, (y / 4) as u8, ((x + y) / 10) as u8])
        }))
        .save(&file)
        .unwrap();
        self.page
            .click(".site-nav a[href='/admin/posts/new']")
            .await;
        self.page.type_into("#title", TITLE).await;
        self.page.type_into("#body", "Before the picture.").await;
        self.page
            .client
            .find(Locator::Css("#media-file"))
            .await
            .unwrap()
            .send_keys(file.to_str().unwrap())
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let body = self.page.value("#body").await;
            if body.contains("![](/media/") {
                assert!(body.starts_with("Before the picture."), "{body}");
                break;
            }
            let status = self.page.text("#media-status").await;
            assert!(Instant::now() < deadline, "no Markdown inserted: {status}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            self.page
                .text("#media-status")
                .await
                .starts_with("Added /media/")
        );
        let _ = std::fs::remove_file(&file);
        self.page
            .client
            .execute(
                "document.getElementById('published').checked = true",
                vec![],
            )
            .await
            .unwrap();
        self.page.submit("#title").await;
        self.page.wait_for_path(PATH).await;
        let srcset = self
            .page
            .client
            .execute(
                "return document.querySelector('.prose img').getAttribute('srcset')",
                vec![],
            )
            .await
            .unwrap();
        let srcset = srcset.as_str().unwrap_or_default().to_string();
        for width in ["480w", "960w", "1200w"] {
            assert!(srcset.contains(width), "{srcset}");
        }
        driver::set_viewport(&self.page.client, PHONE.0, PHONE.1).await;
        self.page.goto(PATH).await;
        // The phone loads a copy, not the full picture.
        let loaded = self
            .page
            .client
            .execute(
                "const img = document.querySelector('.prose img');
                 return img.decode().then(() => img.currentSrc, () => img.currentSrc)",
                vec![],
            )
            .await
            .unwrap();
        let loaded = loaded.as_str().unwrap_or_default().to_string();
        assert!(
            loaded.contains("-480.png") || loaded.contains("-960.png"),
            "{loaded}"
        );
        self.look("post-picture").await;
    }
}
