//! The as-of rule: when a fact becomes part of "the world as of a date".
//!
//! The world as of D is what had happened **and had been published** by D (DOMAIN.md, "Two
//! clocks"). This module is the only place that says so: the store's "as of" reads and the
//! treaty engine both ask [`Known::visible`], so a profile's facts and the status derived from
//! them can never disagree about which facts exist on a date.
//!
//! - A dated fact has happened once the **last** day its date can mean has come: an event dated
//!   only "2012" counts from 31 December 2012 (a grant "in 2012" is not in force on 1 March 2012).
//! - It has been published once the first of its sources has: each source counts from its
//!   publication date (again from the end of that period), and a source without a publication
//!   date from the fact's own date. So a dated fact none of whose sources has a publication date
//!   counts from its own date, and one cited by an undated source and by a later report counts
//!   from its own date too.
//! - An undated fact counts from the earliest publication of its sources; when no source has a
//!   publication date either, from the day minewatch recorded it (a source must have published
//!   it by then), and failing that it is always known.
//!
//! The record axis (`record=N`: what minewatch itself had recorded) is separate and is applied
//! before this rule.

use crate::date::{Date, PartialDate};
use serde::Serialize;
use std::fmt;

/// What decides the first day a fact is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KnownBasis {
    /// The fact's own date (its sources were published by then, or carry no date).
    Event,
    /// The earliest publication of its sources, later than the fact's own date or the fact has
    /// none.
    Publication,
    /// Undated, and no source has a publication date: the day minewatch recorded it.
    Recorded,
    /// Undated, no dated source, no record time: known on every date.
    Always,
}

/// When a fact enters the world of "as of" views, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
pub struct Known {
    /// The first day on which the fact is part of the world (`None`: always).
    pub from: Option<Date>,
    pub basis: KnownBasis,
    /// The fact's own date, as precise as its source.
    pub event: Option<PartialDate>,
    /// The earliest publication date among its sources.
    pub published: Option<PartialDate>,
}

impl Known {
    /// Applies the rule to a fact's date, its sources' publication dates (`None` for a source
    /// without one) and the day it was recorded.
    pub fn of(
        event: Option<PartialDate>,
        published: impl IntoIterator<Item = Option<PartialDate>>,
        recorded: Option<Date>,
    ) -> Known {
        let event_end = event.map(PartialDate::latest);
        // Each source counts from its own publication; a source without one, from the fact's
        // own date (when the fact has one).
        let mut earliest: Option<PartialDate> = None;
        let mut pub_end: Option<Date> = None;
        for p in published {
            let end = match p {
                Some(p) => {
                    if earliest
                        .is_none_or(|e| (p.latest(), p.earliest()) < (e.latest(), e.earliest()))
                    {
                        earliest = Some(p);
                    }
                    Some(p.latest())
                }
                None => event_end,
            };
            if let Some(end) = end {
                pub_end = Some(pub_end.map_or(end, |x: Date| x.min(end)));
            }
        }
        let published = earliest;
        let (from, basis) = match (event_end, pub_end) {
            (Some(e), Some(p)) if p > e => (Some(p), KnownBasis::Publication),
            (Some(e), _) => (Some(e), KnownBasis::Event),
            (None, Some(p)) => (Some(p), KnownBasis::Publication),
            (None, None) => match recorded {
                Some(r) => (Some(r), KnownBasis::Recorded),
                None => (None, KnownBasis::Always),
            },
        };
        Known {
            from,
            basis,
            event,
            published,
        }
    }

    /// Is the fact part of the world as of `as_of`?
    pub fn visible(&self, as_of: Date) -> bool {
        self.from.is_none_or(|d| d <= as_of)
    }

    /// Did the fact's date fall in a period longer than a day, so that it counts from the end
    /// of that period?
    pub fn counted_from_period_end(&self) -> bool {
        self.basis == KnownBasis::Event
            && self
                .event
                .is_some_and(|e| e.as_day().is_none() && self.from == Some(e.latest()))
    }
}

/// The rule in words, for reasons ("known from 31 December 2012: dated only to 2012, so it
/// counts from the end of that year").
impl fmt::Display for Known {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(from) = self.from else {
            return f.write_str("known on every date: undated, and no source or record date");
        };
        match self.basis {
            KnownBasis::Event => match self.event {
                Some(e) if e.as_day().is_none() => write!(
                    f,
                    "known from {}: dated only to {}, so it counts from the end of that period",
                    from.long(),
                    e.long()
                ),
                _ => write!(f, "known from {}, its date", from.long()),
            },
            KnownBasis::Publication => {
                let what = match self.event {
                    Some(e) => format!("dated {}, ", e.long()),
                    None => "undated, ".to_string(),
                };
                let when = match self.published {
                    Some(p) if p.as_day().is_none() => {
                        format!("{} (the end of {})", from.long(), p.long())
                    }
                    _ => from.long(),
                };
                write!(
                    f,
                    "known from {when}: {what}first published then by its earliest source"
                )
            }
            KnownBasis::Recorded => write!(
                f,
                "known from {}: undated and no source has a publication date, so it counts from the day this record received it",
                from.long()
            ),
            KnownBasis::Always => f.write_str("known on every date"),
        }
    }
}

