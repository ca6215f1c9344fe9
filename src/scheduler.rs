//! Scheduled posts go live by themselves: every instance looks for posts
//! whose time has come and puts each live through the write path (see
//! `posts::go_live`, which makes it happen exactly once across instances).
//! An instance that was down when the moment passed does it on its first
//! pass; any other instance does it meanwhile.

use crate::cache::PageCache;
use crate::db::Db;
use crate::posts;
use std::time::Duration;

/// How often each instance looks; with the lease wait this keeps a go-live
/// well within two seconds of its moment.
const EVERY: Duration = Duration::from_millis(250);

/// One pass: puts every due post live; how many this instance did.
pub async fn run_once(db: &Db, cache: &PageCache) -> usize {
    let due = match posts::due(db).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "cannot look for scheduled posts");
            return 0;
        }
    };
    let mut done = 0;
    for id in due {
        match posts::go_live(db, cache, id).await {
            Ok(true) => {
                tracing::info!(post_id = id, "scheduled post is live");
                done += 1;
            }
            Ok(false) => {} // another instance was first
            Err(e) => tracing::warn!(post_id = id, error = %e, "cannot put a scheduled post live"),
        }
    }
    done
}

pub fn spawn(db: Db, cache: PageCache) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            run_once(&db, &cache).await;
        }
    });
}
