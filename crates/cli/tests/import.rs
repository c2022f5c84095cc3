//! Importers: every bad-input case reports where and what, and writes nothing.

use crate::support::*;
use minewatch_import::{ImportError, Kind, Options};
use minewatch_store::{FactFilter, Store};

const ROLL_CALLS: &str = "rcid,session,date,resolution,subject,yes,no,abstain\n5002,64,2009-12-02,64/56,apmbc_implementation,160,0,18\n";
const SOURCES: &str =
    "key,title,publisher,published,url,note\nvotes-src,Voting data,Dataverse,,,\n";

/// A store with one source and one roll call, ready for vote files.
fn vote_store(dir: &TempDir) -> Store {
    let mut s = store(dir, false);
    import(
        &mut s,
        "sources",
        &dir.file("sources.csv", SOURCES.as_bytes()),
    )
    .unwrap();
    let o = Options {
        default_source: Some("votes-src".into()),
        ..opts()
    };
    let rc = dir.file("roll_calls.csv", ROLL_CALLS.as_bytes());
    minewatch_import::import_file(&mut s, Kind::by_name("unga-roll-calls").unwrap(), &rc, &o)
        .unwrap();
    s
}

fn import_votes(
    s: &mut Store,
    dir: &TempDir,
    body: &[u8],
) -> Result<minewatch_import::Report, ImportError> {
    let path = dir.file("votes.csv", body);
    let o = Options {
        default_source: Some("votes-src".into()),
        ..opts()
    };
    minewatch_import::import_file(s, Kind::by_name("unga-votes").unwrap(), &path, &o)
}

/// Imports `body` as `kind` into a store and asserts it fails with a message containing every
/// `expected` string and that no table changed.
fn rejects(kind: &str, body: &[u8], expected: &[&str]) -> String {
    let dir = TempDir::new();
    let mut s = vote_store(&dir);
    let before = counts(&s);
    let path = dir.file("input.csv", body);
    let o = Options {
        default_source: kind.starts_with("unga").then(|| "votes-src".to_string()),
        ..opts()
    };
    let err = minewatch_import::import_file(&mut s, Kind::by_name(kind).unwrap(), &path, &o)
        .expect_err("the import should fail");
    let text = err.to_string();
    let shown = text.replace(&path.display().to_string(), "input.csv");
    for e in expected {
        assert!(shown.contains(e), "expected {e:?} in:\n{shown}");
    }
    assert!(shown.ends_with("nothing was written"), "{shown}");
    assert_eq!(counts(&s), before, "the database changed");
    shown
}

#[test]
fn missing_column_is_reported_on_the_header_line() {
    rejects(
        "treaty-actions",
        b"state,iso3,action,method,note,source\nCanada,CAN,signature,,,x\n",
        &["input.csv:1: date: missing column \"date\"; the header must include it"],
    );
}

#[test]
fn unknown_column_names_its_position_and_the_expected_columns() {
    rejects(
        "unga-votes",
        b"rcid,resolution,country,country_code,vote,colour\n5002,64/56,Canada,CA,yes,red\n",
        &["input.csv:1:6: colour: unknown column \"colour\"; expected columns: rcid, resolution, country, vote, country_code, source"],
    );
}

#[test]
fn empty_required_field() {
    rejects(
        "treaty-actions",
        b"state,iso3,action,method,date,note,source\nCanada,CAN,,,1997-12-03,,x\n",
        &["input.csv:2:3: action: empty; expected one of: signature, deposit"],
    );
}

#[test]
fn impossible_date() {
    rejects(
        "treaty-actions",
        b"state,iso3,action,method,date,note,source\nCanada,CAN,signature,,2025-02-30,,x\n",
        &["input.csv:2:5: date: impossible date \"2025-02-30\": no such day in the calendar"],
    );
}

#[test]
fn unparseable_date() {
    rejects(
        "treaty-actions",
        b"state,iso3,action,method,date,note,source\nCanada,CAN,signature,,3 Dec 1997,,x\n",
        &["input.csv:2:5: date: cannot read \"3 Dec 1997\" as a date; expected YYYY-MM-DD, YYYY-MM or YYYY"],
    );
}

