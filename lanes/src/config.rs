//! Lane configuration (filled in with the runtime).
