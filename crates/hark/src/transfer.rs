//! CSV import and export of responses, and import of interactions. Imports accept the column names other survey tools
//! export (email, score, comment, date, agent, team …); each row goes through the same intake
//! as the API, a bad row is reported with its line number, and good rows go in. A row's
//! idempotency key is derived from its content, so importing a file twice adds nothing.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use anyhow::Context;
use hark_core::auth::hash_secret;
use hark_core::contact::ContactInput;
use hark_core::spreadsheet;
use hark_core::survey::SurveyDefinition;
use hark_store::{ResponseCursor, ResponseFilter, Store, SurveyStatus};
use hark_web::ingest::{ResponseInput, submit};
use serde_json::{Map, Value};
use tokio::task::JoinSet;

/// Recognised headers (lower-cased, spaces and dashes as `_`) and the field they fill.
const COLUMNS: &[(&str, &[&str])] = &[
    ("score", &["score", "nps", "nps_score", "rating", "likelihood_to_recommend", "ltr"]),
    ("comment", &["comment", "comments", "feedback", "reason", "why", "verbatim", "open_text"]),
    ("email", &["email", "e_mail", "email_address", "customer_email", "person_email"]),
    ("external_id", &["external_id", "customer_id", "contact_id", "user_id", "person_id"]),
    ("name", &["name", "customer_name", "contact_name", "person_name"]),
    ("date", &["date", "created_at", "submitted_at", "timestamp", "response_date", "survey_date", "time"]),
    ("agent", &["agent", "agent_name"]),
    ("team", &["team", "team_name", "queue", "department"]),
    ("channel", &["channel", "source"]),
    ("language", &["language", "lang", "locale"]),
    ("agent_score", &["agent_score"]),
    // Columns Hark itself exports that an import must not mistake for contact attributes.
    ("ignore", &["id", "survey_id", "survey", "segment", "received_at"]),
];

pub struct ImportReport {
    pub imported: usize,
    pub already_present: usize,
    pub rejected: usize,
    pub errors: Vec<(u64, String)>,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (line, message) in &self.errors {
            writeln!(f, "line {line}: {message}")?;
        }
        write!(f, "imported {}, already present {}, rejected {}", self.imported, self.already_present, self.rejected)
    }
}

fn normalise(header: &str) -> String {
    header.trim().trim_start_matches('\u{feff}').to_lowercase().replace([' ', '-'], "_")
}

/// Finds the survey by id or name, or creates an NPS survey with that name.
async fn find_or_create_survey(store: &Store, survey: &str) -> anyhow::Result<String> {
    if let Some(s) = store.get_survey(survey).await? {
        return Ok(s.id);
    }
    if let Some(s) = store.list_surveys().await?.into_iter().find(|s| s.definition.name == survey) {
        return Ok(s.id);
    }
    let def: SurveyDefinition =
        serde_json::from_value(serde_json::json!({"name": survey, "kind": "nps", "brand": survey}))?;
    let created = store.create_survey(&def, SurveyStatus::Active).await?;
    eprintln!("created NPS survey \"{survey}\" ({})", created.id);
    Ok(created.id)
}

/// Accepts RFC 3339, `YYYY-MM-DD HH:MM[:SS]` (UTC) and `YYYY-MM-DD`.
fn parse_date(value: &str) -> Result<String, String> {
    if let Ok(t) = value.parse::<jiff::Timestamp>() {
        return Ok(t.to_string());
    }
    let utc = |dt: jiff::civil::DateTime| {
        dt.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp().to_string()).map_err(|e| e.to_string())
    };
    if let Ok(dt) = value.parse::<jiff::civil::DateTime>() {
        return utc(dt);
    }
    if let Ok(d) = value.parse::<jiff::civil::Date>() {
        return utc(d.to_datetime(jiff::civil::Time::midnight()));
    }
    Err(format!("date: `{value}` is not a date such as 2026-01-31, 2026-01-31 09:30 or 2026-01-31T09:30:00Z"))
}

