//! The lanes runtime (filled in next).
