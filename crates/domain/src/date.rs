//! Civil dates and partial dates.
//!
//! Treaty facts come with dates of varying precision: "1991" (a year), "2009-04" (a month) or
//! "1997-12-03" (a day). A [`PartialDate`] keeps the precision the source gave; a [`Date`] is a
//! complete, validated proleptic Gregorian calendar day used for arithmetic (Art. 17 entry into
//! force, Art. 20 withdrawal, Art. 4/5/7 deadlines).

use std::fmt;
use std::str::FromStr;

/// A validated calendar day (proleptic Gregorian, years 1..=9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// Why a date could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateError {
    /// The text is not `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    Syntax(String),
    /// The text has the right shape but names no real day (2025-02-30, month 13, ...).
    Impossible(String),
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateError::Syntax(s) => write!(
                f,
                "cannot read {s:?} as a date; expected YYYY-MM-DD (or YYYY-MM, YYYY where partial dates are allowed)"
            ),
            DateError::Impossible(s) => write!(f, "{s:?} is not a real calendar date"),
        }
    }
}

impl std::error::Error for DateError {}

/// Is `year` a Gregorian leap year?
pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Number of days in `month` (1..=12) of `year`.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// The earliest and latest dates minewatch accepts.
    pub const MIN_YEAR: i32 = 1;
    pub const MAX_YEAR: i32 = 9999;

    /// Builds a date, checking that the day exists.
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        if !(Self::MIN_YEAR..=Self::MAX_YEAR).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        if day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    pub fn year(self) -> i32 {
        self.year
    }
    pub fn month(self) -> u8 {
        self.month
    }
    pub fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (negative before). Howard Hinnant's `days_from_civil`.
    pub fn to_days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let d = i64::from(self.day);
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// Inverse of [`Date::to_days`]; `None` outside years 1..=9999.
    pub fn from_days(days: i64) -> Option<Date> {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        let year = i32::try_from(y).ok()?;
        Date::new(year, u8::try_from(m).ok()?, u8::try_from(d).ok()?)
    }

    /// The date `n` days later (earlier when negative).
    pub fn add_days(self, n: i64) -> Option<Date> {
        Date::from_days(self.to_days().checked_add(n)?)
    }

    /// Days from `self` to `other` (positive when `other` is later).
    pub fn days_until(self, other: Date) -> i64 {
        other.to_days() - self.to_days()
    }

    /// The same day of the month `n` months later; when that month is shorter, its last day
    /// (31 August + 6 months = 28 or 29 February). Used by Art. 20 ("six months after").
    pub fn add_months(self, n: i32) -> Option<Date> {
        let total = self.year.checked_mul(12)? + i32::from(self.month) - 1 + n;
        let year = total.div_euclid(12);
        let month = u8::try_from(total.rem_euclid(12) + 1).ok()?;
        let day = self.day.min(days_in_month(year, month));
        Date::new(year, month, day)
    }

    /// The same day and month `n` years later (29 February becomes 28 February).
    pub fn add_years(self, n: i32) -> Option<Date> {
        self.add_months(n.checked_mul(12)?)
    }

    /// The first day of this date's month.
    pub fn first_of_month(self) -> Date {
        Date { day: 1, ..self }
    }

    /// Parses `YYYY-MM-DD` exactly.
    pub fn parse(s: &str) -> Result<Date, DateError> {
        match PartialDate::parse(s)? {
            PartialDate::Day(d) => Ok(d),
            _ => Err(DateError::Syntax(s.to_string())),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Date {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Date::parse(s)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// In the API's schema a calendar date is a string `YYYY-MM-DD`.
impl utoipa::PartialSchema for Date {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
            .description(Some("A calendar date, YYYY-MM-DD."))
            .into()
    }
}

impl utoipa::ToSchema for Date {}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Date::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// English month names, for sentences in reasons ("1 January 2000").
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The English name of a month 1..=12 ("" otherwise).
pub fn month_name(month: u8) -> &'static str {
    MONTHS
        .get(usize::from(month).wrapping_sub(1))
        .copied()
        .unwrap_or("")
}

impl Date {
    /// "28 July 1999": the form used in reasons and profiles.
    pub fn long(self) -> String {
        format!("{} {} {}", self.day, month_name(self.month), self.year)
    }
}

/// A date as precise as its source: a year, a month or a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartialDate {
    Year(i32),
    Month(i32, u8),
    Day(Date),
}