/// The field a (normalised) header fills, if it is a recognised one.
fn field_of(columns: &[(&'static str, &[&str])], header: &str) -> Option<&'static str> {
    columns.iter().find(|(_, names)| names.contains(&header)).map(|(field, _)| *field)
}

/// An import file: a header row, then data rows whose recognised columns map to fields.
struct ImportFile {
    reader: csv::Reader<std::fs::File>,
    headers: Vec<String>,
    columns: &'static [(&'static str, &'static [&'static str])],
}

/// One data row: its line, a key from its content (importing again adds nothing), the
/// recognised fields and every other non-empty column by header; values trimmed.
struct ImportRow {
    line: u64,
    key: String,
    fields: HashMap<&'static str, String>,
    others: Vec<(String, String)>,
}

impl ImportRow {
    fn get(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }
}

impl ImportFile {
    /// Opens `file`; refuses it when no column maps to `required`.
    fn open(
        file: &Path,
        columns: &'static [(&'static str, &'static [&'static str])],
        required: &str,
    ) -> anyhow::Result<Self> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(file)
            .with_context(|| format!("reading {}", file.display()))?;
        let headers: Vec<String> = reader.headers()?.iter().map(normalise).collect();
        let this = ImportFile { reader, headers, columns };
        if !this.headers.iter().any(|h| field_of(columns, h) == Some(required)) {
            let names = columns.iter().find(|(f, _)| *f == required).map_or(&[][..], |(_, n)| *n);
            anyhow::bail!("{}: no {required} column (one of: {})", file.display(), names.join(", "));
        }
        Ok(this)
    }

    /// The rows, or the line and reason of an unreadable one.
    fn rows(&mut self) -> impl Iterator<Item = Result<ImportRow, (u64, String)>> + '_ {
        let (reader, headers, columns) = (&mut self.reader, &self.headers, self.columns);
        reader.records().map(move |record| {
            let record = record.map_err(|e| (e.position().map_or(0, |p| p.line()), format!("unreadable row: {e}")))?;
            let mut row = ImportRow {
                line: record.position().map_or(0, |p| p.line()),
                key: row_key(&record),
                fields: HashMap::new(),
                others: Vec::new(),
            };
            for (header, value) in headers.iter().zip(record.iter()) {
                // An export's defused formula cells come back as they were typed.
                let value = spreadsheet::restore(value.trim());
                match field_of(columns, header) {
                    _ if value.is_empty() => {}
                    Some("ignore") => {}
                    Some(field) => {
                        row.fields.insert(field, value.to_owned());
                    }
                    None => row.others.push((header.clone(), value.to_owned())),
                }
            }
            Ok(row)
        })
    }
}