/// The day of an RFC 3339 record time (`2026-12-02T10:00:00Z` -> 2 December 2026).
pub fn record_day(recorded_at: &str) -> Option<Date> {
    recorded_at.get(..10).and_then(|s| Date::parse(s).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> PartialDate {
        PartialDate::parse(s).expect("date")
    }
    fn d(s: &str) -> Date {
        Date::parse(s).expect("date")
    }

    #[test]
    fn a_grant_in_2012_is_not_known_on_1_march_2012() {
        let k = Known::of(Some(p("2012")), [None], None);
        assert!(!k.visible(d("2012-03-01")));
        assert!(k.visible(d("2012-12-31")));
        assert!(k.counted_from_period_end());
        assert!(k.to_string().contains("dated only to 2012"), "{k}");
    }

    #[test]
    fn an_undated_fact_counts_from_its_earliest_source() {
        let k = Known::of(
            None,
            [Some(p("2020-11")), None, Some(p("2021-02-03"))],
            None,
        );
        assert_eq!(k.from, Some(d("2020-11-30")));
        assert_eq!(k.basis, KnownBasis::Publication);
        assert!(!k.visible(d("2010-01-01")));
        assert!(k.to_string().contains("undated"), "{k}");
    }

    #[test]
    fn a_fact_published_later_than_it_happened_counts_from_publication() {
        let k = Known::of(Some(p("1991")), [Some(p("2010-10-18"))], None);
        assert_eq!(k.from, Some(d("2010-10-18")));
        assert_eq!(k.basis, KnownBasis::Publication);
        let k = Known::of(Some(p("2011-07-09")), [Some(p("2011-03-01"))], None);
        assert_eq!(k.from, Some(d("2011-07-09")));
        assert_eq!(k.basis, KnownBasis::Event);
    }

    #[test]
    fn an_undated_source_counts_from_the_facts_own_date() {
        // The ISU's page (no publication date) and a 2022 Monitor report both cite a deadline
        // reported on 5 December 2012: known from that day, through the undated page.
        let k = Known::of(Some(p("2012-12-05")), [None, Some(p("2022"))], None);
        assert_eq!(k.from, Some(d("2012-12-05")));
        assert_eq!(k.basis, KnownBasis::Event);
        assert_eq!(k.published, Some(p("2022")));
    }

    #[test]
    fn undated_and_unpublished_counts_from_the_record() {
        let k = Known::of(None, [None, None], record_day("2026-12-02T10:11:12Z"));
        assert_eq!(k.from, Some(d("2026-12-02")));
        assert_eq!(k.basis, KnownBasis::Recorded);
        let k = Known::of(None, [], record_day(""));
        assert_eq!(k.from, None);
        assert!(k.visible(d("0001-01-01")));
    }

    fn partial() -> impl Strategy<Value = PartialDate> {
        (1990i32..2030, 0u8..=12, 0u8..=28).prop_map(|(y, m, day)| match (m, day) {
            (0, _) => PartialDate::Year(y),
            (m, 0) => PartialDate::Month(y, m),
            (m, day) => PartialDate::Day(Date::new(y, m, day).expect("valid")),
        })
    }

    proptest! {
        /// Monotone: a fact visible on a date stays visible on every later date.
        #[test]
        fn visibility_is_monotone(
            event in proptest::option::of(partial()),
            published in proptest::collection::vec(proptest::option::of(partial()), 0..4),
            recorded in proptest::option::of(partial()),
            a in partial(),
            b in partial(),
        ) {
            let k = Known::of(event, published.clone(), recorded.map(PartialDate::earliest));
            let (early, late) = if a.earliest() <= b.earliest() { (a.earliest(), b.earliest()) } else { (b.earliest(), a.earliest()) };
            if k.visible(early) {
                prop_assert!(k.visible(late));
            }
            // Never before it happened, never before its earliest dated source.
            if let (Some(e), true) = (event, k.visible(early)) {
                prop_assert!(e.latest() <= early);
            }
            if published.iter().all(Option::is_some) {
                if let Some(first) = published.iter().flatten().map(|p| p.latest()).min() {
                    if k.visible(early) {
                        prop_assert!(first <= early);
                    }
                }
            }
        }
    }
}