#[test]
fn unknown_state_lists_the_closest_names() {
    rejects(
        "unga-votes",
        b"rcid,resolution,country,vote\n5002,64/56,Untied States,abstain\n",
        &["input.csv:2:3: country: unknown state or area \"Untied States\"; closest: United States (USA)"],
    );
}

#[test]
fn ambiguous_state_lists_every_candidate() {
    rejects(
        "unga-votes",
        b"rcid,resolution,country,vote\n5002,64/56,Korea,abstain\n",
        &[
            "input.csv:2:3: country: ambiguous name \"Korea\"",
            "(KOR)",
            "(PRK)",
        ],
    );
}

#[test]
fn vote_must_be_yes_no_or_abstain() {
    rejects(
        "unga-votes",
        b"rcid,resolution,country,country_code,vote\n5002,64/56,Canada,CA,maybe\n",
        &["input.csv:2:5: vote: \"maybe\" is not allowed here; expected one of: yes, no, abstain"],
    );
}

#[test]
fn negative_count() {
    rejects(
        "us-stockpile",
        b"state,iso3,as_of,mine_type,quantity,source\nUnited States,USA,2002,M14,-5,x\n",
        &["input.csv:2:5: quantity: negative count -5; expected a whole number (0 or more)"],
    );
}

#[test]
fn duplicate_row_names_the_first_line() {
    rejects(
        "unga-votes",
        b"rcid,resolution,country,country_code,vote\n5002,64/56,Canada,CA,yes\n5002,64/56,Canada,CA,yes\n",
        &["input.csv:3: duplicate row: same roll call 5002 and state CAN as line 2"],
    );
}

#[test]
fn invalid_utf8_is_located() {
    rejects(
        "unga-votes",
        b"rcid,resolution,country,country_code,vote\n5002,64/56,Can\xffada,CA,yes\n",
        &["input.csv:2:3: country: invalid UTF-8 at byte 3 of the field; expected UTF-8 text"],
    );
}

#[test]
fn name_and_code_must_agree() {
    rejects(
        "unga-votes",
        b"rcid,resolution,country,country_code,vote\n5002,64/56,Canada,US,yes\n",
        &["input.csv:2:3: country: the name resolves to CAN but the code column says USA"],
    );
}

#[test]
fn row_with_too_many_fields() {
    rejects(
        "unga-votes",
        b"rcid,resolution,country,country_code,vote\n5002,64/56,Canada,CA,yes,extra\n",
        &["input.csv:2: row has 6 fields; expected 5"],
    );
}

#[test]
fn votes_need_their_roll_call() {
    rejects(
        "unga-votes",
        b"rcid,resolution,country,country_code,vote\n9999,64/56,Canada,CA,yes\n",
        &[
            "input.csv:2:1: rcid: roll call 9999 is not in the record",
            "minewatch import unga-roll-calls",
        ],
    );
}

#[test]
fn every_problem_in_the_file_is_reported_not_just_the_first() {
    let shown = rejects(
        "treaty-actions",
        b"state,iso3,action,method,date,note,source\nCanada,CAN,signature,,2025-02-30,,x\nAtlantis,,signature,,1997-12-03,,x\nIreland,IRL,deposit,ratification,1997-12-03,,\n",
        &["input.csv:2:5: date:", "input.csv:3:1: state: unknown state or area \"Atlantis\"", "input.csv:4:7: source: empty; expected a source"],
    );
    assert!(shown.contains("3 problems found"), "{shown}");
}

#[test]
fn facts_format_checks_kind_payload_and_sources() {
    rejects(
        "facts-csv",
        br#"key,subject,kind,valid_from,valid_to,payload,sources,note
a,USA,treaty_actoin,1997,,{},votes-src,
b,USA,treaty_action,1997,,"{""action"":""deposit""}",votes-src,
c,USA,development,1997,,"{""topic"":""x"",""summary"":""y""}",no-such-source,
d,USA,development,1997,,"{""topic"":""x"",""summary"":""y""}",,
"#,
        &[
            "input.csv:2:3: kind: \"treaty_actoin\" is not allowed here; expected one of: treaty_action",
            "input.csv:3:6: payload: invalid treaty_action payload: a deposit needs a method",
            "input.csv:4: unknown source \"no-such-source\": record the source first",
            "input.csv:5:7: sources: empty; expected one or more source keys",
        ],
    );
}

