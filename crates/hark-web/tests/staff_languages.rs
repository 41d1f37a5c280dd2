//! The staff pages every role works in — the dashboard, the case inbox and case page, their
//! account, sign-in and the pages that refuse — in each language Hark ships: chosen in the
//! person's account, else taken from their browser. Each page is read as its reader sees
//! it (text, titles, labels, placeholders) and must carry no key left untranslated and, in
//! Korean, Thai and Italian, no English.

mod common;

use std::collections::BTreeSet;

use common::TestApp;
use hark_store::Role;
use serde_json::json;

const LANGUAGES: [&str; 4] = ["en", "ko", "it", "th"];

/// Words a page may show in any language: product and method names, the values a filter
/// is typed with, and each language's name in itself (the language menu).
const ANY_LANGUAGE: &[&str] = &[
    "nps", "csat", "ces", "csv", "hark", "utc", "api", "wald", "rocks", "monroe", "plan", "pro", "attr", "property",
    "product", "english", "italiano", "hmac", "sha", "json", "slack", "pdf", // The harness's API key is named so.
    "test",
];

/// A locale file's texts.
fn locale_texts(lang: &str) -> std::collections::HashMap<String, String> {
    let file = std::fs::read_to_string(format!("{}/../hark-core/locales/{lang}.json", env!("CARGO_MANIFEST_DIR")));
    serde_json::from_str(&file.unwrap()).unwrap()
}

/// A form's path, its fields, and the locale keys of what the page must say of them.
type Mistake = (String, Vec<(&'static str, &'static str)>, Vec<&'static str>);

/// Forms an admin sends with mistakes in them, and the locale texts the page must then say:
/// the survey editor (fields that cannot be read, then the definition's own checks) and a
/// reply on the case page.
fn mistakes(case_path: &str) -> Vec<Mistake> {
    vec![
        (
            "/admin/surveys/new".into(),
            vec![
                ("name", "설문"),
                ("brand", "하크"),
                ("kind", "nps"),
                ("status", "active"),
                ("default_locale", "ko"),
                ("fatigue_days", "열흘"),
                ("trigger0.event", "order.delivered"),
                ("trigger0.delay", "곧"),
            ],
            vec!["field.fatigue_days", "invalid.whole_number", "field.triggers.delay_minutes", "invalid.whole_minutes"],
        ),
        (
            "/admin/surveys/new".into(),
            vec![
                ("name", "설문"),
                ("brand", " "),
                ("kind", "nps"),
                ("status", "active"),
                ("default_locale", "ko"),
                ("fatigue_days", "5000"),
                ("reminder_days", "99"),
                ("trigger0.event", "배송 완료"),
                ("widget.origins", "상점"),
            ],
            vec![
                "field.brand",
                "invalid.empty",
                "invalid.at_most_days",
                "field.reminder_days",
                "invalid.reminder_days",
                "field.triggers.event",
                "invalid.event_name",
                "field.widget.origins",
                "invalid.site",
            ],
        ),
        (
            case_path.into(),
            vec![("action", "reply"), ("subject", " "), ("body", "죄송합니다")],
            vec!["field.reply", "invalid.reply_needs_text"],
        ),
    ]
}

/// `html` without each element that opens with `open` (up to its `close`).
fn without(html: &str, open: &str, close: &str) -> String {
    let mut kept = String::new();
    let mut rest = html;
    while let Some(at) = rest.find(open) {
        kept.push_str(&rest[..at]);
        rest = rest[at..].find(close).map_or("", |end| &rest[at + end + close.len()..]);
    }
    kept + rest
}

/// The page's readable text: text nodes and the attributes people read or hear.
fn visible_text(html: &str) -> String {
    // Scripts, styles and code samples (`{code}`, `HARK_SMTP_URL`) are not prose.
    let html = [("<script", "</script>"), ("<style", "</style>"), ("<code", "</code>")]
        .iter()
        .fold(html.to_owned(), |html, (open, close)| without(&html, open, close));
    let mut out = String::new();
    let mut s = html.as_str();
    while let Some(lt) = s.find('<') {
        out.push_str(&s[..lt]);
        out.push('\n');
        let Some(gt) = s[lt..].find('>') else { break };
        let tag = &s[lt..lt + gt];
        for attribute in ["aria-label", "title", "placeholder", "alt"] {
            if let Some(at) = tag.find(&format!(" {attribute}=\"")) {
                let value = &tag[at + attribute.len() + 3..];
                out.push_str(&value[..value.find('"').unwrap_or(value.len())]);
                out.push('\n');
            }
        }
        s = &s[lt + gt + 1..];
    }
    out.push_str(s);
    out.replace("&amp;", "&").replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">")
}

