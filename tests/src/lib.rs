//! Integration tests, UI tests and examples of typed IPC (not published).
