//! Process-level tests: the real `selah` binary, run as a child process.

mod audit;
