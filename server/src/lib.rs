//! floorwatch-server
