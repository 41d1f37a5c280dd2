//! A believable year of feedback for a newcomer to look at: three teams, fifteen agents, an
//! NPS, a two-question support NPS and a chat CSAT survey, answered in English, Korean,
//! Italian and Thai. Seeded, so every demo database is the same.

use hark_core::contact::ContactInput;
use hark_core::survey::SurveyDefinition;
use hark_core::{Segment, SurveyKind};
use hark_store::{NewAgent, Role, Store, SurveyStatus};
use hark_web::ingest::{ResponseInput, submit};
use serde_json::{Map, json};
use tokio::task::JoinSet;

pub const DEFAULT_RESPONSES: usize = 2_000;
const DAY_MS: i64 = 86_400_000;

/// Comments by language and segment (detractor, passive, promoter).
const COMMENTS: [(&str, [&[&str]; 3]); 4] = [
    (
        "en",
        [
            &[
                "I waited 40 minutes on hold and nobody called back.",
                "The invoice was wrong twice and fixing it took weeks.",
                "The app keeps logging me out.",
                "Too expensive for what it does.",
                "Support closed my ticket without solving anything.",
            ],
            &[
                "Fine overall, but delivery took longer than promised.",
                "Good product, the website is confusing though.",
                "Support was polite but slow.",
                "Does the job. Prices went up again.",
            ],
            &[
                "Mina in support fixed my problem in five minutes!",
                "Fast delivery and great quality.",
                "Best customer service I have had in years.",
                "Easy to use and the team really listens.",
                "Refund arrived the next day, thank you.",
            ],
        ],
    ),
    (
        "ko",
        [
            &[
                "배송이 너무 늦었고 연락도 없었어요.",
                "상담원 연결이 30분이나 걸렸습니다.",
                "요금이 두 번 청구되었어요.",
                "앱이 자꾸 멈춰요.",
            ],
            &[
                "전반적으로 괜찮지만 가격이 조금 비싸요.",
                "제품은 좋은데 배송이 느려요.",
                "상담은 친절했지만 해결이 늦었어요.",
            ],
            &[
                "상담원이 정말 친절하고 빠르게 해결해 주셨어요!",
                "배송이 빠르고 품질이 좋아요.",
                "항상 만족합니다. 친구에게도 추천했어요.",
                "사용하기 쉽고 편리해요.",
            ],
        ],
    ),
    (
        "it",
        [
            &[
                "Ho aspettato al telefono quaranta minuti.",
                "La fattura era sbagliata e nessuno mi ha risposto.",
                "Il prodotto è arrivato rotto.",
                "Troppo caro per quello che offre.",
            ],
            &[
                "Tutto bene, ma la consegna è stata lenta.",
                "Buon servizio, il sito però è confuso.",
                "Gentili ma poco veloci.",
            ],
            &[
                "Servizio clienti eccezionale, problema risolto subito!",
                "Consegna velocissima e qualità ottima.",
                "Lo consiglio a tutti i miei amici.",
                "Facile da usare, grazie!",
            ],
        ],
    ),
    (
        "th",
        [
            &["รอสายนานมากและไม่มีใครติดต่อกลับ", "สินค้าเสียหายตอนส่งมาถึง", "ถูกเรียกเก็บเงินซ้ำสองครั้ง", "แอปใช้งานยากและช้า"],
            &["โดยรวมโอเค แต่จัดส่งช้าไปหน่อย", "สินค้าดีแต่ราคาค่อนข้างสูง", "พนักงานสุภาพแต่แก้ปัญหาช้า"],
            &[
                "พนักงานบริการดีมากและแก้ปัญหาได้รวดเร็ว",
                "จัดส่งเร็วและสินค้าคุณภาพดี",
                "ประทับใจมาก จะแนะนำให้เพื่อน",
                "ใช้งานง่ายและสะดวกมาก",
            ],
        ],
    ),
];

/// When the demo's annotated change happened.
const LIVE_CHAT_DAYS_AGO: i64 = 120;

const TEAMS: [(&str, f64); 3] = [("Billing", 0.25), ("Technical Support", -0.05), ("Sales", 0.10)];
const AGENTS: [&str; 15] = [
    "Mina Park",
    "Luca Bianchi",
    "Somchai Chaiyaporn",
    "Emily Carter",
    "Jisoo Kim",
    "Giulia Rossi",
    "Nok Srisai",
    "James Wilson",
    "Hyejin Lee",
    "Marco Ferrari",
    "Ploy Wongsa",
    "Sarah Brown",
    "Dongwoo Choi",
    "Chiara Esposito",
    "Anan Boonmee",
];

