//! Site settings: the title and tagline on every page and feed, and the
//! about page. They live in the `settings` table and change through the
//! write path like posts do.

use crate::cache::PageCache;
use crate::cache::deps::Stale;
use crate::cache::keys::Page;
use crate::db::Db;
use crate::field_errors::{Field, FieldErrors};
use crate::write::{self, Cause, Committed};
use crate::xml_text;
use sqlx::{Any, Executor};

pub const TITLE_MAX: usize = 100;
pub const TAGLINE_MAX: usize = 200;
pub const ABOUT_MAX: usize = 64 * 1024;
pub const DEFAULT_TITLE: &str = "folio";
pub const DEFAULT_ABOUT: &str =
    "This blog runs on folio. The admin has not written an about page yet.";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Site {
    pub title: String,
    pub tagline: String,
    /// Markdown; empty until the admin writes it.
    pub about: String,
}

impl Default for Site {
    fn default() -> Self {
        Site {
            title: DEFAULT_TITLE.to_string(),
            tagline: String::new(),
            about: String::new(),
        }
    }
}

pub async fn load<'e>(ex: impl Executor<'e, Database = Any>) -> sqlx::Result<Site> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, value FROM settings WHERE name IN ('site_title', 'site_tagline', 'site_about')",
    )
    .fetch_all(ex)
    .await?;
    let mut site = Site::default();
    for (name, value) in rows {
        match name.as_str() {
            "site_title" => site.title = value,
            "site_tagline" => site.tagline = value,
            "site_about" => site.about = value,
            _ => {}
        }
    }
    Ok(site)
}

/// The settings form's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteField {
    Title,
    Tagline,
    About,
}

impl Field for SiteField {
    const ALL: &'static [Self] = &[SiteField::Title, SiteField::Tagline, SiteField::About];

    fn id(self) -> &'static str {
        match self {
            SiteField::Title => "title",
            SiteField::Tagline => "tagline",
            SiteField::About => "about",
        }
    }
}

pub type SiteErrors = FieldErrors<SiteField>;

/// Checks the form; every problem at once, each with its field.
pub fn validate(title: &str, tagline: &str, about: &str) -> Result<Site, SiteErrors> {
    let mut errors = SiteErrors::new();
    let title = title.trim();
    let tagline = tagline.trim();
    let n = title.chars().count();
    if n == 0 || n > TITLE_MAX {
        errors.push(
            SiteField::Title,
            format!("The title must be 1 to {TITLE_MAX} characters; it is {n}."),
        );
    } else if let Some(message) = xml_text::refusal("title", title) {
        errors.push(SiteField::Title, message);
    }
    let n = tagline.chars().count();
    if n > TAGLINE_MAX {
        errors.push(
            SiteField::Tagline,
            format!("The tagline may be at most {TAGLINE_MAX} characters; it is {n}."),
        );
    } else if let Some(message) = xml_text::refusal("tagline", tagline) {
        errors.push(SiteField::Tagline, message);
    }
    if about.len() > ABOUT_MAX {
        errors.push(
            SiteField::About,
            format!(
                "The about page is {} KiB; the limit is 64 KiB.",
                about.len() / 1024
            ),
        );
    }
    errors.into_result(|| Site {
        title: title.to_string(),
        tagline: tagline.to_string(),
        // Pasted text may carry characters XML forbids: they are dropped.
        about: xml_text::strip(about).into_owned(),
    })
}

/// Saves the settings. A new title or tagline changes every page, which the
/// cache handles at a cost that does not grow with what is cached; a new
/// about text changes `/about` only.
pub async fn update(db: &Db, cache: &PageCache, new: &Site) -> sqlx::Result<Committed> {
    let mut w = write::begin(db).await?;
    let old = load(&mut **w.tx()).await?;
    for (name, value) in [
        ("site_title", &new.title),
        ("site_tagline", &new.tagline),
        ("site_about", &new.about),
    ] {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(&mut **w.tx())
        .await?;
    }
    let stale = if old.title != new.title || old.tagline != new.tagline {
        Stale::Everything
    } else if old.about != new.about {
        Stale::Pages(vec![Page::About])
    } else {
        Stale::Pages(Vec::new())
    };
    w.commit(cache, Cause::Settings, stale).await
}
