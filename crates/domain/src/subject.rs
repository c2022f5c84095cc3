//! Subjects (states, other areas, historical entities, armed groups) and name resolution.
//!
//! Researchers bring names as their sources spell them: "Myanmar (Burma)", "Congo - Kinshasa",
//! "St. Kitts & Nevis", "Korea, Rep.", "Türkiye". [`Gazetteer::resolve`] maps such a name, or an
//! ISO 3166 alpha-2/alpha-3 code, to exactly one subject, or says why it cannot: unknown (with the
//! closest candidates) or ambiguous (with every candidate). Case, accents and punctuation do not
//! matter.

use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// What sort of subject this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// A state (UN member or observer state).
    State,
    /// A dependent territory with its own ISO 3166 code.
    Territory,
    /// An area the Monitor reports on that is not a state (Kosovo, Western Sahara, Somaliland, ...).
    OtherArea,
    /// An entity that no longer exists (Yugoslavia, Serbia and Montenegro), with its successors.
    Historical,
    /// A non-state armed group (an actor, not a territory).
    ArmedGroup,
    /// The world as a whole: global figures and UN General Assembly roll calls.
    World,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::State => "state",
            SubjectKind::Territory => "territory",
            SubjectKind::OtherArea => "other_area",
            SubjectKind::Historical => "historical",
            SubjectKind::ArmedGroup => "armed_group",
            SubjectKind::World => "world",
        }
    }

    pub fn parse(s: &str) -> Option<SubjectKind> {
        Some(match s {
            "state" => SubjectKind::State,
            "territory" => SubjectKind::Territory,
            "other_area" => SubjectKind::OtherArea,
            "historical" => SubjectKind::Historical,
            "armed_group" => SubjectKind::ArmedGroup,
            "world" => SubjectKind::World,
            _ => return None,
        })
    }
}

/// A state, area, historical entity, armed group or the world.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Subject {
    /// The primary key: ISO 3166-1 alpha-3 where one exists (XKX for Kosovo by convention),
    /// otherwise a project code (armed groups: `NSAG-...`).
    pub code: String,
    pub alpha2: Option<String>,
    pub numeric: Option<String>,
    /// Display name.
    pub name: String,
    pub kind: SubjectKind,
    pub aliases: Vec<String>,
    /// Codes of successor subjects (for historical entities).
    pub successors: Vec<String>,
    /// The subject this one belongs to (an armed group's country of operation), if any.
    pub parent: Option<String>,
    /// UN geoscheme region ("Africa", "Americas", "Asia", "Europe", "Oceania"), where known.
    pub region: Option<String>,
}

/// Why a name did not resolve to one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    Empty,
    /// No subject has this name; the closest candidates as (code, name).
    Unknown {
        input: String,
        candidates: Vec<(String, String)>,
    },
    /// Several subjects have this name: every one as (code, name).
    Ambiguous {
        input: String,
        candidates: Vec<(String, String)>,
    },
}

fn list(c: &[(String, String)]) -> String {
    c.iter()
        .map(|(code, name)| format!("{name} ({code})"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::Empty => {
                write!(f, "empty name; expected a state name or an ISO 3166 code")
            }
            ResolveError::Unknown { input, candidates } if candidates.is_empty() => {
                write!(
                    f,
                    "unknown state or area {input:?}; expected a name or an ISO 3166 code"
                )
            }
            ResolveError::Unknown { input, candidates } => write!(
                f,
                "unknown state or area {input:?}; closest: {}",
                list(candidates)
            ),
            ResolveError::Ambiguous { input, candidates } => write!(
                f,
                "ambiguous name {input:?}: it could be {}; use a more specific name or a code",
                list(candidates)
            ),
        }
    }
}

impl std::error::Error for ResolveError {}

/// Folds a name for matching: accents removed, lower case, `&` read as "and", punctuation
/// dropped, "St." read as "Saint", a leading or trailing "the" ignored.
pub fn normalize_name(s: &str) -> String {
    let mut folded = String::with_capacity(s.len());
    for c in s.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            '\'' | '\u{2019}' | '\u{2018}' | '`' | '\u{b4}' => {}
            '&' => folded.push_str(" and "),
            // Lowercasing can yield what this loop folds (ẞ gives ß): fold its output too, so
            // that normalizing twice changes nothing.
            c if c.is_alphanumeric() => {
                for l in c.to_lowercase() {
                    match l {
                        'ß' => folded.push_str("ss"),
                        l if is_combining_mark(l) => {}
                        l => folded.push(l),
                    }
                }
            }
            _ => folded.push(' '),
        }
    }
    let words: Vec<&str> = folded
        .split_whitespace()
        .map(|w| if w == "st" { "saint" } else { w })
        .filter(|w| *w != "the")
        .collect();
    words.join(" ")
}

