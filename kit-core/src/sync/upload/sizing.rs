//! How large an upload's chunks are: large on a good link (fewer requests), small on a
//! flaky one (little is resent when a connection is cut mid-chunk).

/// The smallest chunk the sizing shrinks to.
pub(crate) const MIN_CHUNK: u64 = 64 * 1024;

/// Clean chunks in a row before the chunk size doubles again.
const CLEAN_CHUNKS_TO_GROW: u32 = 16;

/// Chunk sizing for one run: the backend keeps only whole, checksummed chunks, so a cut
/// connection costs the part of the chunk already sent. When a chunk needed a retry the
/// size halves (down to [`MIN_CHUNK`]); after a run of clean chunks it doubles back up
/// to the configured size — on a good link chunks stay large (fewer requests), on a
/// flaky one little is resent.
#[derive(Debug, Clone)]
pub(crate) struct ChunkSizing {
    max: u64,
    size: u64,
    clean: u32,
}

impl ChunkSizing {
    pub(crate) fn new(max: u64) -> Self {
        let max = max.max(MIN_CHUNK.min(max.max(1)));
        Self {
            max,
            size: max,
            clean: 0,
        }
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    pub(crate) fn after_chunk(&mut self, needed_retry: bool) {
        if needed_retry {
            self.size = (self.size / 2).max(MIN_CHUNK).min(self.max);
            self.clean = 0;
        } else {
            self.clean += 1;
            if self.clean >= CLEAN_CHUNKS_TO_GROW {
                self.size = (self.size * 2).min(self.max);
                self.clean = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_shrink_on_trouble_and_grow_back_on_a_clean_link() {
        let mut sizing = ChunkSizing::new(1024 * 1024);
        assert_eq!(sizing.size(), 1024 * 1024);
        sizing.after_chunk(true);
        assert_eq!(sizing.size(), 512 * 1024);
        for _ in 0..10 {
            sizing.after_chunk(true);
        }
        assert_eq!(sizing.size(), MIN_CHUNK, "never below the minimum");
        for _ in 0..CLEAN_CHUNKS_TO_GROW {
            sizing.after_chunk(false);
        }
        assert_eq!(sizing.size(), 2 * MIN_CHUNK);
        for _ in 0..100 {
            sizing.after_chunk(false);
        }
        assert_eq!(
            sizing.size(),
            1024 * 1024,
            "never above the configured size"
        );
    }

    #[test]
    fn a_configured_size_below_the_minimum_is_kept() {
        let mut sizing = ChunkSizing::new(1024);
        sizing.after_chunk(true);
        assert_eq!(sizing.size(), 1024);
    }
}