pub async fn import_responses(store: &Store, file: &Path, survey: &str) -> anyhow::Result<ImportReport> {
    let mut import = ImportFile::open(file, COLUMNS, "score")?;
    let survey_id = find_or_create_survey(store, survey).await?;
    let mut names: HashMap<(String, Option<String>), String> = HashMap::new();
    let mut teams: HashMap<String, String> = HashMap::new();
    let mut report = ImportReport { imported: 0, already_present: 0, rejected: 0, errors: Vec::new() };
    let mut jobs = JoinSet::new();
    for row in import.rows() {
        let row = match row {
            Ok(row) => row,
            Err(unreadable) => {
                report.errors.push(unreadable);
                continue;
            }
        };
        let line = row.line;
        let attributes: Map<String, Value> = row
            .others
            .iter()
            .filter(|(header, _)| hark_core::contact::is_attribute_key(header))
            .map(|(header, value)| (header.clone(), Value::String(value.clone())))
            .collect();
        let row_result: Result<ResponseInput, String> = async {
            let score = row.get("score").ok_or("score: empty")?;
            let score: i64 = score.parse().map_err(|_| format!("score: `{score}` is not a whole number"))?;
            let agent_score = match row.get("agent_score") {
                Some(s) => Some(s.parse::<i64>().map_err(|_| format!("agent_score: `{s}` is not a whole number"))?),
                None => None,
            };
            let submitted_at = row.get("date").map(parse_date).transpose()?;
            let team_id = match row.get("team") {
                Some(t) => Some(match teams.get(t) {
                    Some(id) => id.clone(),
                    None => {
                        let id = store.team_named(t).await.map_err(|e| e.to_string())?.id;
                        teams.insert(t.to_string(), id.clone());
                        id
                    }
                }),
                None => None,
            };
            let agent_id = match row.get("agent") {
                Some(a) => {
                    let key = (a.to_string(), team_id.clone());
                    Some(match names.get(&key) {
                        Some(id) => id.clone(),
                        None => {
                            let id = store.agent_named(a, team_id.as_deref()).await.map_err(|e| e.to_string())?.id;
                            names.insert(key, id.clone());
                            id
                        }
                    })
                }
                None => None,
            };
            let external_id = row.get("external_id").or(row.get("email")).map(|s| s.to_string());
            let contact = external_id.map(|external_id| ContactInput {
                external_id,
                email: row.get("email").map(|s| s.to_string()),
                name: row.get("name").map(|s| s.to_string()),
                locale: row.get("language").map(|s| s.to_string()),
                attributes,
            });
            let key = row.key.clone();
            Ok(ResponseInput {
                survey_id: survey_id.clone(),
                score,
                agent_score,
                comment: row.get("comment").map(|s| s.to_string()),
                contact,
                agent_id,
                team_id,
                channel: Some(row.get("channel").map_or("import".to_string(), |c| c.to_lowercase())),
                language: row.get("language").map(|s| s.to_string()),
                submitted_at,
                imported: true,
                idempotency_key: Some(key),
                ..Default::default()
            })
        }
        .await;
        match row_result {
            Err(message) => report.errors.push((line, message)),
            Ok(input) => {
                let store = store.clone();
                jobs.spawn(async move { (line, submit(&store, input, None).await) });
                // Enough in flight to fill the writer's batches, bounded for large files.
                while jobs.len() >= 256 {
                    tally(&mut report, jobs.join_next().await.expect("jobs pending")?);
                }
            }
        }
    }
    while let Some(done) = jobs.join_next().await {
        tally(&mut report, done?);
    }
    report.rejected = report.errors.len();
    report.errors.sort();
    Ok(report)
}

fn tally(report: &mut ImportReport, (line, result): (u64, Result<hark_store::Submitted, hark_web::problem::ApiError>)) {
    count(report, line, result.map(|s| s.created));
}

/// A row's idempotency key, from its content: importing a file again adds nothing.
fn row_key(record: &csv::StringRecord) -> String {
    format!("import:{}", hash_secret(&record.iter().collect::<Vec<_>>().join("\u{1f}")))
}

/// Counts one row: stored (`true`), already there (`false`), or refused with its problem.
fn count(report: &mut ImportReport, line: u64, result: Result<bool, hark_web::problem::ApiError>) {
    match result {
        Ok(true) => report.imported += 1,
        Ok(false) => report.already_present += 1,
        Err(e) => {
            let p = &e.0;
            let message = if p.errors.is_empty() {
                p.detail.clone()
            } else {
                p.errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
            };
            report.errors.push((line, message));
        }
    }
}

/// Recognised headers of an interactions file; other columns become the interaction's figures.
const INTERACTION_COLUMNS: &[(&str, &[&str])] = &[
    ("external_id", &["external_id", "customer_id", "contact_id", "user_id", "person_id"]),
    ("email", &["email", "e_mail", "email_address", "customer_email"]),
    ("name", &["name", "customer_name", "contact_name"]),
    ("kind", &["kind", "type", "interaction", "interaction_type"]),
    ("date", &["date", "occurred_at", "created_at", "timestamp", "time"]),
    ("agent", &["agent", "agent_name"]),
    ("summary", &["summary", "notes", "note", "subject", "description", "text"]),
    ("ignore", &["id"]),
];

