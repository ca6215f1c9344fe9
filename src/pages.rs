//! Renders every cacheable page from the database, as a visitor sees it or,
//! with `Admin`, as the admin does (drafts visible, a CSRF token for the
//! logout form). Anonymous renders hold nothing personal, so one render
//! serves every visitor.

use crate::auth::session::Identity;
use crate::cache::entry::{ContentKind, Rendered};
use crate::cache::keys::Page;
use crate::db::Db;
use crate::db_health::DbHealth;
use crate::error::AppError;
use crate::listing::{FEED_LEN, PAGE_SIZE, page_count};
use crate::posts::{self, Post, PostSummary};
use crate::render::{Templates, base_context, human_date, iso_date};
use crate::site::{self, Site};
use crate::xml_text;
use futures_util::future::BoxFuture;
use serde::Serialize;
use std::sync::Arc;
use tera::Context;

/// Words read per minute, for the reading-time estimate.
const WORDS_PER_MINUTE: usize = 220;

/// The address of the first upload a post's HTML shows (`/media/…`): the
/// body was rendered by `markdown`, which writes `src` first.
fn first_upload(body_html: &str) -> Option<&str> {
    const START: &str = "<img src=\"/media/";
    let at = body_html.find(START)? + "<img src=\"".len();
    let rest = &body_html[at..];
    Some(&rest[..rest.find('"')?])
}

/// What page renders need.
pub struct Pages {
    pub db: Db,
    /// A render while the database is marked down fails at once.
    pub health: DbHealth,
    pub templates: Arc<Templates>,
    /// Public origin without a trailing slash, from config only.
    pub base_url: String,
}

/// The admin asking, with the session's CSRF token.
pub struct Admin<'a> {
    pub identity: &'a Identity,
    pub csrf_token: &'a str,
}

impl crate::cache::Renderer for Pages {
    fn render<'a>(&'a self, page: &'a Page) -> BoxFuture<'a, Result<Rendered, AppError>> {
        Box::pin(self.render(page, None))
    }
}

#[derive(Serialize)]
struct SummaryView {
    title: String,
    url: String,
    published_human: String,
    published_iso: String,
    summary: String,
    tags: Vec<String>,
}

#[derive(Serialize)]
struct LinkView {
    title: String,
    url: String,
}

#[derive(Serialize)]
struct PostView {
    title: String,
    body_html: String,
    published_human: String,
    published_iso: String,
    draft: bool,
    scheduled: bool,
    tags: Vec<String>,
    reading_minutes: usize,
}

#[derive(Serialize)]
struct EntryView {
    title: String,
    url: String,
    published_iso: String,
    updated_iso: String,
    content_html: String,
    tags: Vec<String>,
}

impl Pages {
    pub async fn render(
        &self,
        page: &Page,
        admin: Option<Admin<'_>>,
    ) -> Result<Rendered, AppError> {
        self.health.check()?;
        let site = site::load(&self.db).await?;
        let mut context = base_context(
            &site.title,
            admin.as_ref().map(|a| (a.identity, a.csrf_token)),
        );
        context.insert("site_tagline", &site.tagline);
        match page {
            Page::Index(n) => self.list(context, None, *n).await,
            Page::Tag(tag, n) => self.list(context, Some(tag), *n).await,
            Page::Post(slug) => self.post(context, slug, admin.is_some()).await,
            Page::Feed => self.feed(&site, None).await,
            Page::TagFeed(tag) => self.feed(&site, Some(tag)).await,
            Page::Tags => self.tags(context).await,
            Page::About => self.about(context, &site),
            Page::Sitemap => self.sitemap().await,
        }
    }

    fn html(&self, name: &str, context: &Context) -> Result<Rendered, AppError> {
        Ok(Rendered {
            kind: ContentKind::Html,
            body: self.templates.render(name, context)?,
        })
    }

