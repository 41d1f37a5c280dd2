//! The customer's pages as an admin previews them: rendered by the same code, with a banner,
//! and nothing stored.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use serde::Deserialize;

use super::{follow_up_page, score_page, thanks_page};
use crate::AppState;
use crate::page::{Admin, Page, load_survey, render};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/admin/surveys/{id}/preview", get(preview))
}

#[derive(Deserialize)]
struct PreviewQuery {
    lang: Option<String>,
    score: Option<i64>,
    done: Option<u8>,
}

/// The customer's pages, rendered by the same code, with a banner; nothing is stored.
async fn preview(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<PreviewQuery>,
) -> Page {
    let survey = load_survey(&state, &admin.1, &id).await?;
    let def = &survey.definition;
    let lang = def.choose_language(q.lang.as_deref());
    let t = def.texts(&lang);
    let action = format!("/admin/surveys/{id}/preview");
    // The banner speaks to the admin, in the admin's language.
    let banner = admin.1.t.fill2(
        "preview.banner",
        "language",
        &t.locale.name,
        "languages",
        def.languages().iter().map(|l| format!("?lang={l}")).collect::<Vec<_>>().join(" "),
    );
    let hidden = vec![("lang".to_owned(), lang.clone())];
    Ok(match q.score.filter(|s| def.kind.check_score("score", *s).is_ok()) {
        None => {
            let mut page = score_page(def, &t, action, None);
            page.method = "get";
            page.hidden = hidden;
            page.page.banner = Some((admin.1.t.tag, banner.clone()));
            render(&page)
        }
        Some(score) if q.done.is_some() => {
            let mut page = thanks_page(def, &t, def.kind.segment(score));
            page.page.banner = Some((admin.1.t.tag, banner.clone()));
            render(&page)
        }
        Some(score) => {
            let answer = hark_store::Response {
                id: String::new(),
                survey_id: id.clone(),
                invitation_id: None,
                contact_id: None,
                score,
                segment: def.kind.segment(score),
                comment: None,
                answers: Default::default(),
                agent_score: None,
                language: Some(lang.clone()),
                channel: "preview".into(),
                agent_id: None,
                team_id: None,
                context: Default::default(),
                idempotency_key: String::new(),
                created_at: 0,
                received_at: 0,
                themes: Vec::new(),
                sentiment: None,
                sentiment_score: None,
            };
            // A preview is anonymous: the contact question shows where the customer would see it.
            let mut page = follow_up_page(def, &t, action, &answer, false);
            page.method = "get";
            page.live_save = false;
            page.hidden = hidden;
            page.page.banner = Some((admin.1.t.tag, banner.clone()));
            render(&page)
        }
    })
}