/// Words of Latin letters, lowercased; addresses and emails dropped.
fn latin_words(text: &str) -> BTreeSet<String> {
    text.split_whitespace()
        // Addresses, zones (`Asia/Seoul`), and what a person types as it is: `order.delivered`,
        // `plan=pro`, `Hark.track(name)`, the `{name}` placeholders of a mail.
        .filter(|w| !w.contains(['@', '/', '=', '{']))
        .filter(|w| !w.trim_end_matches(['.', ',', ')']).contains(['.', '(']))
        .flat_map(|w| w.split(|c: char| !c.is_ascii_alphabetic()))
        .filter(|w| w.len() >= 3)
        .map(str::to_lowercase)
        .collect()
}

/// Every word of a language's locale file.
fn vocabulary(tag: &str) -> BTreeSet<String> {
    let file =
        std::fs::read_to_string(format!("{}/../hark-core/locales/{tag}.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let texts: std::collections::HashMap<String, String> = serde_json::from_str(&file).unwrap();
    texts.values().flat_map(|v| latin_words(v)).collect()
}

/// What is wrong with a page read in `lang`: keys shown as text, English words left in.
fn problems(lang: &str, html: &str, english_only: &BTreeSet<String>, key_prefixes: &BTreeSet<String>) -> Vec<String> {
    let mut found = Vec::new();
    // The survey preview is the customer's page in the survey's language, under a banner in
    // the admin's.
    let marked = [format!("<html lang=\"{lang}\""), format!("role=\"note\" lang=\"{lang}\"")];
    if !marked.iter().any(|m| html.contains(m.as_str())) {
        found.push(format!("not marked lang=\"{lang}\""));
    }
    let text = visible_text(html);
    for token in text.split(|c: char| c.is_whitespace() || "()“”\"',:;".contains(c)) {
        if let Some((prefix, rest)) = token.split_once('.')
            && key_prefixes.contains(prefix)
            && !rest.is_empty()
            && rest.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
        {
            found.push(format!("untranslated key `{token}`"));
        }
    }
    let left: Vec<String> = match lang {
        "en" => vec![],
        // Korean and Thai pages have no Latin words but names and values.
        "ko" | "th" => latin_words(&text).into_iter().filter(|w| !ANY_LANGUAGE.contains(&w.as_str())).collect(),
        // Italian shares the alphabet: words only English has.
        _ => latin_words(&text).into_iter().filter(|w| english_only.contains(w)).collect(),
    };
    if !left.is_empty() {
        found.push(format!("English left: {left:?}"));
    }
    found
}

async fn csrf(http: &reqwest::Client, app: &TestApp, cookie: &str, path: &str) -> String {
    let page = http.get(format!("{}{path}", app.base)).header("cookie", cookie).send().await.unwrap();
    let page = page.text().await.unwrap();
    let at = page.find("name=\"csrf\" value=\"").expect("a form with its token") + 19;
    page[at..at + page[at..].find('"').unwrap()].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_staff_page_reads_in_the_person_s_language() {
    let app = TestApp::start(hark_store::testing::Backend::Sqlite).await.unwrap();
    // Data with no Latin words, so that any English on a Korean or Thai page is Hark's own.
    let team = app.post_json("/api/v1/teams", &json!({"name": "청구팀"})).await;
    let agent = app.post_json("/api/v1/agents", &json!({"name": "김민아", "team_id": team["id"]})).await;
    let survey = app
        .survey(
            json!({"name": "고객 설문", "brand": "하크", "kind": "nps", "agent_question": "상담원을 추천하시겠습니까?",
            "default_locale": "ko", "root_causes": ["배송", "가격"],
            "playbooks": {"detractor": {"open_case": true, "high_priority_words": ["환불"]},
                "promoter": {"mail": {"subject": "감사합니다", "body": "{name}님, 감사합니다."}}}}),
        )
        .await;
    let comments = ["배송이 너무 늦었어요", "ดีมาก ขอบคุณครับ", "친절했어요", "พนักงานช่วยได้ดี"];
    for i in 0..40 {
        let (score, agent_score) = [(2, 3), (9, 10), (10, 9), (7, 8)][i % 4];
        let body = json!({"survey_id": survey, "score": score, "agent_score": agent_score,
            "agent_id": agent["id"], "comment": comments[i % 4], "language": "ko", "channel": "link",
            "context": {"handle_time_s": 340, "transfers": 1},
            "contact": {"external_id": format!("고객{i}"), "name": format!("박지수{i}"), "email": format!("c{i}@example.com")}});
        let r = app.post("/api/v1/responses").header("Idempotency-Key", format!("l-{i}")).json(&body);
        let r = r.send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }
    let answers = app.get_json(&format!("/api/v1/responses?survey_id={survey}&limit=100")).await;
    let detractor = answers["items"].as_array().unwrap().iter().find(|r| r["score"] == 2).unwrap();
    let mut new_case =
        hark_store::testing::case_for(detractor["id"].as_str().unwrap(), &survey, detractor["contact_id"].as_str());
    new_case.reason = "비추천 고객".into();
    let (case, _) = app.store.open_case(&new_case).await.unwrap();
    let team_id = team["id"].as_str().unwrap();
    let agent_id = agent["id"].as_str().unwrap();
    let sessions = [
        ("admin@example.com", Role::Admin, None, None),
        ("exec@example.com", Role::Executive, None, None),
        ("lead@example.com", Role::TeamLead, Some(team_id), None),
        ("mina@example.com", Role::Agent, Some(team_id), Some(agent_id)),
    ];
    let mut people = Vec::new();
    for (email, role, team, agent) in sessions {
        people.push((email, role, app.user_session(email, role, team, agent).await));
    }
    // The admin works the case through its page: the history then has a line of each kind.
    let (http, cookie) = &people[0].2;
    let mina = app.store.list_users().await.unwrap().into_iter().find(|u| u.email == "mina@example.com").unwrap();
    let case_path = format!("/admin/cases/{}", case.id);
    for action in [
        vec![("action", "step"), ("step", "listen"), ("done", "true")],
        vec![("action", "contact"), ("channel", "call"), ("reached", "true"), ("note", "사과드렸습니다")],
        vec![("action", "note"), ("body", "환불 처리 중")],
        vec![("action", "status"), ("status", "in_progress")],
        vec![("action", "assign"), ("owner_id", mina.id.as_str())],
    ] {
        let token = csrf(http, &app, cookie, &case_path).await;
        let form: Vec<(&str, &str)> = action.into_iter().chain([("csrf", token.as_str())]).collect();
        let r =
            http.post(format!("{}{case_path}", app.base)).header("cookie", cookie).form(&form).send().await.unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "{form:?}: {}", r.text().await.unwrap());
    }

    let english = vocabulary("en");
    let italian = vocabulary("it");
    let english_only: BTreeSet<String> =
        english.difference(&italian).filter(|w| !ANY_LANGUAGE.contains(&w.as_str())).cloned().collect();
    let en_file =
        std::fs::read_to_string(format!("{}/../hark-core/locales/en.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let en_keys: std::collections::HashMap<String, String> = serde_json::from_str(&en_file).unwrap();
    let key_prefixes: BTreeSet<String> =
        en_keys.keys().filter_map(|k| k.split_once('.')).map(|(p, _)| p.to_owned()).collect();

    let month = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let compare = format!(
        "/dashboard/changes?before_from={}&before_to={}&after_from={}&after_to={}",
        month.saturating_sub(jiff::Span::new().days(60)),
        month.saturating_sub(jiff::Span::new().days(31)),
        month.saturating_sub(jiff::Span::new().days(30)),
        month
    );
    let mut failures = Vec::new();
    let mut pages_read = 0;
    for (email, role, (http, cookie)) in &people {
        let mut pages: Vec<(String, u16)> = ["overview", "segments", "themes", "agents", "changes", "responses"]
            .iter()
            .map(|p| (format!("/dashboard/{p}"), 200))
            .chain([
                (compare.clone(), 200),
                ("/dashboard/overview?granularity=day".into(), 200),
                ("/dashboard/segments?by=channel".into(), 200),
                ("/account".into(), 200),
                ("/admin/cases".into(), 200),
                ("/admin/cases?view=all".into(), 200),
                (case_path.clone(), 200),
                ("/admin/cases/no-such-case".into(), 404),
                ("/dashboard/no-such-page".into(), 404),
                // Filters at fault: each named, and what is wrong with it, in the reader's words.
                ("/dashboard/overview?from=2026-13-45&to=2026-01-01".into(), 422),
                ("/dashboard/segments?min_n=0".into(), 422),
                ("/dashboard/report".into(), 200),
                ("/dashboard/report?month=2026-13".into(), 422),
            ])
            .collect();
        if *role != Role::Agent {
            pages.push(("/dashboard/monitoring".into(), 200));
        } else {
            pages.push(("/dashboard/monitoring".into(), 403));
        }
        if *role == Role::Admin {
            let contact = detractor["contact_id"].as_str().unwrap();
            let admin = common::admin_pages(&survey, contact).into_iter().chain(["/dashboard/segments?by=team".into()]);
            pages.extend(admin.map(|p| (p, 200)));
        } else {
            // Refused: a page that says so in the reader's language.
            pages.push(("/admin/surveys".into(), 403));
        }
        for lang in LANGUAGES {
            // Chosen in the account, which then outranks the browser's language (English here).
            let token = csrf(http, &app, cookie, "/account").await;
            let saved = http
                .post(format!("{}/account/language", app.base))
                .header("cookie", cookie.as_str())
                .form(&[("csrf", token.as_str()), ("locale", lang)])
                .send()
                .await
                .unwrap();
            assert_eq!(saved.status(), reqwest::StatusCode::OK, "{email} chooses {lang}");
            for (page, status) in &pages {
                let r = http
                    .get(format!("{}{page}", app.base))
                    .header("cookie", cookie.as_str())
                    .header("accept-language", "en-US,en;q=0.9")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), *status, "{email} {lang} {page}");
                let html = r.text().await.unwrap();
                pages_read += 1;
                for problem in problems(lang, &html, &english_only, &key_prefixes) {
                    failures.push(format!("{email} · {lang} · {page}: {problem}"));
                }
            }
            if *role == Role::Agent {
                // A form the role may not send is refused on a page in the reader's language.
                let token = csrf(http, &app, cookie, "/account").await;
                let form = [("csrf", token.as_str()), ("date", "2026-01-01"), ("label", "출시")];
                let r = http.post(format!("{}/dashboard/annotations", app.base)).header("cookie", cookie.as_str());
                let r = r.form(&form).send().await.unwrap();
                assert_eq!(r.status(), reqwest::StatusCode::FORBIDDEN);
                let html = r.text().await.unwrap();
                pages_read += 1;
                for problem in problems(lang, &html, &english_only, &key_prefixes) {
                    failures.push(format!("{email} · {lang} · POST /dashboard/annotations: {problem}"));
                }
            }
            // A form left open across a new sign-in carries a stale token: refused, and said so.
            let stale = http.post(format!("{}/account/password", app.base)).header("cookie", cookie.as_str());
            let stale = stale.form(&[("csrf", "from-an-old-sign-in"), ("current", "x")]).send().await.unwrap();
            assert_eq!(stale.status(), reqwest::StatusCode::FORBIDDEN);
            let html = stale.text().await.unwrap();
            pages_read += 1;
            let sentence = locale_texts(lang).remove("problem.stale_form").unwrap();
            if !html.contains(&sentence.replace('\'', "&#x27;")) {
                failures.push(format!("{email} · {lang} · stale form: “{sentence}” not said"));
            }
            for problem in problems(lang, &html, &english_only, &key_prefixes) {
                failures.push(format!("{email} · {lang} · stale form: {problem}"));
            }
            if *role == Role::Admin {
                for (path, form, said) in mistakes(&case_path) {
                    let token = csrf(http, &app, cookie, &path).await;
                    let form: Vec<(&str, &str)> = form.into_iter().chain([("csrf", token.as_str())]).collect();
                    let r = http.post(format!("{}{path}", app.base)).header("cookie", cookie.as_str()).form(&form);
                    let r = r.send().await.unwrap();
                    assert_eq!(r.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{lang} {path} {form:?}");
                    let html = r.text().await.unwrap();
                    pages_read += 1;
                    for problem in problems(lang, &html, &english_only, &key_prefixes) {
                        failures.push(format!("{email} · {lang} · POST {path}: {problem}"));
                    }
                    let texts = locale_texts(lang);
                    for key in said {
                        // The sentence's words up to its first value.
                        let words = texts[key].split('{').next().unwrap().trim();
                        if !html.contains(&words.replace('\'', "&#x27;")) && !html.contains(words) {
                            failures.push(format!("{lang} · POST {path}: `{key}` (“{words}”) not said"));
                        }
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));
    assert!(pages_read > 200, "{pages_read} pages read");
}

/// Without a choice of their own, a person reads Hark in their browser's language, and the
/// sign-in page does the same; a language Hark does not have is refused by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_s_language_until_the_person_chooses() {
    let app = TestApp::start(hark_store::testing::Backend::Sqlite).await.unwrap();
    let login = app.client.get(format!("{}/login", app.base)).header("accept-language", "th-TH,th;q=0.9,en;q=0.5");
    let login = login.send().await.unwrap().text().await.unwrap();
    assert!(login.contains("<html lang=\"th\"") && login.contains("เข้าสู่ระบบ Hark"), "{login}");
    let (http, cookie) = app.user_session("lead@example.com", Role::TeamLead, None, None).await;
    let get = |lang: &'static str| {
        let request = http.get(format!("{}/admin/cases", app.base)).header("cookie", cookie.as_str());
        async move { request.header("accept-language", lang).send().await.unwrap().text().await.unwrap() }
    };
    assert!(get("ko-KR,ko;q=0.9").await.contains("<h1>케이스</h1>"));
    assert!(get("it-IT").await.contains("<h1>Casi</h1>"));
    assert!(get("fr-FR,fr;q=0.9").await.contains("<h1>Cases</h1>"), "a language Hark lacks: English");
    let choose = |locale: &'static str| {
        let (http, cookie, app) = (&http, &cookie, &app);
        async move {
            let token = csrf(http, app, cookie, "/account").await;
            let form = [("csrf", token.as_str()), ("locale", locale)];
            http.post(format!("{}/account/language", app.base))
                .header("cookie", cookie.as_str())
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    let refused = choose("fr").await;
    assert_eq!(refused.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("“fr”"));
    assert_eq!(app.store.list_users().await.unwrap()[0].locale, None, "nothing stored");
    assert_eq!(choose("it").await.status(), reqwest::StatusCode::OK);
    assert!(get("ko-KR").await.contains("<h1>Casi</h1>"), "the person's choice outranks the browser");
    assert_eq!(app.store.list_users().await.unwrap()[0].locale.as_deref(), Some("it"));
    assert_eq!(choose("").await.status(), reqwest::StatusCode::OK);
    assert!(get("ko-KR").await.contains("<h1>케이스</h1>"), "back to the browser's");
}

/// A case page shows the customer's extra answers as the survey asked them, in the reader's
/// language where the survey has it: the question's text and the chosen option's, never the
/// stored ids ("Improve: delivery"); a language the survey lacks reads the author's own words.
/// The shipped root causes are named in the reader's language.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_shows_the_extra_answers_as_the_survey_asked_them() {
    let app = TestApp::start(hark_store::testing::Backend::Sqlite).await.unwrap();
    let survey = app
        .survey(json!({"name": "Relationship NPS", "kind": "nps", "brand": "Acme",
            "questions": [
                {"id": "improve", "type": "single_choice", "text": "What should we improve first?",
                 "options": ["price", "delivery"]},
                {"id": "areas", "type": "multiple_choice", "text": "What went wrong?", "options": ["late", "damaged"]},
                {"id": "stars", "type": "rating", "text": "Rate the app"}],
            "translations": {"th": {"improve": "เราควรปรับปรุงเรื่องใดก่อน", "improve.0": "ราคา", "improve.1": "การจัดส่ง",
                "areas": "เกิดปัญหาอะไร", "areas.0": "ล่าช้า", "areas.1": "เสียหาย", "stars": "ให้คะแนนแอป"}},
            "playbooks": {"detractor": {"open_case": true}}}))
        .await;
    let contact = json!({"external_id": "t-1", "email": "t1@example.com"});
    let body = json!({"survey_id": survey, "score": 3, "comment": "Slow", "contact": contact,
        "answers": {"improve": "delivery", "areas": ["late", "damaged"], "stars": 2}});
    let r = app.post("/api/v1/responses").header("Idempotency-Key", "a").json(&body).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED, "{}", r.text().await.unwrap());
    let case = common::eventually(std::time::Duration::from_secs(20), || async {
        app.store.list_cases(&hark_store::CaseFilter::default(), 1).await.unwrap().pop()
    })
    .await;
    let (http, cookie) = app.user_session("admin@example.com", Role::Admin, None, None).await;
    let page = |lang: &'static str| {
        let request = http.get(format!("{}/admin/cases/{}", app.base, case.id)).header("cookie", cookie.as_str());
        async move { request.header("accept-language", lang).send().await.unwrap().text().await.unwrap() }
    };
    let thai = page("th").await;
    for shown in [
        "เราควรปรับปรุงเรื่องใดก่อน <strong>การจัดส่ง</strong>",
        "เกิดปัญหาอะไร <strong>ล่าช้า, เสียหาย</strong>",
        "ให้คะแนนแอป <strong>2/5</strong>",
    ] {
        assert!(thai.contains(shown), "{shown} in {thai}");
    }
    assert!(!thai.contains("Improve") && !thai.contains(">delivery<"), "no stored ids: {thai}");
    // The customer's history before the case leaves out the answer the case is about.
    assert!(thai.contains("ไม่มีรายการก่อนหน้า"), "nothing earlier: {thai}");
    // The shipped root causes, too, by their names in the reader's language.
    assert!(thai.contains("<option value=\"delivery\">การจัดส่ง</option>"), "{thai}");
    let order = ["เราควรปรับปรุงเรื่องใดก่อน", "เกิดปัญหาอะไร", "ให้คะแนนแอป"].map(|q| thai.find(q).unwrap());
    assert!(order.is_sorted(), "in the survey's order: {order:?}");
    let korean = page("ko").await;
    assert!(korean.contains("What should we improve first? <strong>delivery</strong>"), "the author's words: {korean}");
    // Responses, page and CSV alike: one cell, in the reader's language.
    let line = "เราควรปรับปรุงเรื่องใดก่อน: การจัดส่ง · เกิดปัญหาอะไร: ล่าช้า, เสียหาย · ให้คะแนนแอป: 2/5";
    let page = thai_page(&app, &http, &cookie, "/dashboard/responses").await;
    let csv = thai_page(&app, &http, &cookie, "/dashboard/responses.csv").await;
    assert!(page.contains("คำถามเพิ่มเติม") && page.contains(line), "{page}");
    assert!(csv.contains("extra_answers") && csv.contains(line), "{csv}");
    // The contact's timeline: the same line under the answer, and what each comment is about,
    // the feedback they left elsewhere too.
    let review = json!({"source": "review", "text": "The courier lost my parcel, terrible", "contact": contact});
    let r = app.post("/api/v1/feedback").header("Idempotency-Key", "r-1").json(&review).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let timeline = thai_page(&app, &http, &cookie, &format!("/admin/contacts/{}", case.contact_id.unwrap())).await;
    for shown in [line, "ความคิดเห็นพูดถึง: การรอและความเร็ว · ความรู้สึก: เชิงลบ", "ความคิดเห็นพูดถึง: การจัดส่ง · ความรู้สึก: เชิงลบ"]
    {
        assert!(timeline.contains(shown), "{shown} in {timeline}");
    }
}

/// The page at `path` as `cookie`'s session reads it in Thai.
async fn thai_page(app: &TestApp, http: &reqwest::Client, cookie: &str, path: &str) -> String {
    let request = http.get(format!("{}{path}", app.base)).header("cookie", cookie).header("accept-language", "th");
    request.send().await.unwrap().text().await.unwrap()
}
