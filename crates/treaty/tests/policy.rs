//! Policy comparison on the real US policy rows (seed 003: "what changed and what did not"),
//! instruments in force on a date, alignment with the treaty, and device verdicts.
#![allow(clippy::unwrap_used)]

mod common;

use common::{d, pd, Facts};
use minewatch_domain::fact::{Activity, PolicyInstrument, Provision, Stance};
use minewatch_domain::{Citation, Payload};
use minewatch_treaty::{
    alignment, classify, compare_in_force, diff, in_force, Activation, Alignment, Change, Delivery,
    DeliveryMode, Device, Engine, Mechanism, PolicyRecord, Target, UsePermission,
};

/// One `PolicyRecord` per policy id of `fixtures/us_policies.csv` (the real rows). The 2020
/// instrument "rescinds the 2014 policy": both 2014 instruments.
fn us_policies() -> Vec<PolicyRecord> {
    let text = include_str!("fixtures/us_policies.csv");
    let mut out: Vec<PolicyRecord> = Vec::new();
    for (n, line) in text.lines().skip(1).enumerate() {
        let c: Vec<&str> = line.split(',').collect();
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let provision = Provision {
            activity: Activity::parse(c[4]).unwrap(),
            stance: Stance::parse(c[5]).unwrap(),
            mine_scope: opt(c[6]),
            geography: opt(c[7]),
            authority: opt(c[8]),
            effective_from: c[3].parse().ok(),
            note: opt(c[9]),
        };
        if let Some(r) = out.iter_mut().find(|r| r.instrument.policy_id == c[0]) {
            r.instrument.provisions.push(provision);
            continue;
        }
        let rescinds = if c[2].contains("rescinds the 2014 policy") {
            vec![
                "us-2014-06-obama".to_string(),
                "us-2014-09-obama".to_string(),
            ]
        } else {
            Vec::new()
        };
        out.push(PolicyRecord {
            fact_id: 1000 + n as i64,
            subject: "USA".into(),
            adopted: Some(pd(c[1])),
            citations: c[10]
                .split("; ")
                .map(|s| Citation {
                    source: s.to_string(),
                    locator: None,
                })
                .collect(),
            instrument: PolicyInstrument {
                policy_id: c[0].to_string(),
                instrument: c[2].to_string(),
                provisions: vec![provision],
                rescinds,
            },
        });
    }
    out
}

fn policy<'a>(all: &'a [PolicyRecord], id: &str) -> &'a PolicyInstrument {
    &all.iter()
        .find(|r| r.instrument.policy_id == id)
        .unwrap()
        .instrument
}

fn change_of(rows: &[minewatch_treaty::policy::ActivityDiff], a: Activity) -> Change {
    rows.iter().find(|r| r.activity == a).unwrap().change
}

#[test]
fn diff_of_the_2014_and_2020_instruments() {
    let all = us_policies();
    let dif = diff(
        policy(&all, "us-2014-09-obama"),
        policy(&all, "us-2020-01-trump"),
    );
    let c = |a| change_of(&dif.activities, a);
    assert_eq!(c(Activity::Use), Change::Loosened);
    assert_eq!(c(Activity::Develop), Change::Added);
    assert_eq!(c(Activity::Produce), Change::Added);
    assert_eq!(c(Activity::Stockpile), Change::Removed);
    assert_eq!(c(Activity::Assist), Change::Removed);
    assert_eq!(c(Activity::Retain), Change::NotAddressed);
    let use_row = dif
        .activities
        .iter()
        .find(|r| r.activity == Activity::Use)
        .unwrap();
    assert_eq!(
        use_row.from.as_ref().unwrap().stance,
        Stance::ProhibitedWithExceptions
    );
    assert_eq!(
        use_row.to.as_ref().unwrap().stance,
        Stance::PermittedWithConditions
    );
    let json = serde_json::to_value(&dif).unwrap();
    let row = &json["activities"][0];
    for k in ["activity", "change", "from", "to"] {
        assert!(row.get(k).is_some(), "{k}");
    }
    assert_eq!(row["activity"], "use");
    assert_eq!(row["change"], "loosened");
    // June 2014 (production, acquisition) vs 2020: loosened.
    let dif = diff(
        policy(&all, "us-2014-06-obama"),
        policy(&all, "us-2020-01-trump"),
    );
    assert_eq!(
        change_of(&dif.activities, Activity::Produce),
        Change::Loosened
    );
    assert_eq!(
        change_of(&dif.activities, Activity::Acquire),
        Change::Loosened
    );
}

