//! Asterisk Manager Interface: the message codec and the mapping of AMI events to canonical events.