/// Fills the database; refuses if it already has surveys.
pub async fn seed(store: &Store, responses: usize) -> anyhow::Result<()> {
    if !store.list_surveys().await?.is_empty() {
        anyhow::bail!("the database already has surveys; demo data goes only into an empty one");
    }
    let mut rng = fastrand::Rng::with_seed(2026);
    let mut teams = Vec::new();
    for (name, bias) in TEAMS {
        teams.push((store.create_team(name).await?, bias));
    }
    let mut agents = Vec::new();
    for (i, name) in AGENTS.iter().enumerate() {
        let (team, team_bias) = &teams[i % teams.len()];
        let agent = store
            .create_agent(&NewAgent {
                name: name.to_string(),
                team_id: Some(team.id.clone()),
                external_id: Some(format!("agent-{}", i + 1)),
                email: None,
            })
            .await?;
        // Each agent is a little better or worse than their team.
        agents.push((agent, team_bias + (rng.f64() - 0.5) * 0.3));
    }
    let define = |v: serde_json::Value| -> anyhow::Result<SurveyDefinition> { Ok(serde_json::from_value(v)?) };
    let relationship = store
        .create_survey(
            &define(json!({"name": "Relationship NPS", "kind": "nps", "brand": "Acme",
            "questions": [{"id": "improve", "type": "single_choice", "text": "What should we improve first?",
                           "options": ["price", "delivery", "support", "app"], "show_if": ["detractor", "passive"]}],
            "translations": {
                "ko": {"improve": "무엇을 먼저 개선해야 할까요?", "improve.0": "가격", "improve.1": "배송", "improve.2": "고객 지원", "improve.3": "앱"},
                "it": {"improve": "Che cosa dovremmo migliorare per primo?", "improve.0": "prezzo", "improve.1": "consegna", "improve.2": "assistenza", "improve.3": "app"},
                "th": {"improve": "เราควรปรับปรุงเรื่องใดก่อน", "improve.0": "ราคา", "improve.1": "การจัดส่ง", "improve.2": "การบริการลูกค้า", "improve.3": "แอป"}},
            "anonymous_link": true}))?,
            SurveyStatus::Active,
        )
        .await?;
    let support = store
        .create_survey(
            &define(json!({"name": "Support NPS (after a call)", "kind": "nps", "brand": "Acme",
            "agent_question": "How likely are you to recommend the agent you spoke with?",
            "triggers": [{"event": "call.ended", "delay_minutes": 0, "channel": "email"}]}))?,
            SurveyStatus::Active,
        )
        .await?;
    let chat = store
        .create_survey(
            &define(json!({"name": "Chat CSAT", "kind": "csat", "brand": "Acme",
                "widget": {"origins": ["http://localhost:3000"], "placement": "slide_in", "delay_seconds": 5}}))?,
            SurveyStatus::Active,
        )
        .await?;

    let now = jiff::Timestamp::now().as_millisecond();
    let countries = [("en", "US"), ("ko", "KR"), ("it", "IT"), ("th", "TH")];
    let mut jobs = JoinSet::new();
    for i in 0..responses {
        let lang_index = rng.usize(..countries.len());
        let (lang, country) = countries[lang_index];
        let days_ago = rng.i64(0..365);
        // Scores improve slowly over the year, so the trend has something to show.
        let drift = 0.15 * (1.0 - days_ago as f64 / 365.0);
        let (survey, kind, agent) = match rng.u8(..10) {
            0..=3 => (&relationship, SurveyKind::Nps, None),
            4..=7 => (&support, SurveyKind::Nps, Some(&agents[rng.usize(..agents.len())])),
            _ => (&chat, SurveyKind::Csat, Some(&agents[rng.usize(..agents.len())])),
        };
        // Live chat launched 120 days ago (see the annotation) lifted scores a little; long waits cost.
        let launched = if days_ago < LIVE_CHAT_DAYS_AGO { 0.08 } else { 0.0 };
        let wait_s = rng.i64(0..900);
        let waited = if agent.is_some() { 0.25 * wait_s as f64 / 900.0 } else { 0.0 };
        let bias = agent.map_or(0.1, |(_, b)| *b) + drift + launched - waited;
        let score = draw_score(&mut rng, kind, bias);
        let segment = kind.segment(score) as usize;
        let comments = COMMENTS[lang_index].1[segment];
        let comment = (rng.f64() < 0.7).then(|| comments[rng.usize(..comments.len())].to_string());
        let contact_no = rng.usize(..responses.max(3) / 3);
        let mut attributes = Map::new();
        attributes.insert("plan".into(), json!(["free", "pro", "business"][contact_no % 3]));
        attributes.insert("country".into(), json!(country));
        let mut input = ResponseInput {
            survey_id: survey.id.clone(),
            score,
            comment,
            contact: Some(ContactInput {
                external_id: format!("demo-{contact_no}"),
                email: Some(format!("customer{contact_no}@example.com")),
                locale: Some(lang.into()),
                attributes,
                ..Default::default()
            }),
            language: Some(lang.into()),
            channel: Some(["email", "link", "widget", "api"][rng.usize(..4)].into()),
            imported: true,
            submitted_at: Some(
                jiff::Timestamp::from_millisecond(now - days_ago * DAY_MS - rng.i64(0..DAY_MS))?.to_string(),
            ),
            idempotency_key: Some(format!("demo-{i}")),
            ..Default::default()
        };
        if let Some((agent, agent_bias)) = agent {
            input.agent_id = Some(agent.id.clone());
            let mut context = Map::new();
            context.insert("handle_time_s".into(), json!(rng.i64(120..1500)));
            context.insert("wait_time_s".into(), json!(wait_s));
            context.insert("transfers".into(), json!(rng.i64(0..3)));
            input.context = context;
            if survey.id == support.id {
                input.agent_score = Some(draw_score(&mut rng, SurveyKind::Nps, agent_bias + 0.1));
            }
        }
        if survey.id == relationship.id && segment < 2 && rng.bool() {
            input.answers.insert("improve".into(), json!(["price", "delivery", "support", "app"][rng.usize(..4)]));
        }
        let store = store.clone();
        jobs.spawn(async move { submit(&store, input, None).await });
    }
    let mut stored = Vec::new();
    while let Some(result) = jobs.join_next().await {
        stored.push(result?.map_err(|e| anyhow::anyhow!("demo response refused: {}", e.0.detail))?.response);
    }
    let password = hark_core::auth::generate_password();
    let hash = hark_core::auth::hash_password(&password);
    let cases = seed_cases(store, &teams, &[&relationship, &support, &chat], &stored, now, &hash).await?;
    let (first_agent, _) = &agents[0];
    let agent_user = store.create_user("mina.park@example.com", Some("Mina Park"), Role::Agent, &hash).await?;
    store.set_user_team(&agent_user.id, first_agent.team_id.as_deref()).await?;
    store.set_user_agent(&agent_user.id, Some(&first_agent.id)).await?;
    // Mina's lead hands her one of the team's cases, so her inbox has work to show.
    let team_cases = hark_store::CaseFilter { team_id: first_agent.team_id.clone(), ..Default::default() };
    if let Some(case) = store.list_cases(&team_cases, 1).await?.pop() {
        let actor = store.get_user(case.owner_id.as_deref().unwrap_or_default()).await?.map(|u| u.email);
        let assign = hark_store::CaseChange::Assign(Some(agent_user.id.clone()));
        store.change_case(&case.id, actor.as_deref().unwrap_or("hark"), &assign).await?;
    }
    let today = now.div_euclid(DAY_MS);
    store.create_annotation(today - LIVE_CHAT_DAYS_AGO, "Launched live chat", None, Some("demo")).await?;
    let rule = hark_store::NewAlertRule {
        name: "Company NPS falling".into(),
        window_days: 30,
        min_n: 30,
        ..Default::default()
    };
    store.create_alert_rule(&rule).await?;
    let feedback = seed_feedback(store, &mut rng, now).await?;
    println!(
        "Dashboard views: sign in as lead.billing@example.com (a team lead) or mina.park@example.com (an agent), \
         password {password}"
    );
    println!(
        "Demo data: {} responses from {} teams, {} agents, 3 surveys, in English, Korean, Italian and Thai; {cases} cases; \
         {feedback} reviews and posts from other sources",
        stored.len(),
        teams.len(),
        agents.len()
    );
    Ok(())
}