    async fn summaries(&self, rows: Vec<PostSummary>) -> Result<Vec<SummaryView>, AppError> {
        let ids: Vec<i64> = rows.iter().map(|p| p.id).collect();
        let mut conn = self.db.acquire().await?;
        let mut tags = posts::tags_of_many(&mut conn, &ids).await?;
        Ok(rows
            .into_iter()
            .map(|p| {
                let at = p.published_at.unwrap_or(p.created_at);
                SummaryView {
                    url: format!("/posts/{}", p.slug),
                    tags: tags.remove(&p.id).unwrap_or_default(),
                    title: p.title,
                    published_human: human_date(at),
                    published_iso: iso_date(at),
                    summary: p.summary,
                }
            })
            .collect())
    }

    /// The index (`tag` none) or a tag's page: `404` past the last page,
    /// and for a tag with no live post.
    async fn list(
        &self,
        mut context: Context,
        tag: Option<&String>,
        number: u32,
    ) -> Result<Rendered, AppError> {
        let total = match tag {
            None => posts::published_count(&self.db).await?,
            Some(tag) => posts::tag_count(&self.db, tag).await?,
        };
        let pages = page_count(total);
        if i64::from(number) > pages || (tag.is_some() && total == 0) {
            return Err(AppError::NotFound);
        }
        let rows = match tag {
            None => posts::published_page(&self.db, number, PAGE_SIZE).await?,
            Some(tag) => posts::tag_page(&self.db, tag, number, PAGE_SIZE).await?,
        };
        let base = tag.map_or_else(|| "/".to_string(), |t| format!("/tags/{t}"));
        let page_url = |n: u32| match n {
            1 => base.clone(),
            n => format!("{base}?page={n}"),
        };
        context.insert("posts", &self.summaries(rows).await?);
        context.insert("page", &number);
        context.insert("total_pages", &pages);
        context.insert("total_posts", &total);
        context.insert("tag", &tag);
        context.insert(
            "prev_url",
            &(if number > 1 {
                page_url(number - 1)
            } else {
                String::new()
            }),
        );
        context.insert(
            "next_url",
            &(if i64::from(number) < pages {
                page_url(number + 1)
            } else {
                String::new()
            }),
        );
        self.html("blog/index.html", &context)
    }

    async fn post(
        &self,
        mut context: Context,
        slug: &str,
        admin: bool,
    ) -> Result<Rendered, AppError> {
        let post = posts::by_slug(&self.db, slug)
            .await?
            .ok_or(AppError::NotFound)?;
        // Drafts and scheduled posts exist only for the admin.
        if !post.is_live() && !admin {
            return Err(AppError::NotFound);
        }
        let mut conn = self.db.acquire().await?;
        let tags = posts::tags_of(&mut *conn, post.id).await?;
        let at = post.published_at.unwrap_or(post.created_at);
        if post.is_live() {
            let (newer, older) = posts::neighbours(&mut conn, at, post.id).await?;
            let link = |n: posts::Neighbour| LinkView {
                url: format!("/posts/{}", n.slug),
                title: n.title,
            };
            context.insert("newer", &newer.map(link));
            context.insert("older", &older.map(link));
        }
        let canonical = format!("{}/posts/{}", self.base_url, post.slug);
        context.insert("canonical_url", &canonical);
        context.insert("og_description", &post.summary);
        if let Some(src) = first_upload(&post.body_html) {
            context.insert("og_image", &format!("{}{src}", self.base_url));
        }
        if admin {
            context.insert("edit_url", &format!("/admin/posts/{}/edit", post.id));
        }
        let words = post.body.split_whitespace().count();
        context.insert(
            "post",
            &PostView {
                draft: !post.is_published(),
                scheduled: post.is_scheduled(),
                reading_minutes: words.div_ceil(WORDS_PER_MINUTE).max(1),
                tags,
                published_human: human_date(at),
                published_iso: iso_date(at),
                title: post.title,
                body_html: post.body_html,
            },
        );
        self.html("blog/post.html", &context)
    }

    /// A post that is not live, for its preview link.
    pub async fn preview(&self, post: &Post) -> Result<String, AppError> {
        let site = site::load(&self.db).await?;
        let mut context = base_context(&site.title, None);
        context.insert("site_tagline", &site.tagline);
        context.insert("preview", &true);
        let rendered = self.post(context, &post.slug, true).await?;
        Ok(rendered.body)
    }

