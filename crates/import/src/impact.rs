//! The impact files of `data/research/impact`: Monitor casualty figures, new use by report
//! edition, and Article 7 reporting. Same discipline as every importer: each problem reported
//! with its line and column, nothing written when there is one.
//!
//! Data year and report edition stay apart: a casualty figure is keyed by subject, data year
//! *and* edition, so a later edition's revision is a second fact beside the first.

use crate::kinds::{edition_year, fact, with, State};
use crate::row::{Ctx, Row};
use crate::Item;
use minewatch_domain::fact::*;
use minewatch_domain::{slug_key, Citation, Gazetteer, PartialDate, Payload, Source};

/// Citations from a `source` column of the impact files: one or more sources separated by
/// ` | `, each an address (its host is the publisher) or a title. A source that is new gets its
/// publication year from its address when the address names one (`.../reports/2019/...`), else
/// `published` when the caller knows the date of the statement it reports.
fn impact_cites(
    ctx: &mut Ctx<'_>,
    row: &Row<'_>,
    col: &str,
    published: Option<PartialDate>,
) -> Option<(Vec<Citation>, Vec<Item>)> {
    let Some(text) = row.opt(col) else {
        row.bad(
            ctx,
            col,
            "empty; expected one or more sources separated by \" | \" (a claim without a source is not a fact)",
        );
        return None;
    };
    let mut citations = Vec::new();
    let mut items = Vec::new();
    for part in text.split('|').map(str::trim).filter(|p| !p.is_empty()) {
        let key = slug_key(part);
        let is_url = part.starts_with("http://") || part.starts_with("https://");
        let publisher = is_url
            .then(|| {
                let rest = part.split_once("://").map(|(_, r)| r).unwrap_or(part);
                let host = rest.split(['/', '?']).next().unwrap_or(rest);
                host.strip_prefix("www.").unwrap_or(host).to_string()
            })
            .filter(|h| !h.is_empty());
        let (date, note) = match (edition_year(part), published) {
            (Some(y), _) => (
                Some(PartialDate::Year(y)),
                Some("publication year read from the year in its address".to_string()),
            ),
            (None, Some(d)) => (
                Some(d),
                Some(
                    "publication date: the date of the statement as the research file gives it"
                        .to_string(),
                ),
            ),
            (None, None) => (None, None),
        };
        let c = Citation {
            source: key.clone(),
            locator: None,
        };
        if !citations.contains(&c) {
            citations.push(c);
        }
        items.push(Item::EnsureSource(Source {
            key,
            title: part.to_string(),
            publisher,
            published: date,
            url: is_url.then(|| part.to_string()),
            note,
        }));
    }
    if citations.is_empty() {
        row.bad(
            ctx,
            col,
            "no source between the \" | \" separators; expected an address or a title",
        );
        return None;
    }
    Some((citations, items))
}

/// A report edition as the files name it (`LM2025`, `ICBL 2014`) and its year.
fn edition(ctx: &mut Ctx<'_>, row: &Row<'_>, col: &str) -> Option<(String, i32)> {
    let v = row.req(ctx, col, "a report edition such as LM2025")?;
    let year = v
        .get(v.len().saturating_sub(4)..)
        .filter(|y| y.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|y| y.parse::<i32>().ok())
        .filter(|y| (1990..=2100).contains(y));
    let label_ok = v.len() > 4 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ');
    match year {
        Some(y) if label_ok => Some((v.to_string(), y)),
        _ => {
            row.bad(
                ctx,
                col,
                &format!("cannot read {v:?} as a report edition; expected LM and a year (LM2025) or a publisher and a year (ICBL 2014)"),
            );
            None
        }
    }
}

/// The edition as a key part: `LM2025` -> `lm2025`, `ICBL 2014` -> `icbl2014`.
fn edition_key(e: &str) -> String {
    e.chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase()
}