#[test]
fn what_changed_and_what_did_not_2014_2020_2022() {
    let all = us_policies();
    let y2015 = in_force(&all, "USA", d("2015-01-01"));
    let ids = |f: &minewatch_treaty::InForce, a: Activity| {
        f.activities
            .iter()
            .find(|x| x.activity == a)
            .unwrap()
            .policy_id
            .clone()
    };
    assert_eq!(
        ids(&y2015, Activity::Use).as_deref(),
        Some("us-2014-09-obama")
    );
    assert_eq!(
        ids(&y2015, Activity::Produce).as_deref(),
        Some("us-2014-06-obama")
    );
    assert_eq!(
        ids(&y2015, Activity::Transfer).as_deref(),
        Some("us-2004-bush")
    );
    assert_eq!(ids(&y2015, Activity::Retain), None);

    // 2014 -> 2020.
    let c = compare_in_force(&all, "USA", d("2015-01-01"), d("2021-01-01"));
    let ch = |a| change_of(&c.activities, a);
    assert_eq!(ch(Activity::Use), Change::Loosened);
    assert_eq!(ch(Activity::Produce), Change::Loosened);
    assert_eq!(ch(Activity::Acquire), Change::Loosened);
    assert_eq!(
        ch(Activity::Develop),
        Change::Unchanged,
        "2004 and 2020 both permit developing non-persistent mines"
    );
    assert_eq!(ch(Activity::Transfer), Change::Unchanged);
    assert_eq!(ch(Activity::Assist), Change::Removed);
    assert_eq!(ch(Activity::Stockpile), Change::ChangedScope);
    assert_eq!(ch(Activity::Retain), Change::NotAddressed);
    assert_eq!(
        c.unchanged,
        vec![Activity::Develop, Activity::Retain, Activity::Transfer]
    );
    // The rescission is explained.
    let y2021 = in_force(&all, "USA", d("2021-01-01"));
    let stock = y2021
        .activities
        .iter()
        .find(|x| x.activity == Activity::Stockpile)
        .unwrap();
    assert_eq!(stock.policy_id.as_deref(), Some("us-2004-bush"));
    assert!(stock
        .reasons
        .iter()
        .any(|r| r.text.contains("us-2014-09-obama (23 September 2014) addressed stockpile but was rescinded by us-2020-01-trump")));
    assert!(stock
        .reasons
        .iter()
        .any(|r| r.citations.iter().any(|c| c.source.contains("state.gov"))));

    // 2020 -> 2022.
    let c = compare_in_force(&all, "USA", d("2021-01-01"), d("2023-01-01"));
    let ch = |a| change_of(&c.activities, a);
    assert_eq!(ch(Activity::Use), Change::Tightened);
    assert_eq!(ch(Activity::Develop), Change::Tightened);
    assert_eq!(ch(Activity::Produce), Change::Tightened);
    assert_eq!(ch(Activity::Acquire), Change::Tightened);
    assert_eq!(ch(Activity::Assist), Change::Added);
    // Persistent mines prohibited -> all mines prohibited except for destruction: mixed.
    assert_eq!(ch(Activity::Transfer), Change::ChangedScope);
    let t = c
        .activities
        .iter()
        .find(|r| r.activity == Activity::Transfer)
        .unwrap();
    assert!(t.summary.contains("mixed"), "{}", t.summary);
    // 2014 -> 2022: use, assist and stockpile come back to the 2014 wording.
    let c = compare_in_force(&all, "USA", d("2015-01-01"), d("2023-01-01"));
    let ch = |a| change_of(&c.activities, a);
    assert_eq!(ch(Activity::Use), Change::Unchanged);
    assert_eq!(ch(Activity::Assist), Change::Unchanged);
    assert_eq!(ch(Activity::Stockpile), Change::Unchanged);
    assert_eq!(ch(Activity::Develop), Change::Tightened);
}

#[test]
fn provisions_start_at_their_effective_year() {
    let all = us_policies();
    let f = in_force(&all, "USA", d("2005-01-01"));
    let use_ = f
        .activities
        .iter()
        .find(|x| x.activity == Activity::Use)
        .unwrap();
    assert_eq!(use_.policy_id.as_deref(), Some("us-1998-pdd64"));
    assert!(use_
        .reasons
        .iter()
        .any(|r| r.text.contains("only from 2011")));
    let f = in_force(&all, "USA", d("2012-01-01"));
    let use_ = f
        .activities
        .iter()
        .find(|x| x.activity == Activity::Use)
        .unwrap();
    assert_eq!(use_.policy_id.as_deref(), Some("us-2004-bush"));
    // 1994 speech "not_addressed" governs nothing.
    let f = in_force(&all, "USA", d("1995-01-01"));
    assert_eq!(f.instruments, vec!["us-1992-export-moratorium"]);
}

