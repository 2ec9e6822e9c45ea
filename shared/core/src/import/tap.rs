//! The raw bytes under the CSV parser, kept from the current row on: they give
//! each row its exact physical lines (csv's own line count is off by one after
//! a CR LF, and counts skipped blank lines into the next row) and the raw text
//! of a row whose quoted field ran over the rows after it.

use std::io::{self, Read};

/// Bytes kept before the current row are dropped in slices of at least this
/// size, so that dropping is not a copy per row.
const RELEASE_BYTES: usize = 64 * 1024;

/// A reader that keeps what it read, from offset `base` on.
pub(super) struct Tap<R> {
    inner: R,
    kept: Vec<u8>,
    /// The file offset of `kept[0]`.
    base: u64,
}

impl<R> Tap<R> {
    pub(super) fn new(inner: R) -> Self {
        Self {
            inner,
            kept: Vec::with_capacity(2 * RELEASE_BYTES),
            base: 0,
        }
    }

    /// The reader under it.
    pub(super) fn inner(&self) -> &R {
        &self.inner
    }

    /// The bytes between two offsets already read; empty if they were released.
    pub(super) fn slice(&self, from: u64, to: u64) -> &[u8] {
        let start = from.saturating_sub(self.base) as usize;
        let end = (to.saturating_sub(self.base) as usize).min(self.kept.len());
        self.kept.get(start..end).unwrap_or_default()
    }

    /// Bytes before `offset` are no longer needed.
    pub(super) fn release(&mut self, offset: u64) {
        let done = offset.saturating_sub(self.base) as usize;
        if done >= RELEASE_BYTES {
            let done = done.min(self.kept.len());
            self.kept.drain(..done);
            self.base += done as u64;
        }
    }
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.kept.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// Line feeds in `bytes`: a CR LF ends one line, and so does a lone LF.
pub(super) fn newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn released_bytes_are_dropped_in_large_slices_and_offsets_stay_true() {
        let text: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut tap = Tap::new(text.as_slice());
        let mut sink = vec![0; 100_000];
        tap.read_exact(&mut sink).unwrap();
        tap.release(10);
        assert_eq!(tap.slice(10, 20), &text[10..20], "a small release keeps");
        tap.release(70_000);
        assert_eq!(tap.slice(70_000, 70_010), &text[70_000..70_010]);
        assert!(tap.slice(0, 10).is_empty(), "released");
        assert_eq!(newlines(b"a\r\nb\nc"), 2);
    }
}
