//! Reading fields of one row, with a problem for each thing that is wrong.

use crate::kinds::Lookups;
use minewatch_domain::{Date, DateError, Gazetteer, PartialDate};
use std::collections::HashMap;
use std::fmt;

/// One thing wrong with an input file, where it is, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub file: String,
    pub line: u64,
    /// The CSV column number (1-based), or the character column for JSON.
    pub column: Option<usize>,
    pub field: String,
    pub message: String,
}

impl Problem {
    pub(crate) fn file_level(file: &str, field: &str, message: &str) -> Problem {
        Problem {
            file: file.to_string(),
            line: 0,
            column: None,
            field: field.to_string(),
            message: message.to_string(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if let Some(c) = self.column {
            write!(f, ":{c}")?;
        }
        if self.field.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.field, self.message)
        }
    }
}

/// What every row function can use: where we are, the name index, the problems so far.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub file: &'a str,
    pub gazetteer: &'a Gazetteer,
    pub problems: Vec<Problem>,
    pub more: usize,
    pub max: usize,
    pub default_source: Option<String>,
    pub lookups: Lookups,
    /// Sources defined earlier in a file whose writes were skipped (see `write_items`).
    pub pending_sources: std::collections::HashSet<String>,
}

impl Ctx<'_> {
    pub fn problem_at(&mut self, line: u64, column: Option<usize>, field: &str, message: &str) {
        if self.problems.len() >= self.max {
            self.more += 1;
            return;
        }
        self.problems.push(Problem {
            file: self.file.to_string(),
            line,
            column,
            field: field.to_string(),
            message: message.to_string(),
        });
    }

    pub fn problem_count(&self) -> usize {
        self.problems.len() + self.more
    }
}

/// One CSV row with its header.
#[derive(Debug)]
pub(crate) struct Row<'a> {
    pub fields: &'a [String],
    pub columns: &'a HashMap<String, usize>,
    pub line: u64,
}

