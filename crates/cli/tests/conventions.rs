//! The web's conventions, checked on the real server: compression, ETag and 304, CORS on public
//! reads only, robots.txt, a sitemap and Atom feeds that parse as XML with absolute links.

use crate::support::{minewatch, Server, TempDir};

const BASE: &str = "https://monitor.example.org";

fn server() -> (TempDir, Server) {
    let dir = TempDir::new();
    let db = dir.path("conventions.sqlite");
    let s = Server::start_on(&db, &["--public-url", BASE], &[]);
    (dir, s)
}

/// GET with extra headers: (status, headers with lower-case names, body bytes).
fn get(s: &Server, path: &str, headers: &[(&str, &str)]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut req = ureq::get(&format!("{}{path}", s.base));
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let r = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("GET {path}: {e}"),
    };
    let status = r.status();
    let hs = r
        .headers_names()
        .iter()
        .flat_map(|n| {
            r.all(n)
                .into_iter()
                .map(|v| (n.to_lowercase(), v.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut r.into_reader(), &mut body).unwrap();
    (status, hs, body)
}

fn header<'a>(hs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    hs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[test]
fn pages_are_compressed_for_clients_that_accept_it() {
    let (_d, s) = server();
    let (status, plain_h, plain) = get(&s, "/", &[]);
    assert_eq!(status, 200);
    assert_eq!(header(&plain_h, "content-encoding"), None);
    let (status, hs, gz) = get(&s, "/", &[("Accept-Encoding", "gzip")]);
    assert_eq!(status, 200);
    assert_eq!(header(&hs, "content-encoding"), Some("gzip"));
    assert_eq!(&gz[..2], &[0x1f, 0x8b], "a gzip stream");
    assert!(
        gz.len() * 2 < plain.len(),
        "{} bytes gzipped of {}",
        gz.len(),
        plain.len()
    );
    let (_, hs, br) = get(&s, "/states/USA.json", &[("Accept-Encoding", "br")]);
    assert_eq!(header(&hs, "content-encoding"), Some("br"));
    assert!(!br.is_empty());
}

#[test]
fn a_repeated_request_gets_304_until_the_record_changes() {
    let (_d, s) = server();
    for path in [
        "/",
        "/states/USA",
        "/states/USA.json",
        "/feed.atom",
        "/api/v1/states/USA",
    ] {
        let (status, hs, _) = get(&s, path, &[]);
        assert_eq!(status, 200, "{path}");
        let tag = header(&hs, "etag")
            .unwrap_or_else(|| panic!("{path}: no ETag"))
            .to_string();
        assert!(tag.starts_with("W/\""), "{tag}");
        let (status, hs, body) = get(&s, path, &[("If-None-Match", &tag)]);
        assert_eq!(status, 304, "{path}");
        assert!(body.is_empty());
        assert_eq!(header(&hs, "etag"), Some(tag.as_str()));
        // A different representation of the same address has its own tag.
        let (status, _, _) = get(
            &s,
            path,
            &[("If-None-Match", &tag), ("Accept", "application/json")],
        );
        if !path.ends_with(".json") && !path.ends_with(".atom") && !path.starts_with("/api/") {
            assert_eq!(status, 200, "{path} as JSON is not the HTML's tag");
        }
    }
    // A page names its canonical address under the public URL.
    let (_, hs, _) = get(&s, "/states/USA?as_of=2010-10-18", &[]);
    assert_eq!(
        header(&hs, "link"),
        Some(r#"<https://monitor.example.org/states/USA?as_of=2010-10-18>; rel="canonical""#)
    );
    // Private pages carry no tag.
    let (_, hs, _) = get(&s, "/login", &[]);
    assert_eq!(header(&hs, "etag"), None);
    // A new fact changes every tag.
    let (_, hs, _) = get(&s, "/states/USA", &[]);
    let before = header(&hs, "etag").unwrap().to_string();
    let dir = TempDir::new();
    let facts = dir.file(
        "facts.csv",
        b"key,subject,kind,valid_from,valid_to,payload,sources,note\n\
          test:usa:signature,USA,treaty_action,2025-06-01,,\"{\"\"action\"\":\"\"signature\"\"}\",seed-000,test only\n",
    );
    let (ok, out, err) = minewatch(&s.db(), &["import", "facts-csv", facts.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    let (status, hs, _) = get(&s, "/states/USA", &[("If-None-Match", &before)]);
    assert_eq!(status, 200);
    assert_ne!(header(&hs, "etag"), Some(before.as_str()));
}

#[test]
fn public_reads_are_open_to_other_sites_and_private_pages_are_not() {
    let (_d, s) = server();
    let origin = [("Origin", "https://notebook.example.net")];
    for path in [
        "/api/v1/states/USA",
        "/states.csv",
        "/states/USA.json",
        "/feed.atom",
    ] {
        let (status, hs, _) = get(&s, path, &origin);
        assert_eq!(status, 200, "{path}");
        assert_eq!(
            header(&hs, "access-control-allow-origin"),
            Some("*"),
            "{path}"
        );
        assert_eq!(header(&hs, "access-control-allow-credentials"), None);
    }
    for path in [
        "/login",
        "/desk",
        "/subscribe",
        "/feedback",
        "/api/v1/proposals",
    ] {
        let (_, hs, _) = get(&s, path, &origin);
        assert_eq!(
            header(&hs, "access-control-allow-origin"),
            None,
            "{path} is not for other sites"
        );
    }
}

#[test]
fn robots_sitemap_and_icon() {
    let (_d, s) = server();
    let (status, _, robots) = get(&s, "/robots.txt", &[]);
    assert_eq!(status, 200);
    let robots = String::from_utf8(robots).unwrap();
    assert!(robots.contains("Disallow: /desk\n"), "{robots}");
    assert!(
        robots.contains(&format!("Sitemap: {BASE}/sitemap.xml")),
        "{robots}"
    );
    let (status, hs, xml) = get(&s, "/sitemap.xml", &[]);
    assert_eq!(status, 200);
    assert!(header(&hs, "content-type")
        .unwrap()
        .starts_with("application/xml"));
    let xml = String::from_utf8(xml).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("the sitemap is XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "urlset");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.sitemaps.org/schemas/sitemap/0.9")
    );
    let locs: Vec<&str> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "loc")
        .filter_map(|n| n.text())
        .collect();
    assert!(locs.len() > 300, "{} addresses", locs.len());
    assert!(locs.iter().all(|l| l.starts_with(BASE)));
    for want in [
        "/states/USA",
        "/meetings/12MSP",
        "/unga/64/56",
        "/sources/lm-2010-usa",
    ] {
        assert!(locs.contains(&format!("{BASE}{want}").as_str()), "{want}");
    }
    let unique: std::collections::HashSet<_> = locs.iter().collect();
    assert_eq!(unique.len(), locs.len(), "each address once");
    // Every listed page is there (a sample, through the server).
    for l in locs.iter().step_by(40) {
        let path = l.strip_prefix(BASE).unwrap();
        assert_eq!(get(&s, path, &[]).0, 200, "{path}");
    }
    let (status, hs, icon) = get(&s, "/favicon.svg", &[]);
    assert_eq!(status, 200);
    assert_eq!(header(&hs, "content-type"), Some("image/svg+xml"));
    roxmltree::Document::parse(std::str::from_utf8(&icon).unwrap()).expect("the icon is SVG");
    let (_, _, home) = get(&s, "/", &[]);
    assert!(String::from_utf8(home)
        .unwrap()
        .contains(r#"<link rel="icon" href="/favicon.svg" type="image/svg+xml">"#));
}

/// The first child of `n` named `name` in the Atom namespace.
fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| {
        c.tag_name().name() == name
            && c.tag_name().namespace() == Some("http://www.w3.org/2005/Atom")
    })
}

#[test]
fn feeds_are_atom_with_absolute_links_and_stable_ids() {
    let (_d, s) = server();
    let atom = "http://www.w3.org/2005/Atom";
    let mut ids_of_usa_facts = Vec::new();
    for (path, self_href) in [
        ("/feed.atom", format!("{BASE}/feed.atom")),
        (
            "/states/USA/feed.atom",
            format!("{BASE}/states/USA/feed.atom"),
        ),
    ] {
        let (status, hs, xml) = get(&s, path, &[]);
        assert_eq!(status, 200);
        assert!(header(&hs, "content-type")
            .unwrap()
            .starts_with("application/atom+xml"));
        let xml = String::from_utf8(xml).unwrap();
        let doc = roxmltree::Document::parse(&xml).expect("the feed is XML");
        let feed = doc.root_element();
        assert_eq!(
            (feed.tag_name().namespace(), feed.tag_name().name()),
            (Some(atom), "feed")
        );
        let links = |n: roxmltree::Node<'_, '_>, rel: &str| -> Vec<String> {
            n.children()
                .filter(|c| c.tag_name().name() == "link" && c.attribute("rel") == Some(rel))
                .filter_map(|c| c.attribute("href").map(str::to_string))
                .collect()
        };
        assert_eq!(
            child(feed, "id").and_then(|n| n.text()),
            Some(self_href.as_str())
        );
        assert!(child(feed, "title").and_then(|n| n.text()).is_some());
        assert!(child(feed, "author").is_some(), "a feed needs an author");
        assert_eq!(links(feed, "self"), vec![self_href.clone()]);
        let entries: Vec<_> = feed
            .children()
            .filter(|c| c.tag_name().name() == "entry")
            .collect();
        assert!(!entries.is_empty(), "{path}");
        let mut ids = std::collections::HashSet::new();
        for e in &entries {
            let id = child(*e, "id").and_then(|n| n.text()).unwrap().to_string();
            assert!(id.starts_with("tag:monitor.example.org,"), "{id}");
            assert!(ids.insert(id.clone()), "duplicate id {id}");
            let updated = child(*e, "updated").and_then(|n| n.text()).unwrap();
            assert!(updated.len() == 20 && updated.ends_with('Z'), "{updated}");
            let alt = links(*e, "alternate");
            assert_eq!(alt.len(), 1);
            assert!(alt[0].starts_with(&format!("{BASE}/facts/")), "{}", alt[0]);
            // The fact's number is the end of both the id and the link.
            let n = alt[0].rsplit('/').next().unwrap();
            assert!(id.ends_with(&format!(":fact:{n}")), "{id} / {}", alt[0]);
            assert_eq!(get(&s, &format!("/facts/{n}"), &[]).0, 200);
            for r in links(*e, "related") {
                assert!(r.starts_with(BASE), "{r}");
            }
            if path.starts_with("/states/") {
                ids_of_usa_facts.push(id);
            }
        }
    }
    // Ids are stable: another server on the same record (a restart, an export) gives the same.
    let again = Server::start_on(&s.db(), &["--public-url", BASE], &[]);
    let (_, _, xml) = get(&again, "/states/USA/feed.atom", &[]);
    let xml = String::from_utf8(xml).unwrap();
    for id in &ids_of_usa_facts {
        assert!(xml.contains(&format!("<id>{id}</id>")), "{id}");
    }
}

#[test]
fn every_request_is_logged_without_its_query() {
    let (_d, s) = server();
    let (status, _, _) = get(&s, "/unsubscribe?token=0123456789abcdef-secret", &[]);
    assert_eq!(status, 200);
    assert!(
        s.wait_for_log("path=/unsubscribe}", 10),
        "no access-log line for the request"
    );
    assert!(s.wait_for_log("status=200", 1));
    assert!(
        !s.wait_for_log("0123456789abcdef-secret", 1),
        "the query string (a token) reached the log"
    );
}

#[test]
fn pages_and_twins_say_how_to_cite_them_and_their_terms() {
    let (_d, s) = server();
    let (status, _, twin) = get(&s, "/states/UKR.json?as_of=2010-01-01", &[]);
    assert_eq!(status, 200);
    let twin: serde_json::Value = serde_json::from_slice(&twin).unwrap();
    let record = crate::support::open_store(&s.db()).last_fact_id().unwrap();
    let cite = &twin["cite"];
    // The permalink is the page's (not the twin's), under the public URL, pinned to the
    // record version, keeping the date.
    let url = format!("{BASE}/states/UKR?as_of=2010-01-01&record={record}");
    assert_eq!(cite["url"], url.as_str(), "{cite}");
    assert_eq!(cite["record"], record);
    assert_eq!(cite["publisher"], "minewatch");
    assert!(twin["licence"]
        .as_str()
        .unwrap()
        .contains("No single licence"));
    // CSL-JSON as citeproc reads it, and BibTeX naming the same address.
    let csl = &cite["csl"][0];
    assert_eq!(csl["type"], "webpage");
    assert_eq!(csl["URL"], url.as_str());
    assert_eq!(
        csl["accessed"]["date-parts"][0].as_array().unwrap().len(),
        3
    );
    let bib = cite["bibtex"].as_str().unwrap();
    assert!(bib.starts_with("@misc{"), "{bib}");
    assert!(bib.contains(&format!("\\url{{{url}}}")), "{bib}");

    // The HTML page has the same citation, and the permalink answers with the same title.
    let (status, _, html) = get(&s, "/states/UKR?as_of=2010-01-01", &[]);
    assert_eq!(status, 200);
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains(r#"<section id="cite""#));
    assert!(
        html.contains(&url.replace('&', "&amp;")),
        "no permalink in the page"
    );
    let (status, _, pinned) = get(
        &s,
        &format!("/states/UKR?as_of=2010-01-01&record={record}"),
        &[],
    );
    assert_eq!(status, 200);
    let title = |h: &str| {
        h.split("<title>")
            .nth(1)
            .and_then(|t| t.split("</title>").next())
            .map(str::to_string)
    };
    assert_eq!(title(&String::from_utf8(pinned).unwrap()), title(&html));
    // A page that pins an older version is cited at that version.
    let (_, _, old) = get(&s, "/deadlines.json?record=100", &[]);
    let old: serde_json::Value = serde_json::from_slice(&old).unwrap();
    assert_eq!(old["cite"]["record"], 100);
    assert_eq!(
        old["cite"]["url"],
        format!("{BASE}/deadlines?record=100").as_str()
    );
    // Private pages cite nothing.
    let (_, _, login) = get(&s, "/login", &[]);
    assert!(!String::from_utf8(login).unwrap().contains("Cite this page"));
}