#[test]
fn bom_and_crlf_are_accepted() {
    let dir = TempDir::new();
    let mut s = vote_store(&dir);
    let r = import_votes(
        &mut s,
        &dir,
        b"\xef\xbb\xbfrcid,resolution,country,country_code,vote\r\n5002,64/56,C\xc3\xb4te d\xe2\x80\x99Ivoire,CI,yes\r\n5002,64/56,United States,US,abstain\r\n",
    )
    .unwrap();
    assert_eq!((r.rows, r.stats.facts_added), (2, 2));
}

#[test]
fn dry_run_checks_and_counts_but_writes_nothing() {
    let dir = TempDir::new();
    let mut s = vote_store(&dir);
    let before = counts(&s);
    let path = dir.file(
        "v.csv",
        b"rcid,resolution,country,vote\n5002,64/56,Canada,yes\n",
    );
    let o = Options {
        dry_run: true,
        default_source: Some("votes-src".into()),
        ..opts()
    };
    let r = minewatch_import::import_file(&mut s, Kind::by_name("unga-votes").unwrap(), &path, &o)
        .unwrap();
    assert_eq!(r.stats.facts_added, 1);
    assert!(r.to_string().starts_with("dry run (nothing written)"));
    assert_eq!(counts(&s), before);
}

#[test]
fn reimport_adds_nothing_and_a_changed_row_supersedes() {
    let dir = TempDir::new();
    let mut s = store(&dir, false);
    let parties = research("treaty/parties.csv");
    let first = import(&mut s, "parties", &parties).unwrap();
    assert!(first.stats.facts_added > 290, "{first}");
    let after_first = counts(&s);
    let again = import(&mut s, "parties", &parties).unwrap();
    assert_eq!(
        again.stats.facts_added + again.stats.facts_superseded,
        0,
        "{again}"
    );
    assert_eq!(again.stats.facts_unchanged, first.stats.facts_added);
    assert_eq!(counts(&s), after_first);

    // A corrected deposit date for Tonga supersedes the old fact; history keeps both.
    let text = std::fs::read_to_string(&parties).unwrap();
    let changed = text.replace("Tonga,TON,,2025-06-25", "Tonga,TON,,2025-06-26");
    assert_ne!(text, changed);
    let path = dir.file("parties.csv", changed.as_bytes());
    let r = import(&mut s, "parties", &path).unwrap();
    assert_eq!(
        (r.stats.facts_superseded, r.stats.facts_added),
        (1, 0),
        "{r}"
    );
    let current = s
        .facts(&FactFilter {
            subject: Some("TON".into()),
            ..FactFilter::default()
        })
        .unwrap();
    assert_eq!(current.len(), 1);
    assert_eq!(
        current[0].fact.valid_from.unwrap().to_string(),
        "2025-06-26"
    );
    let history = s.history(&current[0].key).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].superseded_by, Some(history[1].fact.id));
    assert_eq!(history[1].fact.supersedes, Some(history[0].fact.id));
}

