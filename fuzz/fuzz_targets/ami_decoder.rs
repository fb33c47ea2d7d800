//! Arbitrary bytes as an AMI connection, fed in chunks whose sizes the input chooses: the
//! decoder must never panic and must hold memory within its limits; every message it yields
//! goes through the mapper (and a resync), which must never panic and must give valid events.
#![no_main]

use floorwatch_core::Organisation;
use floorwatch_core::ami::{AmiDecoder, AmiMapper, MAX_LINE_LEN, MAX_MESSAGE_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunking, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunking % 64) + 1;
    let mut decoder = AmiDecoder::new();
    let mut mapper = AmiMapper::new("ami:fuzz", &Organisation::default());
    let mut messages = Vec::new();
    let mut now = 1_700_000_000_000;
    for part in stream.chunks(chunk) {
        decoder.feed(part);
        while let Some(result) = decoder.next_message() {
            let Ok(message) = result else { continue };
            now += 250;
            for event in mapper.map(&message, now) {
                assert!(event.validate().is_ok(), "{event:?}");
            }
            messages.push(message);
        }
        assert!(
            decoder.buffered() <= MAX_MESSAGE_LEN + MAX_LINE_LEN + chunk,
            "decoder holds {} bytes",
            decoder.buffered()
        );
    }
    for event in mapper.resync(&messages, now + 1_000) {
        assert!(event.validate().is_ok(), "{event:?}");
    }
    for event in mapper.tick(now + 3_600_000) {
        assert!(event.validate().is_ok(), "{event:?}");
    }
});
