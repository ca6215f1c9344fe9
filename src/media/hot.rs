//! The most recently read media files, in process, so a page with a few
//! pictures does not cost a database read per picture. Names are derived
//! from the content, so a name always means the same bytes and an entry is
//! never stale; the one way an entry outlives its row is a delete, which
//! only removes uploads no post shows.
//!
//! Bounded at `BUDGET` bytes; files larger than `LARGEST` are not kept (the
//! full-size originals, read rarely: pages link the resized copies).

use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Total bytes kept.
pub const BUDGET: usize = 32 * 1024 * 1024;
/// Largest file kept.
pub const LARGEST: usize = 2 * 1024 * 1024;

/// A served file: its content type and bytes.
#[derive(Debug, Clone)]
pub struct HotFile {
    pub content_type: &'static str,
    pub bytes: Bytes,
}

/// The cache: first in, first out once over budget.
#[derive(Default)]
pub struct HotFiles {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    files: HashMap<String, HotFile>,
    order: VecDeque<String>,
    size: usize,
}

impl HotFiles {
    pub fn get(&self, name: &str) -> Option<HotFile> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.files.get(name).cloned()
    }

    pub fn put(&self, name: &str, file: HotFile) {
        if file.bytes.len() > LARGEST {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.files.contains_key(name) {
            return;
        }
        inner.size += file.bytes.len();
        inner.order.push_back(name.to_string());
        inner.files.insert(name.to_string(), file);
        while inner.size > BUDGET {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            if let Some(gone) = inner.files.remove(&old) {
                inner.size -= gone.bytes.len();
            }
        }
    }

    /// Forgets files (of a deleted upload).
    pub fn remove(&self, names: &[String]) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        for name in names {
            if let Some(gone) = inner.files.remove(name) {
                inner.size -= gone.bytes.len();
                inner.order.retain(|n| n != name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(len: usize) -> HotFile {
        HotFile {
            content_type: "image/png",
            bytes: Bytes::from(vec![0u8; len]),
        }
    }

    #[test]
    fn the_oldest_files_leave_once_over_budget() {
        let hot = HotFiles::default();
        for i in 0..40 {
            hot.put(&format!("f{i}"), file(1024 * 1024));
        }
        assert!(hot.get("f0").is_none());
        assert!(hot.get("f39").is_some());
        let inner = hot.inner.lock().unwrap();
        assert!(inner.size <= BUDGET);
        assert_eq!(inner.size, inner.files.len() * 1024 * 1024);
    }

    #[test]
    fn large_files_are_not_kept() {
        let hot = HotFiles::default();
        hot.put("big", file(LARGEST + 1));
        assert!(hot.get("big").is_none());
    }
}
