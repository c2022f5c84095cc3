//! The date parsers: `PartialDate::parse` (YYYY, YYYY-MM, YYYY-MM-DD), `Date::parse`, the serde
//! forms of both, and `record_day` (the day of an RFC 3339 record time). A parsed date must print
//! in a form that parses back to it, and bracket its days. Seeds: dates as the shipped files
//! write them, and record times (fuzz/seeds/dates).
#![no_main]

use libfuzzer_sys::fuzz_target;
use minewatch_domain::{record_day, Date, PartialDate};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = PartialDate::parse(text) {
        assert_eq!(
            PartialDate::parse(&p.to_string()),
            Ok(p),
            "{p} does not read back"
        );
        assert!(p.earliest() <= p.latest(), "{p}: earliest after latest");
        assert_eq!(p.earliest().year(), p.year());
        let _ = p.long();
        let json = serde_json::to_string(&p).expect("a date serializes");
        assert_eq!(serde_json::from_str::<PartialDate>(&json).ok(), Some(p));
    }
    match Date::parse(text) {
        Ok(d) => {
            assert_eq!(Date::parse(&d.to_string()), Ok(d), "{d} does not read back");
            assert_eq!(Date::from_days(d.to_days()), Some(d));
            assert_eq!(PartialDate::parse(text), Ok(PartialDate::Day(d)));
            let _ = d.long();
            for n in [-1, 1, 6, 12, 120] {
                if let Some(later) = d.add_months(n) {
                    assert!((n > 0) == (later > d), "{d} + {n} months = {later}");
                }
            }
            if let Some(next) = d.add_days(1) {
                assert_eq!(d.days_until(next), 1);
            }
        }
        Err(_) => assert!(!matches!(PartialDate::parse(text), Ok(PartialDate::Day(_)))),
    }
    // serde: the JSON string form goes through the same parsers.
    let quoted = serde_json::to_string(text).expect("a string serializes");
    let _ = serde_json::from_str::<Date>(&quoted);
    let _ = serde_json::from_str::<PartialDate>(&quoted);
    if let Some(d) = record_day(text) {
        assert_eq!(text.get(..10), Some(d.to_string().as_str()));
    }
});
