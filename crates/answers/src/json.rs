//! JSON shapes shared by the API and the CLI's `--json` output.

use minewatch_domain::{Source, Subject};
use minewatch_store::{FactRecord, Store, StoreError};
use serde_json::{json, Value};
use std::collections::HashMap;

pub fn subject(s: &Subject) -> Value {
    json!({
        "code": s.code,
        "alpha2": s.alpha2,
        "numeric": s.numeric,
        "name": s.name,
        "kind": s.kind.as_str(),
        "region": s.region,
        "aliases": s.aliases,
        "successors": s.successors,
        "parent": s.parent,
    })
}

pub fn source(s: &Source) -> Value {
    json!({
        "key": s.key,
        "title": s.title,
        "publisher": s.publisher,
        "published": s.published.map(|d| d.to_string()),
        "url": s.url,
        "note": s.note,
    })
}

/// Facts with each citation expanded to its source.
pub fn facts_with_sources(store: &Store, facts: &[FactRecord]) -> Result<Vec<Value>, StoreError> {
    let mut cache: HashMap<String, Value> = HashMap::new();
    let mut out = Vec::with_capacity(facts.len());
    for rec in facts {
        let f = &rec.fact;
        let mut cites = Vec::new();
        for c in &f.citations {
            if !cache.contains_key(&c.source) {
                let v = match store.source(&c.source)? {
                    Some(s) => source(&s.source),
                    None => json!({"key": c.source}),
                };
                cache.insert(c.source.clone(), v);
            }
            let mut v = cache.get(&c.source).cloned().unwrap_or(Value::Null);
            v["locator"] = json!(c.locator);
            cites.push(v);
        }
        out.push(json!({
            "id": f.id,
            "key": rec.key,
            "subject": f.subject,
            "kind": f.kind().as_str(),
            "valid_from": f.valid_from.map(|d| d.to_string()),
            "valid_to": f.valid_to.map(|d| d.to_string()),
            "payload": f.payload.to_value(),
            "note": f.note,
            "sources": cites,
            "recorded_at": f.recorded_at,
            "recorded_by": f.recorded_by,
            "supersedes": f.supersedes,
        }));
    }
    Ok(out)
}
