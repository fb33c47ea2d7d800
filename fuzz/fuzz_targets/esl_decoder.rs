//! Arbitrary bytes as an event socket connection, fed in chunks whose sizes the input
//! chooses: the decoder must never panic and must hold memory within its limits; every event
//! it yields goes through the mod_callcenter mapper, and every api body through the resync,
//! which must never panic and must give valid events.
#![no_main]

use floorwatch_core::Organisation;
use floorwatch_core::esl::{ApiTable, EslDecoder, EslMapper, MAX_BODY_LEN, MAX_LINE_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunking, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunking % 64) + 1;
    let mut decoder = EslDecoder::new();
    let mut mapper = EslMapper::new("esl:fuzz", &Organisation::default());
    let mut tables = Vec::new();
    let mut now = 1_700_000_000_000;
    for part in stream.chunks(chunk) {
        decoder.feed(part);
        while let Some(result) = decoder.next_frame() {
            let Ok(frame) = result else { continue };
            now += 250;
            if let Ok(headers) = frame.event() {
                for event in mapper.map(&headers, now) {
                    assert!(event.validate().is_ok(), "{event:?}");
                }
            }
            tables.push(ApiTable::parse(&frame.body));
        }
        assert!(
            decoder.buffered() <= MAX_BODY_LEN + MAX_LINE_LEN * 2 + chunk,
            "decoder holds {} bytes",
            decoder.buffered()
        );
    }
    for event in mapper.resync_agents(&tables, &tables, now + 1_000) {
        assert!(event.validate().is_ok(), "{event:?}");
    }
    for table in &tables {
        for event in mapper.resync_members(table, now + 2_000) {
            assert!(event.validate().is_ok(), "{event:?}");
        }
    }
});
