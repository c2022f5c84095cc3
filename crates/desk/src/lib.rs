//! The editorial desk: accounts, sessions, CSRF and API tokens (`auth`), proposals and their
//! four-eyes review, the fact pages with their history (`proposals`), and the administrators'
//! pages for feedback, the outbox and webhooks (`feedback`).

pub mod answers;
pub mod auth;
pub mod feedback;
pub mod proposals;