    async fn feed(&self, site: &Site, tag: Option<&String>) -> Result<Rendered, AppError> {
        let rows: Vec<Post> = match tag {
            None => posts::newest_published(&self.db, FEED_LEN).await?,
            Some(tag) => posts::tag_newest(&self.db, tag, FEED_LEN).await?,
        };
        if tag.is_some() && rows.is_empty() {
            return Err(AppError::NotFound);
        }
        let ids: Vec<i64> = rows.iter().map(|p| p.id).collect();
        let mut conn = self.db.acquire().await?;
        let mut tags = posts::tags_of_many(&mut conn, &ids).await?;
        let updated = rows.iter().map(|p| p.updated_at).max().unwrap_or(0);
        let entries: Vec<EntryView> = rows
            .into_iter()
            .map(|p| EntryView {
                url: format!("{}/posts/{}", self.base_url, p.slug),
                tags: tags.remove(&p.id).unwrap_or_default(),
                title: p.title,
                published_iso: iso_date(p.published_at.unwrap_or(p.created_at)),
                updated_iso: iso_date(p.updated_at),
                content_html: p.body_html,
            })
            .collect();
        let (title, path) = match tag {
            None => (site.title.clone(), String::new()),
            Some(tag) => (format!("{} · {tag}", site.title), format!("tags/{tag}")),
        };
        let mut context = Context::new();
        context.insert("feed_title", &title);
        context.insert("feed_subtitle", &site.tagline);
        context.insert("author", &site.title);
        context.insert("feed_id", &format!("{}/{path}", self.base_url));
        let self_path = if path.is_empty() {
            "feed.xml".to_string()
        } else {
            format!("{path}/feed.xml")
        };
        context.insert("self_url", &format!("{}/{self_path}", self.base_url));
        context.insert("home_url", &format!("{}/{path}", self.base_url));
        context.insert("base_url", &self.base_url);
        context.insert("updated_iso", &iso_date(updated));
        context.insert("entries", &entries);
        Ok(Rendered {
            kind: ContentKind::Atom,
            body: xml_text::strip_owned(self.templates.render("blog/feed.xml", &context)?),
        })
    }

    async fn tags(&self, mut context: Context) -> Result<Rendered, AppError> {
        #[derive(Serialize)]
        struct TagView {
            tag: String,
            count: i64,
        }
        let tags: Vec<TagView> = posts::tag_counts(&self.db)
            .await?
            .into_iter()
            .map(|(tag, count)| TagView { tag, count })
            .collect();
        context.insert("tags", &tags);
        self.html("blog/tags.html", &context)
    }

    fn about(&self, mut context: Context, site: &Site) -> Result<Rendered, AppError> {
        let text = if site.about.trim().is_empty() {
            site::DEFAULT_ABOUT
        } else {
            &site.about
        };
        context.insert("about_html", &crate::markdown::to_safe_html(text));
        self.html("blog/about.html", &context)
    }

    async fn sitemap(&self) -> Result<Rendered, AppError> {
        #[derive(Serialize)]
        struct Url {
            loc: String,
            lastmod: Option<String>,
        }
        let base = &self.base_url;
        let posts = posts::sitemap_posts(&self.db).await?;
        let newest = posts.iter().map(|(_, at)| *at).max();
        let mut urls = vec![Url {
            loc: format!("{base}/"),
            lastmod: newest.map(iso_date),
        }];
        urls.extend(posts.into_iter().map(|(slug, at)| Url {
            loc: format!("{base}/posts/{slug}"),
            lastmod: Some(iso_date(at)),
        }));
        urls.push(Url {
            loc: format!("{base}/tags"),
            lastmod: None,
        });
        urls.extend(
            posts::tag_counts(&self.db)
                .await?
                .into_iter()
                .map(|(tag, _)| Url {
                    loc: format!("{base}/tags/{tag}"),
                    lastmod: None,
                }),
        );
        urls.push(Url {
            loc: format!("{base}/about"),
            lastmod: None,
        });
        let mut context = Context::new();
        context.insert("urls", &urls);
        Ok(Rendered {
            kind: ContentKind::Xml,
            body: xml_text::strip_owned(self.templates.render("blog/sitemap.xml", &context)?),
        })
    }
}
