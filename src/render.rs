//! Templates, compiled into the binary and parsed once at start.

use crate::auth::session::Identity;
use crate::error::AppError;
use anyhow::Context as _;
use tera::{Context, Tera};

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../templates/", $name)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = templates![
    "base.html",
    "macros.html",
    "partials/post_summary.html",
    "blog/index.html",
    "blog/post.html",
    "blog/feed.xml",
    "blog/tags.html",
    "blog/about.html",
    "blog/sitemap.xml",
    "blog/search.html",
    "admin/settings.html",
    "admin/media.html",
    "auth/login.html",
    "admin/index.html",
    "admin/edit.html",
    "debug/cache.html",
    "errors/error.html",
];

pub struct Templates {
    tera: Tera,
}

impl Templates {
    pub fn new() -> anyhow::Result<Self> {
        let mut tera = Tera::default();
        tera.add_raw_templates(TEMPLATES.iter().copied())
            .context("templates do not parse")?;
        tera.set_escape_fn(escape);
        Ok(Templates { tera })
    }

    pub fn render(&self, name: &str, context: &Context) -> Result<String, AppError> {
        self.tera.render(name, context).map_err(|e| {
            AppError::Unexpected(anyhow::Error::new(e).context(format!("cannot render {name}")))
        })
    }
}

/// The variables every page has, under the site's title. Anonymous pages get
/// nothing personal, so one render serves every anonymous visitor.
pub fn base_context(site_title: &str, admin: Option<(&Identity, &str)>) -> Context {
    let mut context = Context::new();
    context.insert("site_title", site_title);
    match admin {
        Some((identity, csrf_token)) => {
            context.insert("admin", &true);
            context.insert("username", &identity.username);
            context.insert("csrf_token", csrf_token);
        }
        None => context.insert("admin", &false),
    }
    context
}

/// `21 November 2026`
pub fn human_date(timestamp: i64) -> String {
    chrono::DateTime::from_timestamp(timestamp, 0)
        .map_or_else(String::new, |d| d.format("%-d %B %Y").to_string())
}

/// RFC 3339 in UTC; a time outside the years 1970 to 9999 (stored before
/// publish times were checked) is written as the nearest one inside.
pub fn iso_date(timestamp: i64) -> String {
    chrono::DateTime::from_timestamp(crate::xml_text::clamp_timestamp(timestamp), 0)
        .map_or_else(String::new, |d| {
            d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
}

/// Tera's default escaper also rewrites `/` as `&#x2F;`, which is safe but
/// makes every URL in the markup unreadable; these five are what HTML and XML need.
fn escape(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + 16);
    for c in input.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_characters() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>/"),
            "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;/"
        );
    }

    #[test]
    fn every_template_parses() {
        Templates::new().unwrap();
    }
}
