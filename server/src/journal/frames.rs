//! The journal's frames: a run of NDJSON event lines compressed by zstd, behind a header that
//! says which events of the journal's sequence it holds.
//!
//! ```text
//! frame  := header zstd_frame
//! header := 0x184D2A5E (u32 LE)  size 28 (u32 LE)        <- a zstd "skippable frame"
//!           "FWJ1"  first (u64 LE)  events (u32 LE)
//!           compressed length (u32 LE)  NDJSON length (u32 LE)  CRC-32 of the 24 bytes before
//! zstd_frame := the events' NDJSON lines (each ending in `\n`), zstd level 1, content checksum on
//! ```
//!
//! The header is a zstd skippable frame, so a day file is also a plain zstd file:
//! `zstd -dc 2026-12-06.fwj` prints its events (without the sequence numbers;
//! `floorwatch journal cat` prints the whole journal in its order).
//!
//! Damage is counted exactly: a header whose CRC fails is skipped up to the next header that
//! reads (the events in between are found missing from the sequence, and counted, by
//! `super::index`); a body whose zstd checksum fails loses exactly the header's `events`. An
//! incomplete frame at the end of a file is a torn write (never acknowledged: acknowledgement
//! waits for the whole frame to be written and, by default, synced).

use std::fs::File;
use std::os::unix::fs::FileExt;

/// A zstd skippable frame's magic number (0x184D2A50..=0x184D2A5F are reserved for them).
const SKIPPABLE_MAGIC: u32 = 0x184D_2A5E;
/// The tag opening the header's own bytes.
const TAG: &[u8; 4] = b"FWJ1";
/// Bytes of the header's content (after magic and size).
const CONTENT: usize = 28;
/// Bytes of a whole header.
pub(crate) const HEADER_LEN: usize = 8 + CONTENT;
/// zstd's level. On the journal's NDJSON frames (1 MiB at most, a sender's batch each) level 1
/// is both faster than level 3 (about 1.5x; it runs on the request's task, 5 % of the server's
/// CPU in a replay) and smaller: 16.2 against 17.4 bytes an event for the large day, 23.8
/// against 25.9 for the 30-day queue_log (BENCHMARKS.md, "Sixth pass: ingest"). Negative
/// levels are a quarter bigger or more for little or no speed. Decompression reads any level.
const LEVEL: i32 = 1;
/// zstd's hash table, log2 of its entries (level 1 picks a larger one by itself): with
/// 1,024 entries the journal's frames are 10 % smaller at the same speed (the large day's
/// 900 KB frames 2.17 -> 1.96 MB for 24 of them), because an event line's nearest match is
/// most often the line before, which a small table keeps and a large one shares with older
/// positions (BENCHMARKS.md, "Ninth pass: ingest and the replay client"). Decompression does
/// not depend on it: a journal written with any table reads the same.
const HASH_LOG: u32 = 10;

/// What a frame's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    /// The journal sequence number of its first event.
    pub(crate) first: u64,
    pub(crate) events: u32,
    /// Bytes of the compressed body following the header.
    pub(crate) compressed: u32,
    /// Bytes of the NDJSON lines once decompressed.
    pub(crate) raw: u32,
}

impl FrameHeader {
    /// The sequence number after its last event.
    pub(crate) fn end(&self) -> u64 {
        self.first + u64::from(self.events)
    }

    /// Bytes of the whole frame, header included.
    pub(crate) fn frame_len(&self) -> u64 {
        HEADER_LEN as u64 + u64::from(self.compressed)
    }

    fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&SKIPPABLE_MAGIC.to_le_bytes());
        out[4..8].copy_from_slice(&(CONTENT as u32).to_le_bytes());
        out[8..12].copy_from_slice(TAG);
        out[12..20].copy_from_slice(&self.first.to_le_bytes());
        out[20..24].copy_from_slice(&self.events.to_le_bytes());
        out[24..28].copy_from_slice(&self.compressed.to_le_bytes());
        out[28..32].copy_from_slice(&self.raw.to_le_bytes());
        let crc = crc32fast::hash(&out[8..32]);
        out[32..36].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// `None` unless `bytes` (at least [`HEADER_LEN`]) start with a header whose CRC holds.
    pub(crate) fn decode(bytes: &[u8]) -> Option<FrameHeader> {
        let bytes = bytes.get(..HEADER_LEN)?;
        let u32_at = |at: usize| {
            let mut b = [0u8; 4];
            b.copy_from_slice(&bytes[at..at + 4]);
            u32::from_le_bytes(b)
        };
        if u32_at(0) != SKIPPABLE_MAGIC || u32_at(4) != CONTENT as u32 || &bytes[8..12] != TAG {
            return None;
        }
        if crc32fast::hash(&bytes[8..32]) != u32_at(32) {
            return None;
        }
        let mut first = [0u8; 8];
        first.copy_from_slice(&bytes[12..20]);
        Some(FrameHeader {
            first: u64::from_le_bytes(first),
            events: u32_at(20),
            compressed: u32_at(24),
            raw: u32_at(28),
        })
    }
}