/// Lower-case letters and digits with `-` between words, for keys.
fn key_part(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

// ---- casualties ------------------------------------------------------------------------------

pub(crate) fn casualties_row(
    ctx: &mut Ctx<'_>,
    row: &Row<'_>,
    _: &mut State,
) -> (Option<String>, Vec<Item>) {
    let global = row
        .opt("country")
        .is_some_and(|c| c.eq_ignore_ascii_case("GLOBAL"));
    let subject = if global {
        if let Some(code) = row.opt("iso3") {
            row.bad(
                ctx,
                "iso3",
                &format!("{code:?} beside country GLOBAL; expected no code for the global figure"),
            );
            None
        } else {
            Some("WLD".to_string())
        }
    } else {
        row.subject(ctx, Some("iso3"), Some("country"))
    };
    let edition = edition(ctx, row, "report_edition");
    let years = match row.req(
        ctx,
        "data_year",
        "a year (2024) or a span of years (1999-2008)",
    ) {
        Some(v) => {
            let parts: Vec<&str> = v.split('-').map(str::trim).collect();
            let parsed: Vec<Option<i32>> = parts
                .iter()
                .map(|p| {
                    (p.len() == 4)
                        .then(|| p.parse::<i32>().ok())
                        .flatten()
                        .filter(|y| (1900..=2100).contains(y))
                })
                .collect();
            match parsed.as_slice() {
                [Some(y)] => Some((None, *y)),
                [Some(a), Some(b)] if a < b => Some((Some(*a), *b)),
                _ => {
                    row.bad(ctx, "data_year", &format!("cannot read {v:?} as a data year; expected YYYY or a span YYYY-YYYY (first year before last)"));
                    None
                }
            }
        }
        None => None,
    };
    let killed = row.count(ctx, "killed");
    let injured = row.count(ctx, "injured");
    let (total, total_less_than) = match row.opt("total") {
        Some(t) if t.starts_with('<') => {
            let n = t[1..].trim().replace(',', "");
            match n.parse::<u64>() {
                Ok(n) => (None, Some(n)),
                Err(_) => {
                    row.bad(ctx, "total", &format!("cannot read {t:?} as a count; expected a whole number (0 or more) or a bound such as <4000"));
                    (None, None)
                }
            }
        }
        Some(_) => (row.count(ctx, "total"), None),
        None => (None, None),
    };
    let civilians = row.count(ctx, "civilians");
    let children = row.count(ctx, "children");
    let cit = impact_cites(ctx, row, "source", None);
    let (
        Some(code),
        Some((edition, edition_year)),
        Some((first_year, data_year)),
        Some((c, ensure)),
    ) = (subject, edition, years, cit)
    else {
        return (None, Vec::new());
    };
    let payload = Payload::CasualtyFigure(CasualtyFigure {
        data_year,
        first_year,
        report_edition: edition.clone(),
        edition_year,
        killed,
        injured,
        total,
        total_less_than,
        civilians,
        children,
    });
    if let Err(e) = payload.validate() {
        let col = if data_year > edition_year {
            "data_year"
        } else {
            "total"
        };
        row.bad(
            ctx,
            col,
            &format!("{e}; expected figures the edition could report"),
        );
        return (None, Vec::new());
    }
    let years_key = match first_year {
        Some(f) => format!("{f}-{data_year}"),
        None => data_year.to_string(),
    };
    let key = format!("casualties:{code}:{years_key}:{}", edition_key(&edition));
    (
        Some(key.clone()),
        with(
            ensure,
            fact(
                key,
                &code,
                payload,
                Some(PartialDate::Year(edition_year)),
                None,
                c,
                row.opt("note"),
            ),
        ),
    )
}

// ---- new use ---------------------------------------------------------------------------------

/// The subject a place names: the whole text, without a parenthesis ("Palestine (Gaza)"), or
/// its last comma-separated part ("Izium area, Ukraine").
fn place_code(g: &Gazetteer, text: &str) -> Option<String> {
    let no_paren = match text.split_once('(') {
        Some((head, _)) => head.trim(),
        None => text.trim(),
    };
    // Only a "place, country" pair: a list ("at least 13 countries incl. A, B, C") names no one
    // country of use.
    let last = match no_paren.split_once(',') {
        Some((_, tail)) if !tail.contains(',') => tail.trim(),
        _ => "",
    };
    [text.trim(), no_paren, last]
        .into_iter()
        .filter(|t| !t.is_empty())
        .find_map(|t| g.resolve(t).ok().map(|s| s.code.clone()))
}

/// The state whose forces a state actor names ("Myanmar armed forces", "Syria government
/// forces", "Cambodia (alleged by Thailand)"); `None` when it names none minewatch can resolve.
fn actor_state(g: &Gazetteer, actor: &str) -> Option<String> {
    let mut t = match actor.split_once('(') {
        Some((head, _)) => head.trim().to_string(),
        None => actor.trim().to_string(),
    };
    for suffix in [
        " armed forces",
        " government forces",
        " government",
        " forces",
    ] {
        if t.to_lowercase().ends_with(suffix) {
            t.truncate(t.len() - suffix.len());
            break;
        }
    }
    if t.contains(',') {
        return None;
    }
    g.resolve(t.trim()).ok().map(|s| s.code.clone())
}

/// How sure the Monitor's wording is: allegations, unconfirmed reports, indications (including
/// "evidence" and "reported to have used"), and confirmed use (any other report of use).
fn certainty_of(wording: &str) -> Certainty {
    let w = wording.to_lowercase();
    if w.contains("alleg") {
        Certainty::Alleged
    } else if w.contains("unconfirmed") {
        Certainty::Unconfirmed
    } else if w.contains("indication") || w.contains("evidence") || w.contains("reported to have") {
        Certainty::Indications
    } else {
        Certainty::Confirmed
    }
}

/// The years a reporting period names ("mid 2023 - Oct 2024" -> 2023, 2024).
fn years_in(text: &str) -> Vec<i32> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 4 <= b.len() {
        let four = &b[i..i + 4];
        let before = i > 0 && b[i - 1].is_ascii_digit();
        let after = b.get(i + 4).is_some_and(u8::is_ascii_digit);
        if four.iter().all(u8::is_ascii_digit) && !before && !after {
            if let Some(y) = std::str::from_utf8(four)
                .ok()
                .and_then(|s| s.parse::<i32>().ok())
            {
                if (1900..=2100).contains(&y) {
                    out.push(y);
                }
            }
            i += 4;
        } else {
            i += 1;
        }
    }
    out
}

