//! Arbitrary bytes as a queue_log file: the reader must never panic, must report every error
//! with the line it came from, and every event it gives must be valid. The lines it accepts are
//! written back and read again, which must not panic either.
#![no_main]

use floorwatch_core::queue_log::{QueueLogReader, QueueLogWriter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut reader = QueueLogReader::new("queue-log:fuzz");
    let mut writer = QueueLogWriter::new();
    let mut written = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        match reader.read_line(line_no, line) {
            Ok(events) => {
                for event in &events {
                    assert!(
                        event.validate().is_ok(),
                        "invalid event from {line:?}: {event:?}"
                    );
                    written.extend(writer.write(event));
                }
            }
            Err(error) => assert_eq!(error.line, line_no),
        }
    }
    let mut again = QueueLogReader::new("queue-log:fuzz-again");
    for (i, line) in written.iter().enumerate() {
        let _ = again.read_line(i as u64 + 1, line);
    }
});