/// What customers said elsewhere: store reviews, social-media posts, interview notes, tickets.
const FEEDBACK: [(&str, &str, Option<i64>); 12] = [
    ("review", "Delivery took two weeks and the parcel arrived damaged.", Some(1)),
    ("review", "Great quality for the price, fast shipping.", Some(5)),
    ("review", "The app logs me out every day, very annoying.", Some(2)),
    ("social", "Shoutout to the support team, they fixed my billing issue in minutes!", None),
    ("social", "Still waiting for my refund after a month. Terrible.", None),
    ("interview", "Onboarding was confusing; the website does not say what the plans include.", None),
    ("ticket", "Charged twice this month, please refund the second payment.", None),
    ("review", "배송이 너무 늦어요. 포장도 엉망이었어요.", Some(2)),
    ("social", "상담원이 정말 친절했어요!", None),
    ("review", "Prezzo troppo alto, qualità scarsa.", Some(2)),
    ("social", "ส่งของเร็วมาก พนักงานสุภาพ ประทับใจ", None),
    ("review", "แอปใช้งานยาก ผิดหวัง", Some(1)),
];

async fn seed_feedback(store: &Store, rng: &mut fastrand::Rng, now: i64) -> anyhow::Result<usize> {
    for (i, (source, text, rating)) in FEEDBACK.iter().enumerate() {
        let input = hark_web::ingest::FeedbackInput {
            source: source.to_string(),
            text: text.to_string(),
            rating: *rating,
            scale: rating.map(|_| "1-5".into()),
            url: (*source == "review").then(|| format!("https://reviews.example.com/demo/{i}")),
            // Some come from known customers: they show on those contacts' timelines.
            contact: (i % 3 == 0).then(|| ContactInput { external_id: format!("demo-{i}"), ..Default::default() }),
            submitted_at: Some(jiff::Timestamp::from_millisecond(now - rng.i64(0..300) * DAY_MS)?.to_string()),
            ..Default::default()
        };
        hark_web::ingest::take_feedback(store, input, Some(format!("demo-feedback-{i}")))
            .await
            .map_err(|e| anyhow::anyhow!("demo feedback refused: {}", e.0.detail))?;
    }
    Ok(FEEDBACK.len())
}

