//! Plain-text renderings of what the treaty engine derives, for the terminal. The `--json`
//! output comes from `minewatch_answers::derived`, the same code as the API.

use minewatch_answers::derived::{PolicyDiffAnswer, PolicySummary};
use minewatch_answers::wire_word;
use minewatch_domain::{Date, Gazetteer};
use minewatch_treaty::{
    Basis, Classification, DeadlineRow, Engine, PolicyRecord, Reason, StatusReport,
};
use std::io::Write;

type Res = Result<(), Box<dyn std::error::Error>>;

fn opt_date<D: ToString>(d: Option<D>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "-".into())
}

fn reasons(out: &mut impl Write, list: &[Reason], indent: &str) -> std::io::Result<()> {
    for r in list {
        let sources: Vec<String> = r.citations.iter().map(|c| c.to_string()).collect();
        let cites = if sources.is_empty() {
            String::new()
        } else {
            format!("; sources: {}", sources.join(", "))
        };
        writeln!(out, "{indent}- {} [{}{cites}]", r.text, r.article)?;
    }
    Ok(())
}

/// `minewatch status`.
pub fn status(r: &StatusReport, name: &str) -> Res {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{name} ({}) on {}: {}",
        r.code,
        r.as_of.long(),
        r.status.as_str()
    )?;
    writeln!(
        out,
        "  signed {}, deposited {}, in force {}",
        opt_date(r.signed),
        opt_date(r.deposited),
        opt_date(r.entry_into_force)
    )?;
    if r.withdrawal_notified.is_some() {
        writeln!(
            out,
            "  withdrawal notified {}, effective {}{}",
            opt_date(r.withdrawal_notified),
            opt_date(r.withdrawal_effective),
            if r.withdrawal_deferred {
                " (deferred by armed conflict)"
            } else {
                ""
            }
        )?;
    }
    writeln!(out, "Why:")?;
    reasons(&mut out, &r.reasons, "  ")?;
    if r.entry_into_force.is_some() {
        let d = &r.deadlines;
        writeln!(
            out,
            "Deadlines: Art. 4 {}; Art. 5 {}{}; Art. 7 initial report {}",
            opt_date(d.art4),
            opt_date(d.art5),
            if d.art5 != d.art5_original {
                format!(" (originally {})", opt_date(d.art5_original))
            } else {
                String::new()
            },
            opt_date(d.art7_initial)
        )?;
    }
    if !r.obligations.is_empty() {
        writeln!(out, "Obligations:")?;
        for o in &r.obligations {
            writeln!(
                out,
                "  {:<9} {:<10} {:<24} {}",
                o.article,
                opt_date(o.due),
                o.state.as_str(),
                o.title
            )?;
            reasons(&mut out, &o.reasons, "      ")?;
        }
    }
    if r.findings.is_empty() {
        writeln!(out, "Findings: none")?;
    } else {
        writeln!(out, "Findings:")?;
        for f in &r.findings {
            writeln!(
                out,
                "  {} ({}): {}",
                wire_word(&f.kind),
                f.article,
                f.summary
            )?;
            reasons(&mut out, &f.reasons, "      ")?;
        }
    }
    Ok(())
}

/// `minewatch parties`.
pub fn parties(engine: &Engine, as_of: Date, basis: Basis, g: &Gazetteer) -> Res {
    let p = engine.parties(as_of, basis);
    let (other, other_words) = match basis {
        Basis::Eif => (Basis::Deposit, "with instruments deposited"),
        Basis::Deposit => (Basis::Eif, "with the treaty in force"),
    };
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} States Parties on {} ({}), basis {} ({}); {} {other_words}",
        p.count,
        as_of.long(),
        as_of,
        basis.as_str(),
        match basis {
            Basis::Eif => "treaty in force for the state",
            Basis::Deposit => "instrument deposited",
        },
        engine.parties(as_of, other).count,
    )?;
    for code in &p.states {
        let name = g.by_code(code).map(|s| s.name.as_str()).unwrap_or("");
        writeln!(out, "  {code}  {name}")?;
    }
    Ok(())
}

/// `minewatch deadlines`.
pub fn deadlines(rows: &[DeadlineRow], as_of: Date) -> Res {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{} deadlines as of {}", rows.len(), as_of.long())?;
    for r in rows {
        writeln!(
            out,
            "  {} {} {:<9} {:<24} {}{}",
            r.due,
            r.code,
            r.article,
            r.state.as_str(),
            r.title,
            if r.overdue { "  OVERDUE" } else { "" }
        )?;
    }
    Ok(())
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "cannot tell from the description",
    }
}

/// `minewatch classify`.
pub fn classification(c: &Classification, on: Date, device_name: &str) -> Res {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", c.device.name.as_deref().unwrap_or(device_name))?;
    writeln!(
        out,
        "Mine Ban Treaty (Art. 2): anti-personnel mine: {}",
        yes_no(Some(c.apmbc.anti_personnel_mine))
    )?;
    reasons(&mut out, &c.apmbc.reasons, "  ")?;
    let apii = &c.ccw_apii;
    writeln!(
        out,
        "CCW Amended Protocol II: anti-personnel mine: {}; use lawful: {}",
        yes_no(Some(apii.anti_personnel_mine)),
        yes_no(apii.lawful)
    )?;
    for cond in &apii.conditions {
        writeln!(out, "  condition: {cond}")?;
    }
    reasons(&mut out, &apii.reasons, "  ")?;
    writeln!(out, "Policies in force on {on}:")?;
    for p in &c.policies.verdicts {
        writeln!(
            out,
            "  {} {}: use {}",
            p.subject,
            p.policy_id,
            wire_word(&p.use_permitted)
        )?;
        for cond in &p.conditions {
            writeln!(out, "    condition: {cond}")?;
        }
        reasons(&mut out, &p.reasons, "    ")?;
    }
    for d in &c.definitions {
        writeln!(
            out,
            "Definition {}: anti-personnel mine: {}",
            d.title,
            yes_no(Some(d.anti_personnel_mine))
        )?;
        reasons(&mut out, &d.reasons, "  ")?;
    }
    Ok(())
}

/// `minewatch policy list`.
pub fn policy_list(list: &[PolicyRecord]) -> Res {
    let mut out = std::io::stdout().lock();
    for r in list {
        writeln!(
            out,
            "{:<26} {} {:<10} {}",
            r.instrument.policy_id,
            r.subject,
            opt_date(r.adopted),
            r.instrument.instrument
        )?;
    }
    Ok(())
}

/// `minewatch policy diff`.
pub fn policy_diff(v: &PolicyDiffAnswer) -> Res {
    let mut out = std::io::stdout().lock();
    let name = |p: &PolicySummary| {
        format!(
            "{} ({}, {})",
            p.policy_id,
            p.instrument,
            p.adopted.as_deref().unwrap_or("undated")
        )
    };
    writeln!(
        out,
        "From {}\n  to {}",
        name(&v.from_policy),
        name(&v.to_policy)
    )?;
    for a in &v.diff.activities {
        writeln!(
            out,
            "  {:<12} {:<14} {}",
            a.activity.as_str(),
            wire_word(&a.change),
            a.summary
        )?;
    }
    let list = |acts: &[minewatch_domain::fact::Activity]| -> String {
        if acts.is_empty() {
            "none".into()
        } else {
            acts.iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    writeln!(out, "Changed: {}", list(&v.diff.changed))?;
    writeln!(out, "Unchanged: {}", list(&v.diff.unchanged))?;
    Ok(())
}
