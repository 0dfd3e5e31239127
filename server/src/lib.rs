//! The shared multi-lot server (being built).
