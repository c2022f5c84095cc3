//! The API's OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations
//! and the answers' types (utoipa and utoipa-axum): what is served at `/api/v1/openapi.json` is
//! what the code answers, so it cannot drift from it.

use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, OpenApi as Doc, RefOr};
use utoipa::{Modify, OpenApi, PartialSchema};

/// The document's fixed parts; the paths come from the routers (`super::api_routers`).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "minewatch API",
        description = "Sourced, dated facts about the Mine Ban Treaty (the 1997 Ottawa Convention) and \
what the treaty engine derives from them: status, States Parties, deadlines, classification, \
national policies, UN General Assembly votes. Every fact names its sources.\n\n\
Reads are public and need no key: any site may fetch them (`Access-Control-Allow-Origin: *` on \
GET). Answers carry an `ETag` that changes with the record; send it back in `If-None-Match` to \
get `304 Not Modified`. Answers are compressed (gzip, brotli) when the client accepts it. Errors \
are JSON: `{\"error\": {\"status\", \"message\", ...}}`. The proposals API needs an editor's \
token (`Authorization: Bearer ...`, made with `minewatch user token`).\n\n\
The data are published under the licence given at /downloads and in each answer's page; the \
UN General Assembly voting data are the UN Dag Hammarskjöld Library's and Erik Voeten's, with \
their terms.",
        license(name = "AGPL-3.0-or-later (the software)", identifier = "AGPL-3.0-or-later"),
    ),
    tags(
        (name = "states", description = "States, territories, other areas and armed groups"),
        (name = "facts", description = "The record: sourced, dated facts and their history"),
        (name = "sources", description = "The documents facts cite"),
        (name = "treaty", description = "What the treaty engine derives: status, States Parties, deadlines"),
        (name = "policies", description = "National policies and the classification of devices"),
        (name = "votes", description = "UN General Assembly roll calls"),
        (name = "desk", description = "Proposals and their review (an editor's token)"),
        (name = "meta", description = "The document itself and the server's timings"),
    ),
    components(schemas(
        minewatch_web::ErrorBody,
        minewatch_domain::SubjectKind,
        minewatch_domain::FactKind,
        minewatch_treaty::counts::Basis
    )),
    modifiers(&Conventions)
)]
pub struct ApiDoc;

/// What every operation may answer besides its own statuses, and the token scheme.
#[derive(Debug)]
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut Doc) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token (`minewatch user token USER`)."))
                    .build(),
            ),
        );
    }
}

/// An error answer's description with the JSON error body.
fn error(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    "ErrorBody",
                ))))
                .build(),
        )
        .build()
}

/// Adds the answers every operation may give: 414 (an over-long address), 503 (the database
/// busy with another process's write: come back after `Retry-After`), 500; and for reads 304
/// (the `If-None-Match` ETag still current). Runs over the whole document once the routers
/// have added their paths.
pub fn add_common_responses(doc: &mut Doc) {
    let busy = {
        let mut r =
            error("The database is busy with another write; retry after Retry-After seconds");
        r.headers.insert(
            "Retry-After".into(),
            HeaderBuilder::new()
                .schema(<i64 as PartialSchema>::schema())
                .description(Some("Seconds to wait"))
                .build(),
        );
        r
    };
    let each = |op: &mut Operation, get: bool| {
        let add = |op: &mut Operation, status: &str, r: Response| {
            op.responses
                .responses
                .entry(status.into())
                .or_insert(RefOr::T(r));
        };
        add(
            op,
            "414",
            error("The address (path or query) is over the length limit"),
        );
        add(op, "500", error("An internal error"));
        add(op, "503", busy.clone());
        if get {
            add(
                op,
                "304",
                ResponseBuilder::new()
                    .description("Not modified: the ETag sent in If-None-Match is current")
                    .build(),
            );
        }
    };
    for item in doc.paths.paths.values_mut() {
        if let Some(op) = item.get.as_mut() {
            each(op, true);
        }
        if let Some(op) = item.post.as_mut() {
            each(op, false);
        }
    }
}