/// Interactions (calls, chats, emails, orders …) from another system, onto the contacts'
/// timelines. Like responses: a bad row is reported by line, importing twice adds nothing.
pub async fn import_interactions(store: &Store, file: &Path) -> anyhow::Result<ImportReport> {
    let mut import = ImportFile::open(file, INTERACTION_COLUMNS, "kind")?;
    let state =
        hark_web::AppState::new(store.clone(), hark_web::WebConfig::local(([127, 0, 0, 1], 0).into()), None).await?;
    let read = async |row: &ImportRow| {
        let figures: Map<String, Value> = row
            .others
            .iter()
            .map(|(header, value)| {
                let number = value.parse::<i64>().map(Value::from).or_else(|_| value.parse::<f64>().map(Value::from));
                (header.clone(), number.unwrap_or_else(|_| Value::String(value.clone())))
            })
            .collect();
        let external_id = row.get("external_id").or(row.get("email")).ok_or("customer: give a customer_id or email")?;
        let agent_id = match row.get("agent") {
            Some(a) => Some(store.agent_named(a, None).await.map_err(|e| e.to_string())?.id),
            None => None,
        };
        Ok(hark_web::InteractionInput {
            contact: ContactInput {
                external_id: external_id.to_string(),
                email: row.get("email").map(|s| s.to_string()),
                name: row.get("name").map(|s| s.to_string()),
                locale: None,
                attributes: Map::new(),
            },
            kind: row.get("kind").map(|k| k.to_lowercase()).unwrap_or_default(),
            occurred_at: row.get("date").map(parse_date).transpose()?,
            agent_id,
            summary: row.get("summary").map(|s| s.to_string()),
            figures,
        })
    };
    let take = async |input, key| hark_web::record_interaction(&state, input, Some(key)).await.map(|(_, new)| new);
    Ok(import_each(&mut import, read, take).await)
}

/// Reads every row into an input (`read`: or the reason it cannot be one) and takes it in
/// under the row's key (`take`: whether it was new), reporting refusals by line.
async fn import_each<I>(
    import: &mut ImportFile,
    read: impl AsyncFn(&ImportRow) -> Result<I, String>,
    take: impl AsyncFn(I, String) -> Result<bool, hark_web::problem::ApiError>,
) -> ImportReport {
    let mut report = ImportReport { imported: 0, already_present: 0, rejected: 0, errors: Vec::new() };
    for row in import.rows() {
        let row = match row {
            Ok(row) => row,
            Err(unreadable) => {
                report.errors.push(unreadable);
                continue;
            }
        };
        match read(&row).await {
            Err(message) => report.errors.push((row.line, message)),
            Ok(input) => count(&mut report, row.line, take(input, row.key.clone()).await),
        }
    }
    report.rejected = report.errors.len();
    report.errors.sort();
    report
}

const FEEDBACK_COLUMNS: &[(&str, &[&str])] = &[
    ("text", &["text", "feedback", "comment", "review", "body", "message", "content", "notes"]),
    ("source", &["source", "kind", "type", "channel"]),
    ("rating", &["rating", "stars", "score"]),
    ("scale", &["scale", "rating_scale"]),
    ("external_id", &["external_id", "customer_id", "contact_id", "user_id", "person_id"]),
    ("email", &["email", "e_mail", "email_address", "customer_email"]),
    ("name", &["name", "customer_name", "contact_name", "author"]),
    ("date", &["date", "created_at", "submitted_at", "timestamp", "time", "posted_at"]),
    ("url", &["url", "link"]),
    ("language", &["language", "lang", "locale"]),
    ("ignore", &["id"]),
];