/// Whether `tail` (shorter than a header) could be the start of one: a header torn mid-write.
pub(crate) fn could_start_header(tail: &[u8]) -> bool {
    let mut fixed = [0u8; 12];
    fixed[0..4].copy_from_slice(&SKIPPABLE_MAGIC.to_le_bytes());
    fixed[4..8].copy_from_slice(&(CONTENT as u32).to_le_bytes());
    fixed[8..12].copy_from_slice(TAG);
    let n = tail.len().min(fixed.len());
    !tail.is_empty() && tail[..n] == fixed[..n]
}

/// The first offset at or after `from` in `bytes` where a readable header starts.
pub(crate) fn find_header(bytes: &[u8], from: usize) -> Option<usize> {
    let magic = SKIPPABLE_MAGIC.to_le_bytes();
    let mut at = from;
    while at + HEADER_LEN <= bytes.len() {
        let rest = &bytes[at..];
        let hit = rest.windows(4).position(|w| w == magic)?;
        let candidate = at + hit;
        if FrameHeader::decode(&bytes[candidate..]).is_some() {
            return Some(candidate);
        }
        at = candidate + 1;
    }
    None
}

/// Compresses runs of lines into frames, reusing zstd's context between frames.
pub(crate) struct Encoder {
    compressor: zstd::bulk::Compressor<'static>,
    body: Vec<u8>,
}

impl Encoder {
    pub(crate) fn new() -> std::io::Result<Encoder> {
        let mut compressor = zstd::bulk::Compressor::new(LEVEL)?;
        compressor.set_parameter(zstd::zstd_safe::CParameter::HashLog(HASH_LOG))?;
        compressor.include_checksum(true)?;
        compressor.include_contentsize(true)?;
        Ok(Encoder {
            compressor,
            body: Vec::new(),
        })
    }

    /// Appends to `out` the frame of `lines` (`events` whole NDJSON lines), numbered from
    /// `first`.
    pub(crate) fn frame(
        &mut self,
        lines: &[u8],
        events: u32,
        first: u64,
        out: &mut Vec<u8>,
    ) -> std::io::Result<()> {
        let mut body = std::mem::take(&mut self.body);
        let packed = self.compress(lines, events, &mut body);
        let framed = packed.and_then(|p| p.frame(&body, first, out));
        self.body = body;
        framed
    }

    /// A frame's body for `lines` (`events` whole NDJSON lines), numbered later: what a
    /// source's own task compresses so that the recorder's thread only writes it
    /// ([`PackedLines`]).
    pub(crate) fn pack(&mut self, lines: &[u8], events: u32) -> std::io::Result<PackedLines> {
        let mut body = Vec::new();
        let packed = self.compress(lines, events, &mut body)?;
        Ok(PackedLines { body, ..packed })
    }

    /// Compresses `lines` into `body` (emptied first); what the header will say of them.
    fn compress(
        &mut self,
        lines: &[u8],
        events: u32,
        body: &mut Vec<u8>,
    ) -> std::io::Result<PackedLines> {
        body.clear();
        body.reserve(zstd::zstd_safe::compress_bound(lines.len()));
        self.compressor.compress_to_buffer(lines, body)?;
        let too_big = |_| std::io::Error::other("a journal frame over 4 GiB");
        Ok(PackedLines {
            body: Vec::new(),
            events,
            compressed: u32::try_from(body.len()).map_err(too_big)?,
            raw: u32::try_from(lines.len()).map_err(too_big)?,
        })
    }
}

/// A frame's compressed body and what its header will say of it, all but the sequence number
/// of its first event (given when the journal appends it): made off the recorder's thread by
/// [`Encoder::pack`], written by [`PackedLines::write_frame`] (issue 15: compression was 5 %
/// of the server's CPU in a replay, all of it on the one serial thread).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PackedLines {
    body: Vec<u8>,
    events: u32,
    compressed: u32,
    raw: u32,
}

impl PackedLines {
    /// Events in it.
    pub(crate) fn events(&self) -> u32 {
        self.events
    }

    /// Bytes of its NDJSON lines before compression.
    #[cfg(test)]
    pub(crate) fn raw_len(&self) -> usize {
        self.raw as usize
    }

    /// Appends to `out` its frame, numbered from `first`.
    pub(crate) fn write_frame(&self, first: u64, out: &mut Vec<u8>) -> std::io::Result<()> {
        self.frame(&self.body, first, out)
    }

