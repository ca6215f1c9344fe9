//! Which pages a write makes stale, from what each page depends on:
//! - a post page depends on its post (under its old and its new slug);
//! - index page `n` shows the published posts at positions `10(n-1)..10n`
//!   (newest first) and the page count in its pagination;
//! - the feed shows the first `FEED_LEN` positions.
//!
//! A write is described by where its post sat in the list before and after;
//! everything from the first changed position on shifts, so the stale index
//! pages are a range that ends at the last page, and all of them when the
//! page count changes. The cost grows with the number of index pages a write
//! really changes, never with the number of pages cached.

use super::keys::Page;

pub const PAGE_SIZE: i64 = 10;
pub const FEED_LEN: i64 = 20;

/// A post as the public list sees it: its slug and, when published, its
/// position (0 = newest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub slug: String,
    pub position: Option<i64>,
}

/// One write: the post before and after (`None` when it did not exist) and
/// the number of published posts before and after.
#[derive(Debug, Clone)]
pub struct Change {
    pub before: Option<Listed>,
    pub after: Option<Listed>,
    pub published_before: i64,
    pub published_after: i64,
}

/// Number of index pages for `n` published posts (page 1 always exists).
pub fn page_count(n: i64) -> i64 {
    ((n + PAGE_SIZE - 1) / PAGE_SIZE).max(1)
}

fn page_of(position: i64) -> i64 {
    position / PAGE_SIZE + 1
}

/// Every page whose content the change altered.
pub fn stale_pages(change: &Change) -> Vec<Page> {
    let mut pages = Vec::new();
    for listed in [&change.before, &change.after].into_iter().flatten() {
        let page = Page::Post(listed.slug.clone());
        if !pages.contains(&page) {
            pages.push(page);
        }
    }

    let before = change.before.as_ref().and_then(|l| l.position);
    let after = change.after.as_ref().and_then(|l| l.position);
    let pages_before = page_count(change.published_before);
    let pages_after = page_count(change.published_after);
    let last = pages_before.max(pages_after);
    let list_changed = before != after || change.published_before != change.published_after;

    let first = if pages_before != pages_after {
        Some(1) // every page shows the page count
    } else {
        match (before, after) {
            (Some(b), Some(a)) if !list_changed => Some(page_of(b.min(a))),
            (Some(b), Some(a)) => Some(page_of(b.min(a))),
            (Some(p), None) | (None, Some(p)) => Some(page_of(p)),
            (None, None) => None,
        }
    };
    if let Some(first) = first {
        // An edit in place changes only its own page; anything that moves
        // posts shifts every later page too.
        let end = if list_changed { last } else { first };
        pages.extend((first..=end).map(|n| Page::Index(n as u32)));
    }

    let in_feed = |p: Option<i64>| p.is_some_and(|p| p < FEED_LEN);
    if in_feed(before) || in_feed(after) {
        pages.push(Page::Feed);
    }
    pages
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(slug: &str, position: Option<i64>) -> Option<Listed> {
        Some(Listed {
            slug: slug.into(),
            position,
        })
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
    fn editing_a_post_in_place_touches_its_page_its_index_page_and_the_feed() {
        let change = Change {
            before: listed("a", Some(12)),
            after: listed("a", Some(12)),
            published_before: 35,
            published_after: 35,
        };
        let pages = stale_pages(&change);
        assert_eq!(
            pages,
            vec![Page::Post("a".into()), Page::Index(2), Page::Feed]
        );
    }

    #[test]
    fn renaming_a_slug_touches_both_post_pages() {
        let change = Change {
            before: listed("old", Some(30)),
            after: listed("new", Some(30)),
            published_before: 35,
            published_after: 35,
        };
        let pages = stale_pages(&change);
        assert_eq!(
            pages,
            vec![
                Page::Post("old".into()),
                Page::Post("new".into()),
                Page::Index(4)
            ]
        );
    }

    #[test]
    fn creating_the_newest_post_shifts_every_page() {
        let change = Change {
            before: None,
            after: listed("n", Some(0)),
            published_before: 25,
            published_after: 26,
        };
        assert_eq!(index_pages(&stale_pages(&change)), vec![1, 2, 3]);
        assert!(stale_pages(&change).contains(&Page::Feed));
    }

    #[test]
    fn deleting_an_old_post_touches_only_the_pages_from_it_on() {
        let change = Change {
            before: listed("o", Some(41)),
            after: None,
            published_before: 55,
            published_after: 54,
        };
        let pages = stale_pages(&change);
        assert_eq!(index_pages(&pages), vec![5, 6]);
        assert!(!pages.contains(&Page::Feed));
    }

    #[test]
    fn a_change_in_page_count_touches_every_index_page() {
        let change = Change {
            before: listed("o", Some(40)),
            after: None,
            published_before: 41,
            published_after: 40,
        };
        assert_eq!(index_pages(&stale_pages(&change)), vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn editing_a_draft_touches_no_list() {
        let change = Change {
            before: listed("d", None),
            after: listed("d", None),
            published_before: 5,
            published_after: 5,
        };
        assert_eq!(stale_pages(&change), vec![Page::Post("d".into())]);
    }

    #[test]
    fn unpublishing_shifts_the_pages_after_it() {
        let change = Change {
            before: listed("p", Some(15)),
            after: listed("p", None),
            published_before: 35,
            published_after: 34,
        };
        assert_eq!(index_pages(&stale_pages(&change)), vec![2, 3, 4]);
        assert!(stale_pages(&change).contains(&Page::Feed));
    }
}
