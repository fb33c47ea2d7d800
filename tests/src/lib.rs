//! floorwatch-tests