/// The precision of a [`PartialDate`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    Year,
    Month,
    Day,
}

impl PartialDate {
    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (surrounding whitespace ignored).
    pub fn parse(s: &str) -> Result<PartialDate, DateError> {
        let t = s.trim();
        let syntax = || DateError::Syntax(s.to_string());
        let impossible = || DateError::Impossible(s.to_string());
        let parts: Vec<&str> = t.split('-').collect();
        let num = |p: &str, len: usize| -> Result<u32, DateError> {
            if p.len() != len || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(syntax());
            }
            p.parse::<u32>().map_err(|_| syntax())
        };
        match parts.as_slice() {
            [y] => {
                let y = num(y, 4)?;
                let y = i32::try_from(y).map_err(|_| syntax())?;
                if y < Date::MIN_YEAR {
                    return Err(impossible());
                }
                Ok(PartialDate::Year(y))
            }
            [y, m] => {
                let y = i32::try_from(num(y, 4)?).map_err(|_| syntax())?;
                let m = num(m, 2)?;
                if y < Date::MIN_YEAR || !(1..=12).contains(&m) {
                    return Err(impossible());
                }
                Ok(PartialDate::Month(y, m as u8))
            }
            [y, m, d] => {
                let y = i32::try_from(num(y, 4)?).map_err(|_| syntax())?;
                let m = num(m, 2)?;
                let d = num(d, 2)?;
                let (Ok(m), Ok(d)) = (u8::try_from(m), u8::try_from(d)) else {
                    return Err(impossible());
                };
                Date::new(y, m, d)
                    .map(PartialDate::Day)
                    .ok_or_else(impossible)
            }
            _ => Err(syntax()),
        }
    }

    pub fn precision(self) -> Precision {
        match self {
            PartialDate::Year(_) => Precision::Year,
            PartialDate::Month(..) => Precision::Month,
            PartialDate::Day(_) => Precision::Day,
        }
    }

    pub fn year(self) -> i32 {
        match self {
            PartialDate::Year(y) | PartialDate::Month(y, _) => y,
            PartialDate::Day(d) => d.year(),
        }
    }

    /// The first day the partial date can mean.
    pub fn earliest(self) -> Date {
        match self {
            PartialDate::Year(y) => Date::new(y, 1, 1),
            PartialDate::Month(y, m) => Date::new(y, m, 1),
            PartialDate::Day(d) => Some(d),
        }
        .unwrap_or(Date {
            year: 1,
            month: 1,
            day: 1,
        })
    }

    /// The last day the partial date can mean.
    pub fn latest(self) -> Date {
        match self {
            PartialDate::Year(y) => Date::new(y, 12, 31),
            PartialDate::Month(y, m) => Date::new(y, m, days_in_month(y, m)),
            PartialDate::Day(d) => Some(d),
        }
        .unwrap_or(Date {
            year: 9999,
            month: 12,
            day: 31,
        })
    }

    /// The exact day, when the source gave one.
    pub fn as_day(self) -> Option<Date> {
        match self {
            PartialDate::Day(d) => Some(d),
            _ => None,
        }
    }

    /// Human form at the source's precision: "1991", "April 2009", "3 December 1997".
    pub fn long(self) -> String {
        match self {
            PartialDate::Year(y) => y.to_string(),
            PartialDate::Month(y, m) => format!("{} {y}", month_name(m)),
            PartialDate::Day(d) => d.long(),
        }
    }
}

impl From<Date> for PartialDate {
    fn from(d: Date) -> Self {
        PartialDate::Day(d)
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PartialDate::Year(y) => write!(f, "{y:04}"),
            PartialDate::Month(y, m) => write!(f, "{y:04}-{m:02}"),
            PartialDate::Day(d) => d.fmt(f),
        }
    }
}

impl FromStr for PartialDate {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PartialDate::parse(s)
    }
}