    /// Appends to `out` the header numbered from `first` and `body` (which this describes).
    fn frame(&self, body: &[u8], first: u64, out: &mut Vec<u8>) -> std::io::Result<()> {
        let header = FrameHeader {
            first,
            events: self.events,
            compressed: self.compressed,
            raw: self.raw,
        };
        out.extend_from_slice(&header.encode());
        out.extend_from_slice(body);
        Ok(())
    }
}

/// Decompresses frame bodies, reusing zstd's context and the output buffer.
pub(crate) struct Decoder {
    decompressor: zstd::bulk::Decompressor<'static>,
    body: Vec<u8>,
    pub(crate) lines: Vec<u8>,
}

impl Decoder {
    pub(crate) fn new() -> std::io::Result<Decoder> {
        Ok(Decoder {
            decompressor: zstd::bulk::Decompressor::new()?,
            body: Vec::new(),
            lines: Vec::new(),
        })
    }

    /// Reads the body of the frame at `offset` of `file` into [`Decoder::lines`]; `Err` with a
    /// reason when the body is damaged (its checksum or its length does not hold).
    pub(crate) fn read(
        &mut self,
        file: &File,
        offset: u64,
        header: &FrameHeader,
    ) -> std::io::Result<Result<(), String>> {
        self.body.resize(header.compressed as usize, 0);
        file.read_exact_at(&mut self.body, offset + HEADER_LEN as u64)?;
        self.lines.clear();
        self.lines.reserve(header.raw as usize);
        Ok(
            match self
                .decompressor
                .decompress_to_buffer(&self.body, &mut self.lines)
            {
                Ok(n) if n == header.raw as usize => Ok(()),
                Ok(n) => Err(format!(
                    "the frame's body holds {n} bytes, its header says {}",
                    header.raw
                )),
                Err(e) => Err(format!("the frame's body does not decompress: {e}")),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_reads_back_and_a_flipped_bit_is_caught() {
        let header = FrameHeader {
            first: 48_213,
            events: 500,
            compressed: 9_000,
            raw: 80_000,
        };
        let bytes = header.encode();
        assert_eq!(FrameHeader::decode(&bytes), Some(header));
        for i in 0..HEADER_LEN {
            let mut bad = bytes;
            bad[i] ^= 0x10;
            assert_eq!(FrameHeader::decode(&bad), None, "byte {i}");
        }
        assert!(could_start_header(&bytes[..7]));
        assert!(!could_start_header(b"{\"v\":1"));
        let mut padded = vec![0u8; 10];
        padded.extend_from_slice(&bytes);
        assert_eq!(find_header(&padded, 0), Some(10));
        assert_eq!(find_header(&padded, 11), None);
    }

    /// Lines of events as a replay sends them: similar lines, ids counting up.
    fn event_lines(n: u32) -> Vec<u8> {
        let mut lines = Vec::new();
        for i in 0..n {
            lines.extend_from_slice(
                format!(
                    "{{\"v\":1,\"id\":\"e{i}\",\"source\":\"sim\",\"seq\":{i},\"ts\":{},\"type\":\"call_answered\",\"call\":\"c{}\",\"agent\":\"a{}\",\"wait_ms\":{}}}\n",
                    1_700_000_000_000u64 + u64::from(i) * 37,
                    i / 3,
                    i % 97,
                    (i * 7919) % 60_000
                )
                .as_bytes(),
            );
        }
        lines
    }

    /// A body compressed as an older build did (level 1, zstd's own hash table) reads back
    /// with today's decoder, and today's bodies are no bigger than those.
    #[test]
    fn bodies_of_older_builds_read_back_and_todays_are_no_bigger() {
        let lines = event_lines(5_000);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("frames");
        let mut file = Vec::new();
        let mut old = zstd::bulk::Compressor::new(LEVEL).unwrap();
        old.include_checksum(true).unwrap();
        old.include_contentsize(true).unwrap();
        let old_body = old.compress(&lines).unwrap();
        let header = |first: u64, body: &[u8]| FrameHeader {
            first,
            events: 5_000,
            compressed: body.len() as u32,
            raw: lines.len() as u32,
        };
        file.extend_from_slice(&header(0, &old_body).encode());
        file.extend_from_slice(&old_body);
        let new_at = file.len() as u64;
        let mut encoder = Encoder::new().unwrap();
        encoder.frame(&lines, 5_000, 5_000, &mut file).unwrap();
        std::fs::write(&path, &file).unwrap();
        let new = FrameHeader::decode(&file[new_at as usize..]).unwrap();
        assert!(
            new.compressed <= old_body.len() as u32,
            "{new:?} {}",
            old_body.len()
        );
        let file = File::open(&path).unwrap();
        let mut decoder = Decoder::new().unwrap();
        for (offset, header) in [(0, header(0, &old_body)), (new_at, new)] {
            decoder.read(&file, offset, &header).unwrap().unwrap();
            assert_eq!(decoder.lines, lines);
        }
    }
}
