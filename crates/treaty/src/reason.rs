//! Reasons: every derived value says how it was computed, from which facts (and so which
//! sources), under which article.

use minewatch_domain::{Citation, Fact};
use serde::Serialize;
use std::borrow::Cow;

/// One step of an explanation: the computation in words, the article it applies, the facts it
/// rests on and their citations.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Reason {
    /// The computation in words ("deposited 28 July 1999; in force on ... 1 January 2000").
    pub text: String,
    /// The article applied ("Art. 17(2)"), or the instrument for rules outside the treaty.
    pub article: Cow<'static, str>,
    /// Ids of the facts the step rests on.
    pub facts: Vec<i64>,
    /// The citations of those facts (deduplicated, in order).
    pub citations: Vec<Citation>,
}

impl Reason {
    /// A reason resting on no fact (a rule of the treaty, a device characteristic).
    pub fn new(article: impl Into<Cow<'static, str>>, text: impl Into<String>) -> Reason {
        Reason {
            text: text.into(),
            article: article.into(),
            facts: Vec::new(),
            citations: Vec::new(),
        }
    }

    /// Adds a fact and its citations.
    pub fn with_fact(mut self, fact: &Fact) -> Reason {
        self.add_fact(fact);
        self
    }

    /// Adds several facts and their citations.
    pub fn with_facts<'a>(mut self, facts: impl IntoIterator<Item = &'a Fact>) -> Reason {
        for f in facts {
            self.add_fact(f);
        }
        self
    }

    /// Adds a fact id with the given citations (for values that keep the citations but not the fact).
    pub fn with_cited(mut self, id: i64, citations: &[Citation]) -> Reason {
        if !self.facts.contains(&id) {
            self.facts.push(id);
        }
        for c in citations {
            if !self.citations.contains(c) {
                self.citations.push(c.clone());
            }
        }
        self
    }

    pub(crate) fn add_fact(&mut self, fact: &Fact) {
        if !self.facts.contains(&fact.id) {
            self.facts.push(fact.id);
        }
        for c in &fact.citations {
            if !self.citations.contains(c) {
                self.citations.push(c.clone());
            }
        }
    }
}

/// "fact 12 (icbl-2007; lm-2008#p. 3)": a fact named with its sources, for sentences.
pub(crate) fn cite_inline(fact: &Fact) -> String {
    let sources: Vec<String> = fact.citations.iter().map(|c| c.to_string()).collect();
    if sources.is_empty() {
        format!("fact {}", fact.id)
    } else {
        format!("fact {} ({})", fact.id, sources.join("; "))
    }
}

/// A date in words ("28 July 1999"; "November 2007", "1991" at the source's precision), written
/// without an intermediate string.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Long(pub minewatch_domain::PartialDate);

impl std::fmt::Display for Long {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use minewatch_domain::date::month_name;
        use minewatch_domain::PartialDate;
        match self.0 {
            PartialDate::Year(y) => write!(f, "{y}"),
            PartialDate::Month(y, m) => write!(f, "{} {y}", month_name(m)),
            PartialDate::Day(d) => write!(f, "{} {} {}", d.day(), month_name(d.month()), d.year()),
        }
    }
}

/// [`Long`] for a complete date.
pub(crate) fn long(d: minewatch_domain::Date) -> Long {
    Long(minewatch_domain::PartialDate::Day(d))
}

/// A date with its preposition: "on 3 May 2021", "in May 2021", "in 2021".
pub(crate) struct On(pub minewatch_domain::PartialDate);

impl std::fmt::Display for On {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            minewatch_domain::PartialDate::Day(_) => write!(f, "on {}", Long(self.0)),
            _ => write!(f, "in {}", Long(self.0)),
        }
    }
}
