//! [`StreamHomes`]: which JetStream context holds each stream a process reads.
//!
//! A site holds every stream it reads in its own account. The hub does not: its intents live in the hub account,
//! and the copy of each site's stream lives in that site's own account at the hub (one account per site is the
//! isolation boundary, DESIGN §9), reached through the hub's user inside that account. Readers ask the homes for
//! a stream's context instead of holding one context.

use async_nats::jetstream::context::Context;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// Stream name → the context that holds it; streams not placed anywhere live in the default context.
#[derive(Clone)]
pub struct StreamHomes {
    default: Context,
    placed: Arc<RwLock<BTreeMap<String, Context>>>,
}

impl std::fmt::Debug for StreamHomes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamHomes")
            .field("placed", &self.placed_streams())
            .finish_non_exhaustive()
    }
}

impl StreamHomes {
    /// Every stream in `default`.
    pub fn single(default: Context) -> Self {
        Self {
            default,
            placed: Arc::default(),
        }
    }

    /// From now on `stream` is read (and written) through `js`.
    pub fn place(&self, stream: &str, js: Context) {
        self.placed
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(stream.to_owned(), js);
    }

    /// The context holding `stream`.
    pub fn of(&self, stream: &str) -> Context {
        self.placed
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(stream)
            .cloned()
            .unwrap_or_else(|| self.default.clone())
    }

    /// The default context.
    pub fn default_home(&self) -> &Context {
        &self.default
    }

    /// The streams placed outside the default context.
    pub fn placed_streams(&self) -> Vec<String> {
        self.placed
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }
}