impl serde::Serialize for PartialDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// In the API's schema a partial date is a string: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
impl utoipa::PartialSchema for PartialDate {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"))
            .description(Some(
                "A date only as precise as its source: YYYY, YYYY-MM or YYYY-MM-DD.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for PartialDate {}

impl<'de> serde::Deserialize<'de> for PartialDate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PartialDate::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_each_precision() {
        assert_eq!(PartialDate::parse("1991"), Ok(PartialDate::Year(1991)));
        assert_eq!(
            PartialDate::parse("2009-04"),
            Ok(PartialDate::Month(2009, 4))
        );
        assert_eq!(
            PartialDate::parse("1997-12-03").map(|d| d.to_string()),
            Ok("1997-12-03".to_string())
        );
    }

    #[test]
    fn rejects_impossible_and_malformed_dates() {
        assert!(matches!(
            PartialDate::parse("2025-02-30"),
            Err(DateError::Impossible(_))
        ));
        assert!(matches!(
            PartialDate::parse("2023-02-29"),
            Err(DateError::Impossible(_))
        ));
        assert!(PartialDate::parse("2024-02-29").is_ok());
        assert!(matches!(
            PartialDate::parse("2025-13"),
            Err(DateError::Impossible(_))
        ));
        assert!(matches!(
            PartialDate::parse("3 Dec 1997"),
            Err(DateError::Syntax(_))
        ));
        assert!(matches!(
            PartialDate::parse("1997/12/03"),
            Err(DateError::Syntax(_))
        ));
        assert!(matches!(
            PartialDate::parse("97-12-03"),
            Err(DateError::Syntax(_))
        ));
        assert!(matches!(PartialDate::parse(""), Err(DateError::Syntax(_))));
        assert!(matches!(
            PartialDate::parse("+997-12-03"),
            Err(DateError::Syntax(_))
        ));
        assert!(matches!(Date::parse("1997-12"), Err(DateError::Syntax(_))));
    }

    #[test]
    fn month_arithmetic_follows_the_treaty_examples() {
        let d = |s| Date::parse(s).expect("test date");
        // Art. 20: notice 27 June 2025 takes effect 27 December 2025.
        assert_eq!(d("2025-06-27").add_months(6), Some(d("2025-12-27")));
        assert_eq!(d("2025-08-31").add_months(6), Some(d("2026-02-28")));
        assert_eq!(d("2024-02-29").add_years(1), Some(d("2025-02-28")));
        assert_eq!(d("1999-03-01").add_days(180), Some(d("1999-08-28")));
        assert_eq!(d("2000-01-01").long(), "1 January 2000");
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (1i32..=9999, 1u8..=12, 1u8..=31)
            .prop_map(|(y, m, d)| Date::new(y, m, d.min(days_in_month(y, m))).expect("valid"))
    }

    proptest! {
        #[test]
        fn days_round_trip(d in any_date()) {
            prop_assert_eq!(Date::from_days(d.to_days()), Some(d));
        }

        #[test]
        fn next_day_is_one_day_later(d in any_date()) {
            if let Some(n) = d.add_days(1) {
                prop_assert!(n > d);
                prop_assert_eq!(d.days_until(n), 1);
            }
        }

        #[test]
        fn text_round_trip(d in any_date()) {
            prop_assert_eq!(Date::parse(&d.to_string()), Ok(d));
            let p = PartialDate::Day(d);
            prop_assert_eq!(PartialDate::parse(&p.to_string()), Ok(p));
        }

        #[test]
        fn partial_dates_bracket_their_days(y in 1i32..=9999, m in 1u8..=12) {
            let p = PartialDate::Month(y, m);
            prop_assert!(p.earliest() <= p.latest());
            prop_assert_eq!(p.earliest().month(), m);
            prop_assert_eq!(p.latest().add_days(1).map(|d| d.day()).unwrap_or(1), 1);
            prop_assert_eq!(PartialDate::parse(&p.to_string()), Ok(p));
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,12}") {
            let _ = PartialDate::parse(&s);
        }

        #[test]
        fn add_months_keeps_day_or_clamps(d in any_date(), n in -120i32..120) {
            if let Some(r) = d.add_months(n) {
                prop_assert!(r.day() == d.day() || r.day() == days_in_month(r.year(), r.month()));
                let months = (r.year() - d.year()) * 12 + i32::from(r.month()) - i32::from(d.month());
                prop_assert_eq!(months, n);
            }
        }
    }
}