/// Edit distance (by chars) between `a`, given as its chars, and `b`, when it is at most `max`;
/// `None` when it is more. Stops as soon as every entry of a row of the table exceeds `max` (the
/// distance can only grow from there), so comparing a key with a name of very different length
/// or spelling costs little. `prev` and `cur` are buffers reused from one call to the next.
fn levenshtein_within(
    a: &[char],
    b: &str,
    max: usize,
    prev: &mut Vec<usize>,
    cur: &mut Vec<usize>,
) -> Option<usize> {
    if a.len().abs_diff(b.chars().count()) > max {
        return None;
    }
    prev.clear();
    prev.extend(0..=a.len());
    cur.clear();
    cur.resize(a.len() + 1, 0);
    for (i, cb) in b.chars().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, ca) in a.iter().enumerate() {
            let cost = usize::from(*ca != cb);
            cur[j + 1] = (prev[j + 1] + 1).min(cur[j] + 1).min(prev[j] + cost);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(prev, cur);
    }
    let d = prev[a.len()];
    (d <= max).then_some(d)
}

/// The subjects and an index from every folded name and code to the subjects it names.
#[derive(Debug, Clone, Default)]
pub struct Gazetteer {
    subjects: Vec<Subject>,
    by_code: HashMap<String, usize>,
    by_name: HashMap<String, Vec<usize>>,
}

impl Gazetteer {
    /// Keys longer than this (bytes, after normalization) get no suggestions from
    /// [`Gazetteer::closest`]: the longest names are about 50 characters.
    pub const MAX_SUGGEST_LEN: usize = 100;

    /// Builds the index. Names shared by several subjects become ambiguous, not an error.
    pub fn new(subjects: Vec<Subject>) -> Gazetteer {
        let mut g = Gazetteer {
            subjects,
            ..Gazetteer::default()
        };
        for (i, s) in g.subjects.iter().enumerate() {
            g.by_code.insert(s.code.to_ascii_uppercase(), i);
            if let Some(a2) = &s.alpha2 {
                g.by_code.entry(a2.to_ascii_uppercase()).or_insert(i);
            }
            for name in std::iter::once(&s.name).chain(&s.aliases) {
                let key = normalize_name(name);
                if key.is_empty() {
                    continue;
                }
                let slot = g.by_name.entry(key).or_default();
                if !slot.contains(&i) {
                    slot.push(i);
                }
            }
        }
        g
    }

    pub fn subjects(&self) -> &[Subject] {
        &self.subjects
    }

    pub fn len(&self) -> usize {
        self.subjects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.subjects.is_empty()
    }

    /// Looks up an exact code (alpha-3, alpha-2 or project code), any case.
    pub fn by_code(&self, code: &str) -> Option<&Subject> {
        self.by_code
            .get(&code.trim().to_ascii_uppercase())
            .map(|&i| &self.subjects[i])
    }