pub(crate) fn mine_use_row(
    ctx: &mut Ctx<'_>,
    row: &Row<'_>,
    _: &mut State,
) -> (Option<String>, Vec<Item>) {
    const TYPES: &str = "state, NSAG, unattributed";
    let edition = edition(ctx, row, "report_edition");
    let actor_type = row.req_word(
        ctx,
        "actor_type",
        |w| match w {
            "state" => Some(ActorType::State),
            "nsag" => Some(ActorType::NonStateArmedGroup),
            "unattributed" => Some(ActorType::Unattributed),
            _ => None,
        },
        TYPES,
    );
    let actor = row
        .req(
            ctx,
            "actor",
            "who used the mines, as the Monitor names them",
        )
        .map(String::from);
    let wording = row
        .req(
            ctx,
            "monitor_wording",
            "the Monitor's words (confirmed, indications, allegation, ...)",
        )
        .map(String::from);
    let period = row
        .req(
            ctx,
            "reporting_period",
            "the reporting period with its year(s), such as 2024 - mid 2025",
        )
        .map(String::from);
    let first_year = match &period {
        Some(p) => match years_in(p).first() {
            Some(y) => Some(*y),
            None => {
                row.bad(ctx, "reporting_period", &format!("no year in {p:?}; expected the period with its year(s), such as 2024 - mid 2025"));
                None
            }
        },
        None => None,
    };
    if let (Some(y), Some((_, e))) = (first_year, &edition) {
        if y > *e {
            row.bad(ctx, "reporting_period", &format!("{y} is after the report edition's year {e}; expected a period the edition could report on"));
        }
    }
    let cit = impact_cites(ctx, row, "source", None);
    let (
        Some((edition, _)),
        Some(actor_type),
        Some(actor),
        Some(wording),
        Some(period),
        Some(year),
        Some((c, ensure)),
    ) = (edition, actor_type, actor, wording, period, first_year, cit)
    else {
        return (None, Vec::new());
    };
    let g = ctx.gazetteer;
    let state = (actor_type == ActorType::State)
        .then(|| actor_state(g, &actor))
        .flatten();
    let place = row.opt("country_of_use").map(String::from);
    // The subject is the country of use; where the file names none minewatch can resolve
    // ("Thailand-Cambodia border", "at least 13 countries"), the acting state, else the world.
    let subject = place
        .as_deref()
        .and_then(|p| place_code(g, p))
        .or_else(|| state.clone())
        .unwrap_or_else(|| "WLD".to_string());
    let note = match (row.opt("note"), row.opt("treaty_status_of_state")) {
        (Some(n), Some(s)) => Some(format!("{n} | treaty status as the file gives it: {s}")),
        (Some(n), None) => Some(n.to_string()),
        (None, Some(s)) => Some(format!("treaty status as the file gives it: {s}")),
        (None, None) => None,
    };
    let key = format!(
        "mine-use:{}:{subject}:{}:{}:{}",
        edition_key(&edition),
        actor_type.as_str(),
        key_part(&actor),
        key_part(place.as_deref().unwrap_or("")),
    );
    let payload = Payload::MineActivity(MineActivity {
        activity: MineActivityType::Use,
        actor: Some(actor),
        certainty: certainty_of(&wording),
        last_known: false,
        quantity: None,
        detail: wording,
        actor_type: Some(actor_type),
        actor_state: state,
        report_edition: Some(edition),
        period: Some(period),
        place,
    });
    (
        Some(key.clone()),
        with(
            ensure,
            fact(
                key,
                &subject,
                payload,
                Some(PartialDate::Year(year)),
                None,
                c,
                note.as_deref(),
            ),
        ),
    )
}

