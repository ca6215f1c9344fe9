//! Which pages a write makes stale, from what each page shows. Pure: the
//! write path gathers the facts inside its transaction, this decides.
//!
//! - A post page shows its post and, by title, its neighbours in the site list.
//! - A list (the site's, or one tag's) shows live posts newest first: page
//!   `n` holds positions `10(n-1)..10n` and the page count; its feed the
//!   first `FEED_LEN`. A post that moves shifts every position between its
//!   old and new place, and to the end when the list's length changes.
//! - `/tags` shows each tag's count; the sitemap every live post and tag.
//! - The site's title and tagline are on every page: a settings change
//!   makes everything stale, which the cache handles without listing keys.
//!
//! The cost grows with the pages a write really changes, never with the
//! number of pages cached.

use super::keys::Page;
use crate::listing::{FEED_LEN, page_count, page_of};

/// A list of live posts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum List {
    Site,
    Tag(String),
}

/// A post as pages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub slug: String,
    pub title: String,
    pub live: bool,
}

/// Where the written post sat in one list before and after the write
/// (0 = newest; `None` when not in it), and the list's length before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub list: List,
    pub before: Option<i64>,
    pub after: Option<i64>,
    pub len_before: i64,
    pub len_after: i64,
}

/// One write of one post: the post before and after (`None` when it did not
/// exist), its placement in the site list and in every tag list it was or
/// is in, and the slugs of its neighbours in the site list before and after.
#[derive(Debug, Clone)]
pub struct Change {
    pub before: Option<Shown>,
    pub after: Option<Shown>,
    pub placements: Vec<Placement>,
    pub neighbours_before: Vec<String>,
    pub neighbours_after: Vec<String>,
}

/// What a write made stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stale {
    Pages(Vec<Page>),
    /// Every page (the site's title or tagline changed).
    Everything,
}

impl Stale {
    pub fn pages(&self) -> &[Page] {
        match self {
            Stale::Pages(pages) => pages,
            Stale::Everything => &[],
        }
    }
}

fn push(pages: &mut Vec<Page>, page: Page) {
    if !pages.contains(&page) {
        pages.push(page);
    }
}

/// Every page whose content the change altered.
pub fn stale_pages(change: &Change) -> Vec<Page> {
    let mut pages = Vec::new();
    for shown in [&change.before, &change.after].into_iter().flatten() {
        push(&mut pages, Page::Post(shown.slug.clone()));
    }

    let mut tag_counts_changed = false;
    for placement in &change.placements {
        list_pages(placement, &mut pages);
        if matches!(placement.list, List::Tag(_)) && placement.len_before != placement.len_after {
            tag_counts_changed = true;
        }
    }
    if tag_counts_changed {
        push(&mut pages, Page::Tags);
    }

    // Neighbours link to the post by title: they change when it appears,
    // disappears, moves, or is renamed.
    let site = change
        .placements
        .iter()
        .find(|p| p.list == List::Site)
        .map(|p| (p.before, p.after));
    let moved = site.is_some_and(|(b, a)| b != a);
    let renamed = match (&change.before, &change.after) {
        (Some(b), Some(a)) => b.slug != a.slug || b.title != a.title,
        _ => true,
    };
    let was_live = change.before.as_ref().is_some_and(|s| s.live);
    let is_live = change.after.as_ref().is_some_and(|s| s.live);
    if (was_live || is_live) && (moved || renamed || was_live != is_live) {
        for slug in change
            .neighbours_before
            .iter()
            .chain(&change.neighbours_after)
        {
            push(&mut pages, Page::Post(slug.clone()));
        }
    }
    if was_live || is_live {
        push(&mut pages, Page::Sitemap);
    }
    pages
}

/// The pages that show a post's rendered body, when that alone changed (an
/// upload it shows got a new alt text): its page and each feed it is within
/// (`positions`: its place in the site list and its tags' lists, `None` when
/// not live). List pages show summaries, from the Markdown: they stay.
pub fn body_pages(slug: &str, positions: &[(List, Option<i64>)]) -> Vec<Page> {
    let mut pages = vec![Page::Post(slug.to_string())];
    for (list, position) in positions {
        if position.is_some_and(|p| p < FEED_LEN) {
            push(
                &mut pages,
                match list {
                    List::Site => Page::Feed,
                    List::Tag(tag) => Page::TagFeed(tag.clone()),
                },
            );
        }
    }
    pages
}

