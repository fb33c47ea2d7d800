//! Asterisk queue_log: parsing into canonical events, and writing them back out.
