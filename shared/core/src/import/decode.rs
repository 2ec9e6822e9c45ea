//! Exports as UTF-8, whatever they were written in: UTF-8 passes through, a
//! file that is not valid UTF-8 is decoded as Windows-1252 (what Excel writes in
//! France). In `auto`, the choice is made at the first byte beyond ASCII, where
//! the two first differ: everything before it reads the same in both, so no
//! byte already read is ever reinterpreted.

use std::io::{self, Read};

use serde::Serialize;

use crate::config::EncodingSetting;

/// Raw bytes read at a time.
const CHUNK: usize = 64 * 1024;

/// What a file turned out to be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// UTF-8, or nothing beyond ASCII (the same in both).
    Utf8,
    /// Windows-1252.
    Windows1252,
}

impl Encoding {
    /// As said in summaries.
    pub fn name(self) -> &'static str {
        match self {
            Self::Utf8 => "UTF-8",
            Self::Windows1252 => "Windows-1252",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Only ASCII so far, in `auto`.
    Undecided,
    Decided(Encoding),
}

/// A reader giving UTF-8 from a file in UTF-8 or Windows-1252.
pub struct Decoded<R> {
    inner: R,
    mode: Mode,
    raw: Vec<u8>,
    /// The first raw byte not handled yet.
    start: usize,
    eof: bool,
    out: Vec<u8>,
    out_at: usize,
    decoder: encoding_rs::Decoder,
}

impl<R: Read> Decoded<R> {
    /// Decodes `inner` as `setting` says.
    pub fn new(inner: R, setting: EncodingSetting) -> Self {
        Self {
            inner,
            mode: match setting {
                EncodingSetting::Auto => Mode::Undecided,
                EncodingSetting::Utf8 => Mode::Decided(Encoding::Utf8),
                EncodingSetting::Windows1252 => Mode::Decided(Encoding::Windows1252),
            },
            raw: Vec::with_capacity(CHUNK),
            start: 0,
            eof: false,
            out: Vec::new(),
            out_at: 0,
            decoder: encoding_rs::WINDOWS_1252.new_decoder_without_bom_handling(),
        }
    }

    /// The encoding read so far (UTF-8 while nothing beyond ASCII was met).
    pub fn encoding(&self) -> Encoding {
        match self.mode {
            Mode::Undecided => Encoding::Utf8,
            Mode::Decided(encoding) => encoding,
        }
    }

    /// Reads more raw bytes after those not handled yet; false at the end.
    fn refill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        self.raw.drain(..self.start);
        self.start = 0;
        let kept = self.raw.len();
        self.raw.resize(kept + CHUNK, 0);
        let n = loop {
            match self.inner.read(&mut self.raw[kept..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let n = n.inspect_err(|_| self.raw.truncate(kept))?;
        self.raw.truncate(kept + n);
        self.eof = n == 0;
        Ok(n > 0)
    }

    /// Turns the raw bytes at hand into output; false when there are none left.
    fn produce(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.out_at = 0;
        if self.start == self.raw.len() && !self.refill()? {
            return Ok(false);
        }
        loop {
            let pending = &self.raw[self.start..];
            match self.mode {
                Mode::Decided(Encoding::Utf8) => {
                    self.out.extend_from_slice(pending);
                    self.start = self.raw.len();
                }
                Mode::Decided(Encoding::Windows1252) => {
                    let base = self.out.len();
                    self.out.resize(base + pending.len() * 3 + 16, 0);
                    let (_, read, written, _) =
                        self.decoder
                            .decode_to_utf8(pending, &mut self.out[base..], self.eof);
                    self.out.truncate(base + written);
                    self.start += read;
                }
                Mode::Undecided => {
                    let ascii = pending.iter().take_while(|b| b.is_ascii()).count();
                    self.out.extend_from_slice(&pending[..ascii]);
                    self.start += ascii;
                    if self.start == self.raw.len() {
                        return Ok(true);
                    }
                    match std::str::from_utf8(&self.raw[self.start..]) {
                        // A sequence cut by the chunk: read on; at the end of
                        // the file, it is not UTF-8.
                        Err(e) if e.valid_up_to() == 0 && e.error_len().is_none() => {
                            if !self.refill()? {
                                self.mode = Mode::Decided(Encoding::Windows1252);
                            }
                        }
                        Err(e) if e.valid_up_to() == 0 => {
                            self.mode = Mode::Decided(Encoding::Windows1252);
                        }
                        _ => self.mode = Mode::Decided(Encoding::Utf8),
                    }
                    // The rest of what is at hand, as now decided.
                    continue;
                }
            }
            return Ok(true);
        }
    }
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_at == self.out.len() {
            if !self.produce()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.out_at);
        buf[..n].copy_from_slice(&self.out[self.out_at..self.out_at + n]);
        self.out_at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads everything through a reader that gives `step` bytes at a time.
    fn decode(bytes: &[u8], setting: EncodingSetting, step: usize) -> (String, Encoding) {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut reader = Decoded::new(Trickle(bytes, step), setting);
        let mut text = String::new();
        reader.read_to_string(&mut text).expect("UTF-8 out");
        (text, reader.encoding())
    }

    #[test]
    fn utf8_passes_through_and_windows_1252_is_decoded_whatever_the_chunks() {
        let utf8 = "id,titre\n1,Les Misérables — €\n".as_bytes();
        let cp1252 = b"id,titre\n1,Les Mis\xe9rables \x97 \x80\n";
        for step in [1, 2, 3, 7, 64 * 1024] {
            assert_eq!(
                decode(utf8, EncodingSetting::Auto, step),
                ("id,titre\n1,Les Misérables — €\n".into(), Encoding::Utf8),
                "step {step}"
            );
            assert_eq!(
                decode(cp1252, EncodingSetting::Auto, step),
                (
                    "id,titre\n1,Les Misérables — €\n".into(),
                    Encoding::Windows1252
                ),
                "step {step}"
            );
        }
    }

    #[test]
    fn a_setting_fixes_the_encoding() {
        let (text, encoding) = decode("é".as_bytes(), EncodingSetting::Windows1252, 4);
        assert_eq!((text.as_str(), encoding), ("Ã©", Encoding::Windows1252));
        let (text, encoding) = decode(b"ok", EncodingSetting::Utf8, 4);
        assert_eq!((text.as_str(), encoding), ("ok", Encoding::Utf8));
    }

    #[test]
    fn a_file_cut_in_a_utf8_sequence_is_windows_1252_and_ascii_is_utf8() {
        assert_eq!(
            decode(b"abc\xc3", EncodingSetting::Auto, 2),
            ("abcÃ".into(), Encoding::Windows1252)
        );
        assert_eq!(decode(b"abc", EncodingSetting::Auto, 1).1, Encoding::Utf8);
        assert_eq!(
            decode(b"", EncodingSetting::Auto, 1),
            (String::new(), Encoding::Utf8)
        );
    }
}
