//! HXL (the Humanitarian Exchange Language, <https://hxlstandard.org>): the hashtag row that
//! goes under a CSV's header so that HXL tools (libhxl, HDX) know what each column holds. Core
//! hashtags where HXL has one (`#country`, `#date`, `#region`, `#org`, `#status`,
//! `#indicator`, `#meta`), with `+x_` attributes where it has none.

/// The HXL hashtag of a column, by its name in minewatch's CSV files.
pub fn tag(column: &str) -> String {
    let known = match column {
        "code" | "subject" | "state" | "country" => "#country+code+v_iso3",
        "name" | "subject_name" => "#country+name",
        "kind" | "subject_kind" => "#meta+x_kind",
        "region" => "#region+name",
        "status" => "#status+x_treaty",
        "signed" => "#date+x_signed",
        "deposited" => "#date+x_deposited",
        "entry_into_force" => "#date+x_entry_into_force",
        "date" => "#date",
        "valid_from" => "#date+start",
        "valid_to" => "#date+end",
        "start_date" => "#date+start",
        "end_date" => "#date+end",
        "due" => "#date+x_due",
        "as_of" => "#date+x_as_of",
        "published" => "#date+x_published",
        "recorded_at" => "#date+x_recorded",
        "key" | "source_key" => "#meta+id",
        "id" | "fact" | "fact_id" => "#meta+id+x_fact",
        "title" => "#meta+title",
        "publisher" => "#org+name+x_publisher",
        "url" => "#meta+url",
        "note" => "#description+x_note",
        "text" => "#description",
        "sources" | "source" => "#meta+source",
        "locator" => "#meta+source+x_locator",
        "resolution" => "#indicator+code+x_resolution",
        "yes" => "#indicator+num+x_yes",
        "no" => "#indicator+num+x_no",
        "abstain" => "#indicator+num+x_abstain",
        "vote" => "#indicator+x_vote",
        "killed" => "#affected+killed",
        "injured" => "#affected+injured",
        "article" => "#meta+x_article",
        "obligation" => "#meta+x_obligation",
        "overdue" => "#status+x_overdue",
        "passed" => "#status+x_passed",
        "payload" => "#meta+x_payload",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    // Any other column: #meta with the column's name as an attribute (lower-case letters,
    // digits and underscores, as HXL attributes are).
    let attr: String = column
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("#meta+x_{attr}")
}

/// The hashtag row for a header.
pub fn row<'a>(header: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    header.into_iter().map(tag).collect()
}

/// A CSV text with the hashtag row inserted under its header (RFC 4180 quoting kept as it is).
pub fn insert_row(csv_text: &str) -> Result<String, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv_text.as_bytes());
    // The header as the csv crate reads it (quotes undone).
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("reading the CSV header: {e}"))?
        .iter()
        .map(str::to_string)
        .collect();
    // The header ends at the first line break outside quotes.
    let mut quoted = false;
    let at = csv_text
        .bytes()
        .position(|b| {
            if b == b'"' {
                quoted = !quoted;
            }
            b == b'\n' && !quoted
        })
        .map_or(csv_text.len(), |i| i + 1);
    let (head, rest) = csv_text.split_at(at);
    let mut line = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    line.write_record(row(header.iter().map(String::as_str)))
        .map_err(|e| e.to_string())?;
    let line = line.into_inner().map_err(|e| e.to_string())?;
    let mut out = String::with_capacity(csv_text.len() + line.len());
    out.push_str(head);
    if !head.is_empty() && !head.ends_with('\n') {
        out.push_str("\r\n");
    }
    out.push_str(&String::from_utf8_lossy(&line));
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_row_goes_under_the_header() {
        let t =
            insert_row("code,name\r\nUSA,\"United States, of America\"\r\n").unwrap_or_default();
        assert_eq!(
            t,
            "code,name\r\n#country+code+v_iso3,#country+name\r\nUSA,\"United States, of America\"\r\n"
        );
        assert!(insert_row("").is_ok());
    }

    #[test]
    fn every_column_gets_a_valid_hashtag() {
        let r = row(["code", "name", "valid_from", "sources", "Strange column!"]);
        assert_eq!(r[0], "#country+code+v_iso3");
        assert_eq!(r[2], "#date+start");
        assert_eq!(r[3], "#meta+source");
        assert_eq!(r[4], "#meta+x_strange_column_");
        for t in &r {
            // #tag(+attribute)*: lower-case letters, digits, underscores.
            assert!(t.starts_with('#'), "{t}");
            assert!(t[1..].split('+').all(|p| !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')));
        }
    }
}