/// A team lead per team and an open case for each detractor of the last 7 days, as the
/// default playbook would have opened them, so the case board has work to show.
async fn seed_cases(
    store: &Store,
    teams: &[(hark_store::Team, f64)],
    surveys: &[&hark_store::Survey],
    responses: &[hark_store::Response],
    now: i64,
    password_hash: &str,
) -> anyhow::Result<usize> {
    let mut leads = std::collections::HashMap::new();
    for (team, _) in teams {
        let email = format!("lead.{}@example.com", team.name.to_lowercase().replace(' ', "-"));
        let lead =
            store.create_user(&email, Some(&format!("{} lead", team.name)), Role::TeamLead, password_hash).await?;
        store.set_user_team(&lead.id, Some(&team.id)).await?;
        leads.insert(team.id.clone(), lead);
    }
    let mut opened = 0;
    for r in responses.iter().filter(|r| r.segment == Segment::Detractor && r.created_at > now - 7 * DAY_MS) {
        let Some(survey) = surveys.iter().find(|s| s.id == r.survey_id) else { continue };
        let decision = hark_jobs::playbook_decision(&survey.definition, r, &Map::new());
        let new = hark_store::NewCase {
            response_id: r.id.clone(),
            survey_id: r.survey_id.clone(),
            contact_id: r.contact_id.clone(),
            team_id: r.team_id.clone(),
            owner_id: r.team_id.as_ref().and_then(|t| leads.get(t)).map(|u| u.id.clone()),
            priority: decision.priority,
            due_at: r.created_at + i64::from(decision.playbook.due_days) * DAY_MS,
            reason: "detractor playbook".into(),
            public_budget: None,
        };
        store.open_case(&new).await?;
        opened += 1;
    }
    Ok(opened)
}

/// A score skewed by `bias` (about −0.3 … +0.5): higher bias, more promoters.
fn draw_score(rng: &mut fastrand::Rng, kind: SurveyKind, bias: f64) -> i64 {
    let (low, high) = kind.range();
    let u = (rng.f64() + bias).clamp(0.0, 0.999);
    // Most customers answer high; the square root bends the mass towards the top.
    let x = u.sqrt();
    low + (x * (high - low + 1) as f64) as i64
}