// ---- Article 7 reporting ---------------------------------------------------------------------

pub(crate) fn art7_row(
    ctx: &mut Ctx<'_>,
    row: &Row<'_>,
    _: &mut State,
) -> (Option<String>, Vec<Item>) {
    const TYPES: &str = "rule, annual_compliance_rate, not_submitted_annual, resumed_reporting, \
        initial_report_never_submitted, initial_report_overdue, initial_report_due, report_submitted, reporting_due";
    let fact_type = row
        .req(ctx, "fact_type", &format!("one of: {TYPES}"))
        .map(str::to_lowercase);
    let world_level = matches!(
        fact_type.as_deref(),
        Some("rule" | "annual_compliance_rate")
    );
    let subject = if row
        .opt("state")
        .is_some_and(|s| s.eq_ignore_ascii_case("ALL"))
    {
        if world_level || fact_type.is_none() {
            Some("WLD".to_string())
        } else {
            row.bad(
                ctx,
                "state",
                "ALL for a state's report; expected the state's name",
            );
            None
        }
    } else if world_level {
        row.bad(ctx, "state", "a state for a treaty-wide fact; expected ALL");
        None
    } else {
        row.subject(ctx, Some("iso3"), Some("state"))
    };
    let value = row
        .req(ctx, "value", "the source's words or figure")
        .map(String::from);
    let as_of = row.req_partial_date(ctx, "as_of_date");
    // year_covered: empty, a year, years separated by `;`, or `initial`.
    let covered = row.opt("year_covered").map(String::from);
    let mut years: Vec<i32> = Vec::new();
    let mut initial = false;
    let mut year_ok = true;
    if let Some(text) = &covered {
        for part in text.split(';').map(str::trim) {
            match (part, PartialDate::parse(part)) {
                ("initial", _) if fact_type.as_deref() == Some("report_submitted") => {
                    initial = true
                }
                (_, Ok(PartialDate::Year(y))) => years.push(y),
                _ => {
                    year_ok = false;
                    row.bad(ctx, "year_covered", &format!("cannot read {part:?} as a year covered; expected YYYY, years separated by ; or (for report_submitted) initial"));
                }
            }
        }
    }
    let type_ok = match fact_type.as_deref() {
        Some(t) if TYPES.split(", ").any(|x| x.trim() == t) => true,
        Some(t) => {
            row.bad(
                ctx,
                "fact_type",
                &format!("{t:?} is not allowed here; expected one of: {TYPES}"),
            );
            false
        }
        None => false,
    };
    if type_ok
        && fact_type.as_deref() == Some("not_submitted_annual")
        && years.is_empty()
        && year_ok
    {
        row.bad(
            ctx,
            "year_covered",
            "empty; expected the year(s) the missing annual report covers",
        );
    }
    if let (Some(d), true) = (as_of, year_ok) {
        if let Some(y) = years.iter().find(|y| **y >= d.year()) {
            if fact_type.as_deref() != Some("annual_compliance_rate") || *y > d.year() {
                row.bad(ctx, "year_covered", &format!("{y} is not before the as_of_date {d}; expected a year covered before the statement"));
            }
        }
    }
    // The date of a statement of non-submission or of a rate is when its source said it; a
    // submission's as_of_date is the submission, not the source's.
    let published = match fact_type.as_deref() {
        Some("report_submitted") => None,
        _ => as_of,
    };
    let cit = impact_cites(ctx, row, "source", published);
    let (Some(t), true, Some(code), Some(value), Some(as_of), true, Some((c, ensure))) =
        (fact_type, type_ok, subject, value, as_of, year_ok, cit)
    else {
        return (None, Vec::new());
    };
    let note = row.opt("note");
    let years_key = if initial {
        "initial".to_string()
    } else {
        years
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join("+")
    };
    let base_key = format!("art7-reporting:{code}:{t}:{years_key}:{as_of}");
    let report = |year: Option<i32>, initial: bool, not_submitted: bool| {
        Payload::Art7Report(Art7Report {
            initial,
            year_covered: year,
            not_submitted,
            wording: Some(value.clone()),
        })
    };
    let development = |summary: String| {
        Payload::Development(Development {
            topic: "transparency".into(),
            summary,
        })
    };
    let mut items = ensure;
    match t.as_str() {
        "not_submitted_annual" => {
            for y in &years {
                let key = format!("art7-reporting:{code}:{t}:{y}:{as_of}");
                items.push(fact(
                    key,
                    &code,
                    report(Some(*y), false, true),
                    Some(as_of),
                    None,
                    c.clone(),
                    note,
                ));
            }
        }
        "resumed_reporting" => {
            // Submitted, on a day the source does not give (so timeliness is unknown).
            for y in &years {
                let key = format!("art7-reporting:{code}:{t}:{y}:{as_of}");
                items.push(fact(
                    key,
                    &code,
                    report(Some(*y), false, false),
                    None,
                    None,
                    c.clone(),
                    note,
                ));
            }
            if years.is_empty() {
                items.push(fact(
                    base_key.clone(),
                    &code,
                    development(format!("Art. 7: {value}")),
                    Some(as_of),
                    None,
                    c,
                    note,
                ));
            }
        }
        "initial_report_never_submitted" | "initial_report_overdue" => {
            items.push(fact(
                base_key.clone(),
                &code,
                report(None, true, true),
                Some(as_of),
                None,
                c,
                note,
            ));
        }
        "report_submitted" => {
            let year = if initial {
                None
            } else {
                years.first().copied()
            };
            items.push(fact(
                base_key.clone(),
                &code,
                report(year, initial || years.is_empty(), false),
                Some(as_of),
                None,
                c,
                note,
            ));
        }
        "annual_compliance_rate" => {
            let covering = years
                .first()
                .map(|y| format!(" for calendar year {y}"))
                .unwrap_or_default();
            items.push(fact(
                base_key.clone(),
                &code,
                development(format!(
                    "Art. 7 annual reporting compliance{covering}: {value} (the source's figure)"
                )),
                Some(as_of),
                None,
                c,
                note,
            ));
        }
        "initial_report_due" => {
            items.push(fact(
                base_key.clone(),
                &code,
                development(format!("Art. 7 initial report: {value}")),
                Some(as_of),
                None,
                c,
                note,
            ));
        }
        // rule, reporting_due
        _ => {
            items.push(fact(
                base_key.clone(),
                &code,
                development(format!("Art. 7: {value}")),
                Some(as_of),
                None,
                c,
                note,
            ));
        }
    }
    (Some(base_key), items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_years_of_a_period() {
        assert_eq!(years_in("mid 2023 - Oct 2024"), vec![2023, 2024]);
        assert_eq!(years_in("reporting period 2017-2018"), vec![2017, 2018]);
        assert_eq!(years_in("July 2025"), vec![2025]);
        assert!(years_in("recently").is_empty());
        assert!(years_in("12345").is_empty());
    }

    #[test]
    fn keeps_the_monitors_degrees_of_certainty() {
        assert_eq!(
            certainty_of("confirmed ('extensive use')"),
            Certainty::Confirmed
        );
        assert_eq!(
            certainty_of("allegation (denied by Cambodia)"),
            Certainty::Alleged
        );
        assert_eq!(certainty_of("unconfirmed use"), Certainty::Unconfirmed);
        assert_eq!(
            certainty_of("'indications' / 'increasing evidence' of use"),
            Certainty::Indications
        );
        assert_eq!(certainty_of("used"), Certainty::Confirmed);
    }

    #[test]
    fn edition_keys() {
        assert_eq!(edition_key("LM2025"), "lm2025");
        assert_eq!(edition_key("ICBL 2014"), "icbl2014");
        assert_eq!(key_part("Izium area, Ukraine"), "izium-area-ukraine");
    }
}