/// Feedback from other sources (reviews, social media, interviews, tickets): columns text,
/// source, rating and scale, customer_id or email, date, url, language. A rating without a
/// scale is read on 1–5 (stars). Like responses: a bad row is reported by line, importing
/// twice adds nothing.
pub async fn import_feedback(store: &Store, file: &Path) -> anyhow::Result<ImportReport> {
    let mut import = ImportFile::open(file, FEEDBACK_COLUMNS, "text")?;
    let read = async |row: &ImportRow| {
        let rating =
            row.get("rating").map(|r| r.parse::<i64>().map_err(|_| format!("rating: {r} is not a whole number")));
        let rating = rating.transpose()?;
        let contact = row.get("external_id").or(row.get("email")).map(|id| ContactInput {
            external_id: id.to_string(),
            email: row.get("email").map(|s| s.to_string()),
            name: row.get("name").map(|s| s.to_string()),
            locale: None,
            attributes: Map::new(),
        });
        Ok(hark_web::ingest::FeedbackInput {
            source: row.get("source").map_or_else(|| "other".to_owned(), str::to_lowercase),
            text: row.get("text").unwrap_or_default().to_owned(),
            scale: row.get("scale").map(str::to_owned).or_else(|| rating.map(|_| "1-5".to_owned())),
            rating,
            contact,
            url: row.get("url").map(str::to_owned),
            language: row.get("language").map(str::to_owned),
            submitted_at: row.get("date").map(parse_date).transpose()?,
            ..Default::default()
        })
    };
    let take = async |input, key| hark_web::ingest::take_feedback(store, input, Some(key)).await.map(|(_, new)| new);
    Ok(import_each(&mut import, read, take).await)
}

pub async fn export_responses(store: &Store, survey: Option<&str>, out: impl std::io::Write) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record([
        "id",
        "survey_id",
        "date",
        "external_id",
        "email",
        "score",
        "segment",
        "comment",
        "themes",
        "sentiment",
        "agent_score",
        "agent",
        "team",
        "channel",
        "language",
    ])?;
    let agents: HashMap<String, String> = store.list_agents(None).await?.into_iter().map(|a| (a.id, a.name)).collect();
    let teams: HashMap<String, String> = store.list_teams().await?.into_iter().map(|t| (t.id, t.name)).collect();
    let mut contacts: HashMap<String, (String, Option<String>)> = HashMap::new();
    let filter = ResponseFilter { survey_id: survey.map(Into::into), ..Default::default() };
    let mut cursor: Option<ResponseCursor> = None;
    loop {
        let page = store.list_responses(&filter, cursor.as_ref(), 1000).await?;
        let Some(last) = page.last() else { break };
        cursor = Some(ResponseCursor { created_at: last.created_at, id: last.id.clone() });
        for r in &page {
            let (external_id, email) = match &r.contact_id {
                None => (String::new(), None),
                Some(id) => {
                    if !contacts.contains_key(id) {
                        let c =
                            store.get_contact(id).await?.map_or((String::new(), None), |c| (c.external_id, c.email));
                        contacts.insert(id.clone(), c);
                    }
                    contacts[id].clone()
                }
            };
            let name = |map: &HashMap<String, String>, id: &Option<String>| {
                id.as_ref().and_then(|i| map.get(i)).cloned().unwrap_or_default()
            };
            let date = jiff::Timestamp::from_millisecond(r.created_at)?.to_string();
            let cells = [
                r.id.as_str(),
                r.survey_id.as_str(),
                date.as_str(),
                external_id.as_str(),
                email.as_deref().unwrap_or(""),
                &r.score.to_string(),
                r.segment.as_str(),
                r.comment.as_deref().unwrap_or(""),
                &r.themes.join(";"),
                r.sentiment.as_deref().unwrap_or(""),
                &r.agent_score.map(|s| s.to_string()).unwrap_or_default(),
                &name(&agents, &r.agent_id),
                &name(&teams, &r.team_id),
                r.channel.as_str(),
                r.language.as_deref().unwrap_or(""),
            ];
            writer.write_record(cells.iter().map(|c| spreadsheet::defuse(c).into_owned()))?;
        }
    }
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever a CSV file holds, its rows are read or reported by line, never a panic.
        #[test]
        fn any_csv_bytes_are_read_or_reported(
            header in prop_oneof![Just("email,score,comment,date\n".to_owned()), ".{0,40}\n"],
            body in prop::collection::vec(any::<u8>(), 0..400),
        ) {
            let mut file = tempfile::NamedTempFile::new().unwrap();
            std::io::Write::write_all(&mut file, header.as_bytes()).unwrap();
            std::io::Write::write_all(&mut file, &body).unwrap();
            if let Ok(mut import) = ImportFile::open(file.path(), COLUMNS, "score") {
                for row in import.rows().flatten() {
                    let _ = row.get("date").map(parse_date);
                }
            }
        }
    }
}