#[test]
fn facts_are_append_only_in_the_database_itself() {
    let dir = TempDir::new();
    let s = store(&dir, true);
    for sql in [
        "UPDATE facts SET note = 'x' WHERE id = 1",
        "DELETE FROM facts WHERE id = 1",
        "DELETE FROM sources",
    ] {
        let e = s.execute_sql(sql).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
}

#[test]
fn every_research_file_imports_through_its_importer() {
    let dir = TempDir::new();
    let mut s = store(&dir, false);
    import(
        &mut s,
        "sources",
        std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/curated/sources.csv"
        )),
    )
    .unwrap();
    let o = Options {
        default_source: Some("voeten-unga-voting-data".into()),
        ..opts()
    };
    for (kind, file) in [
        ("parties", "treaty/parties.csv"),
        ("treaty-actions", "treaty/actions_sample.csv"),
        ("art5-extensions", "treaty/art5_extensions_sample.csv"),
        ("armed-conflict", "treaty/armed_conflict_sample.csv"),
        ("unga-roll-calls", "unga/roll_calls.csv"),
        ("unga-votes", "unga/votes.csv"),
        ("us-policies", "policies/us_policies.csv"),
        ("us-events", "policies/us_events.csv"),
        ("us-stockpile", "policies/us_stockpile_2002.csv"),
        ("headline-figures", "monitor/headline_figures.csv"),
        ("stockpiles", "monitor/stockpiles.csv"),
    ] {
        let r = minewatch_import::import_file(
            &mut s,
            Kind::by_name(kind).unwrap(),
            &research(file),
            &o,
        )
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(r.stats.facts_added > 0, "{file}: {r}");
    }
    // Every vote row of votes.csv resolved to a subject: 4,207 rows, 4,207 facts.
    let votes = s
        .facts(&FactFilter {
            kind: Some(minewatch_domain::FactKind::UngaVote),
            ..FactFilter::default()
        })
        .unwrap();
    assert_eq!(votes.len(), 4207);
    // 2020 rescinds the 2014 policies, read from the instrument's own description.
    let policies = s
        .facts(&FactFilter {
            kind: Some(minewatch_domain::FactKind::PolicyInstrument),
            ..FactFilter::default()
        })
        .unwrap();
    let trump = policies
        .iter()
        .find_map(|f| match &f.fact.payload {
            minewatch_domain::Payload::PolicyInstrument(p) if p.policy_id == "us-2020-01-trump" => {
                Some(p.clone())
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(
        trump.rescinds,
        vec![
            "us-2014-06-obama".to_string(),
            "us-2014-09-obama".to_string()
        ]
    );
}

#[test]
fn shipped_data_loads_once_and_keeps_conflicting_sources() {
    let dir = TempDir::new();
    let mut s = store(&dir, true);
    let n = counts(&s);
    minewatch_import::shipped::load(&mut s).unwrap();
    assert_eq!(counts(&s), n, "loading twice must add nothing");
    // Indonesia: two deposit dates, each with its own source.
    let deposits: Vec<String> = s
        .facts(&FactFilter {
            subject: Some("IDN".into()),
            kind: Some(minewatch_domain::FactKind::TreatyAction),
            ..FactFilter::default()
        })
        .unwrap()
        .iter()
        .filter(|f| f.fact.payload.to_json().contains("deposit"))
        .map(|f| {
            format!(
                "{} {}",
                f.fact.valid_from.unwrap(),
                f.fact.citations[0].source
            )
        })
        .collect();
    assert_eq!(deposits.len(), 2, "{deposits:?}");
    assert!(
        deposits.iter().any(|d| d.starts_with("2007-02-16")),
        "{deposits:?}"
    );
    assert!(
        deposits.iter().any(|d| d.starts_with("2007-02-20")),
        "{deposits:?}"
    );
}

#[test]
fn as_of_leaves_out_later_and_unpublished_facts() {
    let dir = TempDir::new();
    let s = store(&dir, true);
    let at = |d: &str| {
        s.facts(&FactFilter {
            subject: Some("USA".into()),
            as_of: Some(minewatch_domain::Date::parse(d).unwrap()),
            ..FactFilter::default()
        })
        .unwrap()
    };
    let in_2010 = at("2010-10-18");
    assert!(in_2010.iter().all(|f| f.fact.valid_from.is_none_or(|d| d
        .earliest()
        .to_string()
        .as_str()
        <= "2010-10-18")));
    // The 2022 policy and the 2024 transfer are not in the 2010 view; they are today.
    let ids =
        |v: &[minewatch_store::FactRecord]| v.iter().map(|f| f.key.clone()).collect::<Vec<_>>();
    assert!(!ids(&in_2010).contains(&"us-policy:us-2022-06-biden".to_string()));
    assert!(ids(&at("2026-01-01")).contains(&"us-policy:us-2022-06-biden".to_string()));
    // Seed 002 facts were published on 18 October 2010: not known the day before.
    let known = |v: &[minewatch_store::FactRecord]| {
        v.iter().filter(|f| f.key.starts_with("seed002:")).count()
    };
    assert!(known(&in_2010) > 40);
    assert!(known(&at("2010-10-17")) < known(&in_2010));
}

#[test]
fn a_mistyped_db_path_is_an_error_not_an_empty_record() {
    let dir = TempDir::new();
    // A reading command on a database that is not there: an error saying how one is made, and
    // nothing created.
    let missing = dir.path("minewatch.sqlite");
    let (ok, out, err) = minewatch(&missing, &["parties"]);
    assert!(!ok, "{out}");
    assert!(err.contains("no such database"), "{err}");
    assert!(err.contains("minewatch load"), "{err}");
    assert!(!missing.exists());
    // A creating command in a folder that is not there: an error, and no folder made.
    let typo = dir.path("dta/minewatch.sqlite");
    let (ok, _, err) = minewatch(&typo, &["load"]);
    assert!(!ok);
    assert!(err.contains("does not exist"), "{err}");
    assert!(!dir.path("dta").exists());
    // Where the folder exists, `load` makes the database and `parties` reads it.
    let (ok, _, err) = minewatch(&missing, &["load"]);
    assert!(ok, "{err}");
    let (ok, out, err) = minewatch(&missing, &["parties", "--as-of", "2026-02-20"]);
    assert!(ok, "{err}");
    assert!(!out.contains("0 States Parties"), "{out}");
}

#[test]
fn commands_answer_in_json_for_scripts() {
    let dir = TempDir::new();
    let db = dir.path("json.sqlite");
    let facts = dir.file(
        "facts.csv",
        b"key,subject,kind,valid_from,valid_to,payload,sources,note\n\
          test:usa:signature,USA,treaty_action,2025-06-01,,\"{\"\"action\"\":\"\"signature\"\"}\",seed-000,test only\n",
    );
    let (ok, _, err) = minewatch(&db, &["load"]);
    assert!(ok, "{err}");
    // The import's summary.
    let (ok, out, err) = minewatch(
        &db,
        &["import", "facts-csv", facts.to_str().unwrap(), "--json"],
    );
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["kind"], "facts-csv");
    assert_eq!(v["rows"], 1);
    assert_eq!(v["facts_added"], 1);
    assert_eq!(v["dry_run"], false);
    // What an export wrote.
    let snap = dir.path("snap.sqlite");
    let (ok, out, err) = minewatch(
        &db,
        &[
            "export",
            "--format",
            "sqlite",
            "--out",
            snap.to_str().unwrap(),
            "--json",
        ],
    );
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["format"], "sqlite");
    assert_eq!(v["bytes"], std::fs::metadata(&snap).unwrap().len());
    assert!(v["facts"].as_u64().unwrap() > 5000, "{v}");
    let (ok, out, err) = minewatch(
        &db,
        &[
            "export",
            "--format",
            "csv",
            "--out",
            dir.path("csv").to_str().unwrap(),
            "--json",
        ],
    );
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["format"], "csv");
    assert!(v["sources"].as_u64().unwrap() > 100, "{v}");
    // The JSON document itself goes to standard output: a summary there too would spoil it.
    let (ok, _, err) = minewatch(&db, &["export", "--format", "json", "--json"]);
    assert!(!ok);
    assert!(err.contains("--out"), "{err}");
    // Accounts and webhooks, without their secrets.
    let (ok, _, err) = minewatch_stdin(&db, &["user", "add", "alice"], "a-long-password-here\n");
    assert!(ok, "{err}");
    let (ok, out, err) = minewatch(&db, &["user", "list", "--json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["username"], "alice");
    assert_eq!(v[0]["role"], "editor");
    assert_eq!(v[0]["disabled"], false);
    assert!(!out.contains("argon2"), "{out}");
    let (ok, added, err) = minewatch(&db, &["webhook", "add", "http://127.0.0.1:9/hook"]);
    assert!(ok, "{err}");
    let secret = added
        .lines()
        .find_map(|l| l.strip_prefix("signing secret (shown once): "))
        .unwrap()
        .to_string();
    let (ok, out, err) = minewatch(&db, &["webhook", "list", "--json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["url"], "http://127.0.0.1:9/hook");
    assert_eq!(v[0]["scope"], "*");
    assert!(!out.contains(&secret), "the signing secret is listed");
}
