//! The public site: every page computed once as data and answered as HTML, its JSON twin and
//! CSV (`pages`, `obligations_pages`, `impact_pages`: casualties, use, Art. 7 reporting), the world map (`map`), the Atom feeds, and the JSON API's
//! read handlers (`api`). Nothing here reaches accounts, subscribers or feedback.

pub mod api;
pub mod impact_pages;
pub mod map;
pub mod obligations_pages;
pub mod pages;