/// The pages of one list that a placement change touches.
fn list_pages(p: &Placement, pages: &mut Vec<Page>) {
    let page = |n: i64| match &p.list {
        List::Site => Page::Index(n as u32),
        List::Tag(tag) => Page::Tag(tag.clone(), n as u32),
    };
    let (lo, hi) = match (p.before, p.after) {
        (None, None) => return,
        (Some(x), None) | (None, Some(x)) => (x, x),
        (Some(b), Some(a)) => (b.min(a), b.max(a)),
    };
    let last = page_count(p.len_before).max(page_count(p.len_after));
    let (first, end) = if page_count(p.len_before) != page_count(p.len_after) {
        (1, last) // every page shows the page count
    } else if p.len_before != p.len_after {
        (page_of(lo), last) // everything after the post shifts by one
    } else {
        (page_of(lo), page_of(hi)) // moved within the list, or edited in place
    };
    for n in first..=end {
        push(pages, page(n));
    }
    if lo < FEED_LEN {
        push(
            pages,
            match &p.list {
                List::Site => Page::Feed,
                List::Tag(tag) => Page::TagFeed(tag.clone()),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(slug: &str, title: &str, live: bool) -> Option<Shown> {
        Some(Shown {
            slug: slug.into(),
            title: title.into(),
            live,
        })
    }

    fn site(before: Option<i64>, after: Option<i64>, len_before: i64, len_after: i64) -> Placement {
        Placement {
            list: List::Site,
            before,
            after,
            len_before,
            len_after,
        }
    }

    fn tag(name: &str, before: Option<i64>, after: Option<i64>, lb: i64, la: i64) -> Placement {
        Placement {
            list: List::Tag(name.into()),
            ..site(before, after, lb, la)
        }
    }

    fn change(before: Option<Shown>, after: Option<Shown>, placements: Vec<Placement>) -> Change {
        Change {
            before,
            after,
            placements,
            neighbours_before: vec!["newer".into(), "older".into()],
            neighbours_after: vec!["newer".into(), "older".into()],
        }
    }

    fn index_pages(pages: &[Page]) -> Vec<u32> {
        pages
            .iter()
            .filter_map(|p| match p {
                Page::Index(n) => Some(*n),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn editing_a_body_in_place_touches_its_page_its_list_pages_feeds_and_sitemap_only() {
        let c = change(
            shown("a", "A", true),
            shown("a", "A", true),
            vec![
                site(Some(12), Some(12), 35, 35),
                tag("rust", Some(3), Some(3), 8, 8),
            ],
        );
        assert_eq!(
            stale_pages(&c),
            vec![
                Page::Post("a".into()),
                Page::Index(2),
                Page::Feed,
                Page::Tag("rust".into(), 1),
                Page::TagFeed("rust".into()),
                Page::Sitemap,
            ]
        );
    }

    #[test]
    fn renaming_a_post_also_touches_its_neighbours() {
        let c = change(
            shown("a", "Old", true),
            shown("a", "New", true),
            vec![site(Some(30), Some(30), 35, 35)],
        );
        let pages = stale_pages(&c);
        assert!(pages.contains(&Page::Post("newer".into())));
        assert!(pages.contains(&Page::Post("older".into())));
        assert_eq!(index_pages(&pages), vec![4]);
        assert!(!pages.contains(&Page::Feed));
    }

    #[test]
    fn changing_a_slug_touches_both_post_pages() {
        let c = change(
            shown("old", "T", true),
            shown("new", "T", true),
            vec![site(Some(30), Some(30), 35, 35)],
        );
        let pages = stale_pages(&c);
        assert!(pages.contains(&Page::Post("old".into())));
        assert!(pages.contains(&Page::Post("new".into())));
    }

    #[test]
    fn creating_the_newest_post_shifts_every_page_and_names_its_new_neighbours() {
        let c = change(
            None,
            shown("n", "N", true),
            vec![site(None, Some(0), 25, 26)],
        );
        let pages = stale_pages(&c);
        assert_eq!(index_pages(&pages), vec![1, 2, 3]);
        assert!(pages.contains(&Page::Feed));
        assert!(pages.contains(&Page::Post("older".into())));
        assert!(pages.contains(&Page::Sitemap));
    }

    #[test]
    fn deleting_an_old_post_touches_only_the_pages_from_it_on() {
        let c = change(
            shown("o", "O", true),
            None,
            vec![site(Some(41), None, 55, 54)],
        );
        let pages = stale_pages(&c);
        assert_eq!(index_pages(&pages), vec![5, 6]);
        assert!(!pages.contains(&Page::Feed));
    }

    #[test]
    fn a_change_in_page_count_touches_every_page_of_that_list() {
        let c = change(
            shown("o", "O", true),
            None,
            vec![site(Some(40), None, 41, 40)],
        );
        assert_eq!(index_pages(&stale_pages(&c)), vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn editing_a_draft_touches_only_its_own_page() {
        let c = change(
            shown("d", "D", false),
            shown("d", "D2", false),
            vec![site(None, None, 5, 5), tag("x", None, None, 2, 2)],
        );
        assert_eq!(stale_pages(&c), vec![Page::Post("d".into())]);
    }

    #[test]
    fn unpublishing_shifts_the_pages_after_it_and_touches_its_neighbours() {
        let c = change(
            shown("p", "P", true),
            shown("p", "P", false),
            vec![site(Some(15), None, 35, 34)],
        );
        let pages = stale_pages(&c);
        assert_eq!(index_pages(&pages), vec![2, 3, 4]);
        assert!(pages.contains(&Page::Feed));
        assert!(pages.contains(&Page::Post("newer".into())));
    }

    #[test]
    fn retagging_touches_old_and_new_tags_from_the_post_on_and_the_tag_index() {
        let c = change(
            shown("p", "P", true),
            shown("p", "P", true),
            vec![
                site(Some(3), Some(3), 30, 30),
                tag("old", Some(12), None, 25, 24),
                tag("new", None, Some(0), 4, 5),
            ],
        );
        let pages = stale_pages(&c);
        assert!(pages.contains(&Page::Tag("old".into(), 2)));
        assert!(pages.contains(&Page::Tag("old".into(), 3)));
        assert!(!pages.contains(&Page::Tag("old".into(), 1)));
        assert!(pages.contains(&Page::TagFeed("old".into())));
        assert!(pages.contains(&Page::Tag("new".into(), 1)));
        assert!(pages.contains(&Page::TagFeed("new".into())));
        assert!(pages.contains(&Page::Tags));
        // Same place, same title: the neighbours are untouched.
        assert!(!pages.contains(&Page::Post("newer".into())));
    }

    #[test]
    fn moving_within_a_list_touches_the_pages_between_its_places_only() {
        let c = change(
            shown("p", "P", true),
            shown("p", "P", true),
            vec![site(Some(45), Some(32), 60, 60)],
        );
        let pages = stale_pages(&c);
        assert_eq!(index_pages(&pages), vec![4, 5]);
        assert!(!pages.contains(&Page::Feed));
        assert!(!pages.contains(&Page::Tags));
    }

    #[test]
    fn a_new_body_alone_touches_the_post_and_the_feeds_that_carry_it() {
        let pages = body_pages(
            "p",
            &[
                (List::Site, Some(3)),
                (List::Tag("near".into()), Some(0)),
                (List::Tag("far".into()), Some(FEED_LEN)),
            ],
        );
        assert_eq!(
            pages,
            vec![
                Page::Post("p".into()),
                Page::Feed,
                Page::TagFeed("near".into())
            ]
        );
        let draft = body_pages("d", &[(List::Site, None), (List::Tag("t".into()), None)]);
        assert_eq!(draft, vec![Page::Post("d".into())]);
    }

    #[test]
    fn nothing_outside_the_post_changes_for_a_post_that_never_was_live() {
        let c = change(None, shown("s", "S", false), vec![site(None, None, 3, 3)]);
        assert_eq!(stale_pages(&c), vec![Page::Post("s".into())]);
    }
}
