//! The typed answers of the desk's API (`/api/v1/proposals`...): one type per answer.

use minewatch_store::{Proposal, ProposalSummary};
use serde::Serialize;

/// `GET /api/v1/proposals`: a page of proposals, newest first, without their documents.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposalList {
    pub count: usize,
    pub proposals: Vec<ProposalBrief>,
    /// The next page, when this one is full.
    pub next: Option<String>,
}

/// A proposal without its document (its size in bytes instead), with the address of the
/// document (`GET /api/v1/proposals` lists them; `POST /api/v1/proposals/{id}/{approve,reject}`
/// answers with one).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposalBrief {
    #[serde(flatten)]
    pub summary: ProposalSummary,
    /// `/api/v1/proposals/{id}`.
    pub document: String,
}

impl ProposalBrief {
    pub fn new(summary: ProposalSummary) -> ProposalBrief {
        ProposalBrief {
            document: format!("/api/v1/proposals/{}", summary.id),
            summary,
        }
    }

    /// A proposal as lists show it: its document replaced by its size.
    pub fn of(p: &Proposal) -> ProposalBrief {
        ProposalBrief::new(ProposalSummary {
            id: p.id,
            action: p.action,
            subject: p.subject.clone(),
            target_fact: p.target_fact,
            importer: p.importer.clone(),
            document_bytes: i64::try_from(p.body.len()).unwrap_or(i64::MAX),
            summary: p.summary.clone(),
            proposed_by: p.proposed_by.clone(),
            proposed_at: p.proposed_at.clone(),
            status: p.status.clone(),
            decided_by: p.decided_by.clone(),
            decided_at: p.decided_at.clone(),
            decision_note: p.decision_note.clone(),
            batch: p.batch,
        })
    }
}

/// One proposal with its whole document (`GET /api/v1/proposals/{id}`; `POST /api/v1/proposals`
/// answers 201 with the proposal recorded).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposalAnswer {
    pub proposal: Proposal,
}

/// A proposal just approved or rejected, without its document
/// (`POST /api/v1/proposals/{id}/approve`, `POST /api/v1/proposals/{id}/reject`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposalDecided {
    pub proposal: ProposalBrief,
}
