//! floorwatch-sim