impl Row<'_> {
    fn col(&self, name: &str) -> Option<usize> {
        self.columns.get(name).copied()
    }

    /// Reports a problem on a named field.
    pub fn bad(&self, ctx: &mut Ctx<'_>, name: &str, message: &str) {
        ctx.problem_at(self.line, self.col(name).map(|c| c + 1), name, message);
    }

    /// The trimmed field, `None` when the column is absent or the field empty.
    pub fn opt(&self, name: &str) -> Option<&str> {
        let v = self.fields.get(self.col(name)?)?.trim();
        (!v.is_empty()).then_some(v)
    }

    /// A field that must not be empty.
    pub fn req(&self, ctx: &mut Ctx<'_>, name: &str, what: &str) -> Option<&str> {
        let v = self.opt(name);
        if v.is_none() && self.col(name).is_some() {
            self.bad(ctx, name, &format!("empty; expected {what}"));
        }
        v
    }

    fn date_err(&self, ctx: &mut Ctx<'_>, name: &str, e: DateError, partial: bool) {
        let expected = if partial {
            "expected YYYY-MM-DD, YYYY-MM or YYYY"
        } else {
            "expected YYYY-MM-DD"
        };
        let msg = match e {
            DateError::Impossible(s) => {
                format!("impossible date {s:?}: no such day in the calendar; {expected}")
            }
            DateError::Syntax(s) => format!("cannot read {s:?} as a date; {expected}"),
        };
        self.bad(ctx, name, &msg);
    }

    /// An optional partial date.
    pub fn partial_date(&self, ctx: &mut Ctx<'_>, name: &str) -> Option<PartialDate> {
        let v = self.opt(name)?;
        match PartialDate::parse(v) {
            Ok(d) => Some(d),
            Err(e) => {
                self.date_err(ctx, name, e, true);
                None
            }
        }
    }

    /// A required partial date (`Err(())` when missing or bad: the problem is reported).
    pub fn req_partial_date(&self, ctx: &mut Ctx<'_>, name: &str) -> Option<PartialDate> {
        self.req(ctx, name, "a date (YYYY-MM-DD, YYYY-MM or YYYY)")?;
        self.partial_date(ctx, name)
    }

    /// A required full date.
    pub fn req_day(&self, ctx: &mut Ctx<'_>, name: &str) -> Option<Date> {
        let v = self.req(ctx, name, "a date (YYYY-MM-DD)")?;
        match Date::parse(v) {
            Ok(d) => Some(d),
            Err(e) => {
                self.date_err(ctx, name, e, false);
                None
            }
        }
    }

    /// A required non-negative whole number.
    pub fn req_count(&self, ctx: &mut Ctx<'_>, name: &str) -> Option<u64> {
        let v = self.req(ctx, name, "a whole number (0 or more)")?;
        self.parse_count(ctx, name, v)
    }

    /// An optional non-negative whole number.
    pub fn count(&self, ctx: &mut Ctx<'_>, name: &str) -> Option<u64> {
        let v = self.opt(name)?;
        self.parse_count(ctx, name, v)
    }

    fn parse_count(&self, ctx: &mut Ctx<'_>, name: &str, v: &str) -> Option<u64> {
        let cleaned: String = v.chars().filter(|c| *c != '_').collect();
        if let Some(n) = cleaned.strip_prefix('-') {
            if n.parse::<u64>().is_ok() {
                self.bad(
                    ctx,
                    name,
                    &format!("negative count {v}; expected a whole number (0 or more)"),
                );
                return None;
            }
        }
        match cleaned.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                self.bad(
                    ctx,
                    name,
                    &format!("cannot read {v:?} as a count; expected a whole number (0 or more)"),
                );
                None
            }
        }
    }

    /// A required year (4 digits).
    pub fn req_year(&self, ctx: &mut Ctx<'_>, name: &str) -> Option<i32> {
        let v = self.req(ctx, name, "a year (YYYY)")?;
        match PartialDate::parse(v) {
            Ok(PartialDate::Year(y)) => Some(y),
            _ => {
                self.bad(
                    ctx,
                    name,
                    &format!("cannot read {v:?} as a year; expected YYYY"),
                );
                None
            }
        }
    }

    /// A required finite number.
    pub fn req_number(&self, ctx: &mut Ctx<'_>, name: &str) -> Option<f64> {
        let v = self.req(ctx, name, "a number")?;
        match v.parse::<f64>() {
            Ok(n) if n.is_finite() => Some(n),
            _ => {
                self.bad(ctx, name, &format!("cannot read {v:?} as a number; expected digits with an optional decimal point"));
                None
            }
        }
    }

    /// A required word from a fixed list (compared in lower case).
    pub fn req_word<T>(
        &self,
        ctx: &mut Ctx<'_>,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
        expected: &str,
    ) -> Option<T> {
        let v = self.req(ctx, name, &format!("one of: {expected}"))?;
        let r = parse(&v.to_lowercase());
        if r.is_none() {
            self.bad(
                ctx,
                name,
                &format!("{v:?} is not allowed here; expected one of: {expected}"),
            );
        }
        r
    }

    /// Resolves a subject from a code column and/or a name column. When both are given they must
    /// agree.
    pub fn subject(
        &self,
        ctx: &mut Ctx<'_>,
        code_col: Option<&str>,
        name_col: Option<&str>,
    ) -> Option<String> {
        let g = ctx.gazetteer;
        let by_code = match code_col.and_then(|c| self.opt(c).map(|v| (c, v))) {
            Some((c, v)) => match g.by_code(v) {
                Some(s) => Some(s.code.clone()),
                None => {
                    let candidates = g.closest(&minewatch_domain::normalize_name(v), 3);
                    let hint = if candidates.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (closest: {})",
                            candidates
                                .iter()
                                .map(|(c, n)| format!("{n} ({c})"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    };
                    self.bad(ctx, c, &format!("unknown code {v:?}; expected an ISO 3166 alpha-2 or alpha-3 code{hint}"));
                    return None;
                }
            },
            None => None,
        };
        let by_name = match name_col.and_then(|c| self.opt(c).map(|v| (c, v))) {
            Some((c, v)) => match g.resolve(v) {
                Ok(s) => Some(s.code.clone()),
                Err(e) => {
                    if by_code.is_none() {
                        self.bad(ctx, c, &e.to_string());
                        return None;
                    }
                    None
                }
            },
            None => None,
        };
        match (by_code, by_name) {
            (Some(a), Some(b)) if a != b => {
                let col = name_col.unwrap_or("");
                self.bad(
                    ctx,
                    col,
                    &format!("the name resolves to {b} but the code column says {a}; expected both to name the same state"),
                );
                None
            }
            (Some(a), _) => Some(a),
            (None, Some(b)) => Some(b),
            (None, None) => {
                let col = code_col.or(name_col).unwrap_or("");
                self.bad(ctx, col, "empty; expected a state name or code");
                None
            }
        }
    }
}