    /// Resolves a code or a name to exactly one subject.
    pub fn resolve(&self, input: &str) -> Result<&Subject, ResolveError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(ResolveError::Empty);
        }
        let looks_like_code = (2..=3).contains(&trimmed.len())
            && trimmed.bytes().all(|b| b.is_ascii_alphabetic())
            || trimmed.starts_with("NSAG-");
        if looks_like_code {
            if let Some(s) = self.by_code(trimmed) {
                return Ok(s);
            }
        }
        let key = normalize_name(trimmed);
        match self.by_name.get(&key).map(Vec::as_slice) {
            Some([i]) => Ok(&self.subjects[*i]),
            Some(many) if !many.is_empty() => Err(ResolveError::Ambiguous {
                input: trimmed.to_string(),
                candidates: many
                    .iter()
                    .map(|&i| (self.subjects[i].code.clone(), self.subjects[i].name.clone()))
                    .collect(),
            }),
            _ => Err(ResolveError::Unknown {
                input: trimmed.to_string(),
                candidates: self.closest(&key, 5),
            }),
        }
    }

    /// The `n` subjects whose names are closest to a folded name.
    pub fn closest(&self, key: &str, n: usize) -> Vec<(String, String)> {
        // No name is near a key this long, and matching it against every name would cost its
        // length times theirs (a 60,000-character code took 0.9 s of CPU): no suggestions.
        if key.is_empty() || key.len() > Self::MAX_SUGGEST_LEN {
            return Vec::new();
        }
        let words: Vec<&str> = key.split(' ').filter(|w| w.len() > 2).collect();
        let key_chars: Vec<char> = key.chars().collect();
        // Names scoring above the limit are not suggested.
        let limit = key_chars.len().max(3) * 10 / 2 + 10;
        let (mut prev, mut cur) = (Vec::new(), Vec::new());
        let mut best: HashMap<usize, usize> = HashMap::new();
        for (name, ids) in &self.by_name {
            // A shared word ("korea", "congo", "guinea") is a strong hint; so is a prefix.
            let hint = if words.iter().any(|w| name.split(' ').any(|nw| nw == *w)) {
                5 * name.len().abs_diff(key.len()) + 1
            } else if name.starts_with(key) || key.starts_with(name.as_str()) {
                10 * name.len().abs_diff(key.len()) + 2
            } else {
                usize::MAX
            };
            // The score is the smaller of the hint and ten times the edit distance, and only
            // scores within the limit count: the distance matters only when it is below both.
            let max = if hint <= limit {
                (hint - 1) / 10
            } else {
                limit / 10
            };
            let score = match levenshtein_within(&key_chars, name, max, &mut prev, &mut cur) {
                Some(d) => (d * 10).min(hint),
                None => hint,
            };
            if score > limit {
                continue;
            }
            for &i in ids {
                let e = best.entry(i).or_insert(usize::MAX);
                *e = (*e).min(score);
            }
        }
        let mut ranked: Vec<(usize, usize)> = best.into_iter().collect();
        ranked.sort_by(|a, b| {
            a.1.cmp(&b.1)
                .then_with(|| self.subjects[a.0].code.cmp(&self.subjects[b.0].code))
        });
        ranked
            .into_iter()
            .take(n)
            .map(|(i, _)| (self.subjects[i].code.clone(), self.subjects[i].name.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn subject(code: &str, a2: &str, name: &str, aliases: &[&str]) -> Subject {
        Subject {
            code: code.into(),
            alpha2: Some(a2.into()),
            numeric: None,
            name: name.into(),
            kind: SubjectKind::State,
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            successors: vec![],
            parent: None,
            region: None,
        }
    }

    fn sample() -> Gazetteer {
        Gazetteer::new(vec![
            subject(
                "KOR",
                "KR",
                "Republic of Korea",
                &["South Korea", "Korea, Rep.", "Korea"],
            ),
            subject(
                "PRK",
                "KP",
                "Democratic People's Republic of Korea",
                &["North Korea", "DPRK", "Korea"],
            ),
            subject("CIV", "CI", "Côte d'Ivoire", &["Ivory Coast"]),
            subject("KNA", "KN", "Saint Kitts and Nevis", &[]),
            subject("TUR", "TR", "Türkiye", &["Turkey"]),
        ])
    }

    #[test]
    fn an_absurdly_long_key_gets_no_suggestions_and_costs_nothing() {
        let g = Gazetteer::new(vec![subject("UKR", "UA", "Ukraine", &[])]);
        assert!(g.closest(&"x".repeat(60_000), 3).is_empty());
        assert_eq!(g.closest("ukrane", 3).len(), 1);
    }

    #[test]
    fn folds_case_accents_and_punctuation() {
        assert_eq!(normalize_name("Côte d’Ivoire"), "cote divoire");
        assert_eq!(normalize_name("St. Kitts & Nevis"), "saint kitts and nevis");
        assert_eq!(normalize_name("  The  Gambia "), "gambia");
        // Lowercasing that yields something to fold again (found by the property below).
        assert_eq!(normalize_name("STRAẞE"), "strasse");
        assert_eq!(normalize_name("ẞ"), normalize_name("ß"));
        assert_eq!(normalize_name("İstanbul"), "istanbul");
    }

    #[test]
    fn resolves_codes_names_and_variants() {
        let g = sample();
        for (input, code) in [
            ("kor", "KOR"),
            ("KR", "KOR"),
            ("Korea, Rep.", "KOR"),
            ("DPRK", "PRK"),
            ("COTE D'IVOIRE", "CIV"),
            ("Côte d’Ivoire", "CIV"),
            ("St. Kitts & Nevis", "KNA"),
            ("Turkiye", "TUR"),
        ] {
            assert_eq!(
                g.resolve(input).map(|s| s.code.as_str()),
                Ok(code),
                "{input}"
            );
        }
    }

    #[test]
    fn ambiguous_and_unknown_names_list_candidates() {
        let g = sample();
        match g.resolve("Korea") {
            Err(ResolveError::Ambiguous { candidates, .. }) => assert_eq!(candidates.len(), 2),
            other => panic!("expected ambiguity, got {other:?}"),
        }
        match g.resolve("Turkee") {
            Err(e @ ResolveError::Unknown { .. }) => {
                assert!(e.to_string().contains("Türkiye (TUR)"), "{e}")
            }
            other => panic!("expected unknown, got {other:?}"),
        }
        assert_eq!(g.resolve("  "), Err(ResolveError::Empty));
    }

    /// Edit distance between two strings (by chars), the plain way.
    fn levenshtein(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        let mut cur = vec![0; b.len() + 1];
        for (i, ca) in a.chars().enumerate() {
            cur[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let cost = usize::from(ca != *cb);
                cur[j + 1] = (prev[j + 1] + 1).min(cur[j] + 1).min(prev[j] + cost);
            }
            std::mem::swap(&mut prev, &mut cur);
        }
        prev[b.len()]
    }

    /// [`Gazetteer::closest`] without its shortcuts: every name's full edit distance.
    fn closest_plain(g: &Gazetteer, key: &str, n: usize) -> Vec<(String, String)> {
        if key.is_empty() || key.len() > Gazetteer::MAX_SUGGEST_LEN {
            return Vec::new();
        }
        let words: Vec<&str> = key.split(' ').filter(|w| w.len() > 2).collect();
        let mut best: HashMap<usize, usize> = HashMap::new();
        for (name, ids) in &g.by_name {
            let mut score = levenshtein(key, name) * 10;
            if words.iter().any(|w| name.split(' ').any(|nw| nw == *w)) {
                score = score.min(5 * name.len().abs_diff(key.len()) + 1);
            } else if name.starts_with(key) || key.starts_with(name.as_str()) {
                score = score.min(10 * name.len().abs_diff(key.len()) + 2);
            }
            for &i in ids {
                let e = best.entry(i).or_insert(usize::MAX);
                *e = (*e).min(score);
            }
        }
        let limit = key.chars().count().max(3) * 10 / 2 + 10;
        let mut ranked: Vec<(usize, usize)> =
            best.into_iter().filter(|(_, s)| *s <= limit).collect();
        ranked.sort_by(|a, b| {
            a.1.cmp(&b.1)
                .then_with(|| g.subjects[a.0].code.cmp(&g.subjects[b.0].code))
        });
        ranked
            .into_iter()
            .take(n)
            .map(|(i, _)| (g.subjects[i].code.clone(), g.subjects[i].name.clone()))
            .collect()
    }

    #[test]
    fn suggestions_skip_far_names_without_changing_the_answer() {
        let g = sample();
        for key in [
            "korea",
            "turkee",
            "saint kits",
            "ivory",
            "x",
            "republic of koreaa",
            "dprk",
        ] {
            assert_eq!(g.closest(key, 5), closest_plain(&g, key, 5), "{key}");
        }
    }

    /// The gazetteer of the shipped subjects table (code, name and aliases are enough here).
    fn shipped() -> Gazetteer {
        let text = include_str!("../../../data/reference/subjects.csv");
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        let subjects = rdr
            .records()
            .map(|r| {
                let r = r.expect("subjects.csv reads");
                let mut s = subject(&r[0], &r[1], &r[3], &[]);
                s.aliases = r[6].split('|').map(String::from).collect();
                s
            })
            .collect();
        Gazetteer::new(subjects)
    }

    proptest! {
        #[test]
        fn shipped_suggestions_are_those_of_the_plain_search(
            key in "[a-z ]{1,30}|[a-z]{0,3}(korea|congo|guinea|saint|islands|republic|sudan)[a-z ]{0,8}",
        ) {
            let g = shipped();
            let key = normalize_name(&key);
            prop_assert_eq!(g.closest(&key, 5), closest_plain(&g, &key, 5));
        }

        #[test]
        fn bounded_distance_agrees_with_the_plain_one(a in "[a-e ]{0,12}", b in "[a-e ]{0,12}", max in 0usize..14) {
            let chars: Vec<char> = a.chars().collect();
            let d = levenshtein(&a, &b);
            let within = levenshtein_within(&chars, &b, max, &mut Vec::new(), &mut Vec::new());
            prop_assert_eq!(within, (d <= max).then_some(d));
        }

        #[test]
        fn suggestions_are_those_of_the_plain_search(key in "[a-z ]{0,24}|[a-zô’ ]{0,8}(korea|kitts|coast|turk)[a-z ]{0,6}") {
            let g = sample();
            let key = normalize_name(&key);
            prop_assert_eq!(g.closest(&key, 5), closest_plain(&g, &key, 5));
        }

        #[test]
        fn normalization_is_idempotent(s in "\\PC{0,30}") {
            let once = normalize_name(&s);
            prop_assert_eq!(normalize_name(&once), once.clone());
        }

        #[test]
        fn case_and_spacing_do_not_matter(upper in proptest::bool::ANY, pad in 0usize..3) {
            let g = sample();
            let base = "Saint Kitts and Nevis";
            let s = if upper { base.to_uppercase() } else { base.to_lowercase() };
            let s = format!("{}{}{}", " ".repeat(pad), s.replace(' ', &" ".repeat(pad + 1)), " ".repeat(pad));
            prop_assert_eq!(g.resolve(&s).map(|s| s.code.clone()), Ok("KNA".to_string()));
        }

        #[test]
        fn resolve_never_panics(s in "\\PC{0,40}") {
            let _ = sample().resolve(&s);
        }
    }
}
