//! Content-addressed speech cache with single flight: one synthesis per (engine, voice,
//! language, text), however many callers ask at once.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::BriefingError;
use crate::config::Language;

/// What a cached clip is made of. The engine id includes the voice.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// [`super::Engine::id`]: engine and voice.
    pub engine: String,
    /// Language of the text.
    pub language: Language,
    /// The text spoken.
    pub text: String,
}

type Cell = Arc<OnceCell<Arc<[i16]>>>;

/// Speech by content, oldest evicted past `capacity` entries.
pub struct SpeechCache {
    inner: Mutex<Entries>,
    capacity: usize,
}

#[derive(Default)]
struct Entries {
    map: HashMap<CacheKey, Cell>,
    order: VecDeque<CacheKey>,
}

impl SpeechCache {
    /// A cache holding at most `capacity` clips.
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Entries::default()),
            capacity: capacity.max(1),
        }
    }

    fn cell(&self, key: &CacheKey) -> Cell {
        // A poisoned lock only means another thread panicked mid-insert; the map is still whole.
        let mut e = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(cell) = e.map.get(key) {
            return cell.clone();
        }
        while e.order.len() >= self.capacity {
            if let Some(old) = e.order.pop_front() {
                e.map.remove(&old);
            }
        }
        let cell = Cell::default();
        e.map.insert(key.clone(), cell.clone());
        e.order.push_back(key.clone());
        cell
    }

    /// The clip for `key`, if already synthesized.
    pub fn get(&self, key: &CacheKey) -> Option<Arc<[i16]>> {
        let e = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        e.map.get(key).and_then(|c| c.get().cloned())
    }

    /// The clip for `key`, running `make` if nobody has; concurrent callers for one key wait
    /// for the one synthesis. A failed synthesis is not cached: the next caller tries again.
    pub async fn get_or_make<F, Fut>(
        &self,
        key: &CacheKey,
        make: F,
    ) -> Result<Arc<[i16]>, BriefingError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Arc<[i16]>, BriefingError>>,
    {
        self.cell(key).get_or_try_init(make).await.cloned()
    }

    /// Number of entries (synthesized or in flight).
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map
            .len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