#[test]
fn alignment_of_the_2022_policy() {
    let all = us_policies();
    let rows = alignment(policy(&all, "us-2022-06-biden"));
    let of = |a| rows.iter().find(|r| r.activity == a).unwrap().alignment;
    assert_eq!(of(Activity::Develop), Alignment::Aligned);
    assert_eq!(of(Activity::Produce), Alignment::Aligned);
    assert_eq!(of(Activity::Acquire), Alignment::Aligned);
    assert_eq!(of(Activity::Use), Alignment::Partial);
    assert_eq!(of(Activity::Transfer), Alignment::Partial);
    assert_eq!(of(Activity::Retain), Alignment::NotAddressed);
    let rows = alignment(policy(&all, "us-2020-01-trump"));
    assert!(rows
        .iter()
        .filter(|r| r.stance != Stance::NotAddressed)
        .all(|r| r.alignment == Alignment::NotAligned));
}

fn scatterable(persistent: bool) -> Device {
    Device {
        name: Some("scatterable".into()),
        target: Target::Person,
        activation: Activation::Tripwire,
        anti_handling_device: false,
        self_destruct: (!persistent).then_some(Mechanism {
            days: 4.0,
            reliability: 0.99,
        }),
        self_deactivation: (!persistent).then_some(Mechanism {
            days: 90.0,
            reliability: 0.99,
        }),
        delivery: Delivery {
            mode: DeliveryMode::Remote,
            distance_m: None,
        },
        detectable_iron_equivalent_g: Some(10.0),
        directional: false,
    }
}

#[test]
fn policies_on_using_a_device() {
    let all = us_policies();
    let use_verdict = |dev: &Device, on: &str| {
        let c = classify(dev, &all, d(on), &[]);
        c.policies
            .verdicts
            .into_iter()
            .find(|v| v.governs_use)
            .unwrap()
    };
    let v = use_verdict(&scatterable(false), "2021-01-01");
    assert_eq!(v.policy_id, "us-2020-01-trump");
    assert_eq!(v.use_permitted, UsePermission::PermittedWithConditions);
    assert!(v
        .conditions
        .iter()
        .any(|c| c.contains("combatant commanders")));
    let v = use_verdict(&scatterable(true), "2021-01-01");
    assert_eq!(v.use_permitted, UsePermission::Prohibited);
    let v = use_verdict(&scatterable(false), "2023-01-01");
    assert_eq!(v.policy_id, "us-2022-06-biden");
    assert_eq!(v.use_permitted, UsePermission::ProhibitedWithExceptions);
    assert!(v
        .conditions
        .iter()
        .any(|c| c.contains("outside the Korean Peninsula")));
    // 2012: the Bush policy prohibits persistent mines only.
    assert_eq!(
        use_verdict(&scatterable(false), "2012-01-01").use_permitted,
        UsePermission::NotRestricted
    );
    assert_eq!(
        use_verdict(&scatterable(true), "2012-01-01").use_permitted,
        UsePermission::ProhibitedWithExceptions
    );
    // A command-detonated Claymore is not an APM: no policy restricts it.
    let claymore = Device {
        activation: Activation::Command,
        directional: true,
        ..scatterable(true)
    };
    assert_eq!(
        use_verdict(&claymore, "2023-01-01").use_permitted,
        UsePermission::NotRestricted
    );
    // Instruments in force that do not govern use say which one does.
    let c = classify(&scatterable(false), &all, d("2021-01-01"), &[]);
    let other = c.policies.verdicts.iter().find(|v| !v.governs_use).unwrap();
    assert_eq!(other.policy_id, "us-2004-bush");
    assert_eq!(other.use_permitted, UsePermission::NotAddressed);
    assert!(other.reasons[0].text.contains("us-2020-01-trump does"));
}

#[test]
fn engine_reads_policy_facts() {
    let mut f = Facts::new();
    for r in us_policies() {
        f.add(
            "USA",
            Some(&r.adopted.unwrap().to_string()),
            None,
            Payload::PolicyInstrument(r.instrument.clone()),
            &["seed-003"],
        );
    }
    let e = Engine::from_facts(f.facts);
    let records = e.policy_records();
    assert_eq!(records.len(), 10);
    let c = compare_in_force(&records, "USA", d("2015-01-01"), d("2021-01-01"));
    assert_eq!(change_of(&c.activities, Activity::Use), Change::Loosened);
}
