//! The auditor console: every page for every role over `Router::oneshot`, the integrity
//! chain against tampering (and `hotline verify`), and one headless-Chromium check of the
//! call page's player.

mod browser;
mod fixture;
mod integrity;
mod router;
