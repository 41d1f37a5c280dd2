//! Survey mail: the scale inside the message as eleven signed links, text and HTML parts,
//! personal lines, `List-Unsubscribe`; and the SMTP transport that sends it.

use hark_core::i18n::fill;
use hark_core::survey::SurveyDefinition;
use hark_core::token::{Signer, TokenKind};
use hark_store::{Contact, Invitation};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// A composed survey mail, before it becomes a MIME message.
#[derive(Debug, Clone)]
pub struct SurveyMail {
    pub language: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The page that unsubscribes this contact (also in `List-Unsubscribe`).
    pub unsubscribe_url: String,
}

/// Writes the mail for one invitation in the contact's language.
pub fn compose_survey_mail(
    survey: &SurveyDefinition,
    invitation: &Invitation,
    contact: &Contact,
    agent_name: Option<&str>,
    signer: &Signer,
    public_url: &str,
    reminder: bool,
) -> SurveyMail {
    let language = survey.choose_language(contact.locale.as_deref());
    let t = survey.texts(&language);
    let token = signer.sign(TokenKind::Invitation, &invitation.id);
    let base = public_url.trim_end_matches('/');
    let score_url = |n: i64| format!("{base}/s/{token}?score={n}");
    let unsubscribe_url = format!("{base}/u/{token}");
    let subject = t.ui(if reminder { "email.reminder_subject" } else { "email.subject" }, &[]);
    let greeting = match contact.name.as_deref() {
        Some(name) => t.ui("email.greeting", &[("name", name)]),
        None => t.ui("email.greeting_anonymous", &[]),
    };
    let order = invitation.properties.get("order_id").or_else(|| invitation.properties.get("order")).map(|o| match o {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let mut lines = vec![greeting];
    if let Some(agent) = agent_name {
        lines.push(t.ui("email.agent", &[("agent", agent)]));
    }
    if let Some(order) = &order {
        lines.push(t.ui("email.order", &[("order", order)]));
    }
    let question = t.question();
    let (low, high) = t.scale_ends();
    let instruction = t.ui("email.instruction", &[]);
    let footer = t.ui("email.footer", &[]);
    let unsubscribe = t.ui("email.unsubscribe", &[]);
    let (min, max) = survey.kind.range();

    let mut text = lines.join("\n") + "\n\n" + &question + "\n" + &instruction + "\n\n";
    for n in min..=max {
        text += &format!("{n}: {}\n", score_url(n));
    }
    text += &format!("\n{min} = {low}, {max} = {high}\n\n{footer}\n{unsubscribe}: {unsubscribe_url}\n");

    let cells: String = (min..=max)
        .map(|n| {
            format!(
                "<td style=\"padding:2px\"><a href=\"{}\" style=\"display:block;min-width:36px;padding:10px 0;\
                 text-align:center;font:bold 16px sans-serif;color:#1d3557;background:#eef2f7;border:1px solid #c9d3e0;\
                 border-radius:6px;text-decoration:none\" aria-label=\"{}\">{n}</a></td>",
                esc(&score_url(n)),
                esc(&t.ui("score_of", &[("n", &n.to_string()), ("max", &max.to_string())]))
            )
        })
        .collect();
    let paragraphs: String = lines.iter().map(|l| format!("<p style=\"margin:0 0 12px\">{}</p>", esc(l))).collect();
    let html = fill(
        include_str!("survey_mail.html"),
        &[
            ("lang", &language),
            ("dir", t.locale.dir()),
            ("subject", &esc(&subject)),
            ("paragraphs", &paragraphs),
            ("question", &esc(&question)),
            ("instruction", &esc(&instruction)),
            ("cells", &cells),
            ("low", &esc(&low)),
            ("high", &esc(&high)),
            ("footer", &esc(&footer)),
            ("unsubscribe_url", &esc(&unsubscribe_url)),
            ("unsubscribe", &esc(&unsubscribe)),
        ],
    );
    SurveyMail { language, subject, text, html, unsubscribe_url }
}

/// `scheme://user:password@host…` with the password masked.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((user, host)) => {
            let user = user.split_once(':').map_or(user, |(u, _)| u);
            format!("{scheme}://{user}:***@{host}{}", &rest[authority_end..])
        }
        None => url.to_owned(),
    }
}

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Why a mail did not go out.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The server refused for good (unknown mailbox, policy): a bounce; do not retry.
    #[error("refused: {0}")]
    Permanent(String),
    /// Try again later (connection failed, server busy, 4xx).
    #[error("{0}")]
    Transient(String),
}

#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The server's URL without its password, for the mail setup page.
    server: String,
}

impl Mailer {
    /// `url`: `smtp://host:port` (plain), `smtp://host:587?tls=required` (STARTTLS) or
    /// `smtps://user:password@host:465` (TLS); `from`: `Name <address>` or an address.
    pub fn new(url: &str, from: &str) -> Result<Mailer, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("SMTP URL `{url}`: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        let from = from.parse().map_err(|e| format!("mail sender `{from}`: {e}"))?;
        Ok(Mailer { transport, from, server: without_password(url) })
    }

    /// The server in use (`smtps://user:***@host:465`) and the sender.
    pub fn describe(&self) -> (String, String) {
        (self.server.clone(), self.from.to_string())
    }

    /// A message from Hark to one person; a malformed address is a permanent failure.
    fn to(&self, to_name: Option<&str>, to: &str, subject: &str) -> Result<lettre::message::MessageBuilder, MailError> {
        let address = to.parse().map_err(|e| MailError::Permanent(format!("address {to}: {e}")))?;
        Ok(Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(to_name.map(str::to_owned), address))
            .subject(subject))
    }

    /// A plain-text mail (case notices, replies to customers, thank-yous); returns the mail
    /// server's answer (e.g. `250 2.0.0 OK queued as …`).
    pub async fn send_text(
        &self,
        to_name: Option<&str>,
        to: &str,
        subject: &str,
        text: &str,
    ) -> Result<String, MailError> {
        let message = self
            .to(to_name, to, subject)?
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(text.to_owned())
            .map_err(|e| MailError::Permanent(e.to_string()))?;
        self.deliver(message).await
    }

    /// A mail in text and HTML (a digest); the reader's program shows the one it can.
    pub async fn send_alternative(
        &self,
        to_name: Option<&str>,
        to: &str,
        subject: &str,
        text: &str,
        html: &str,
    ) -> Result<String, MailError> {
        let message = self
            .to(to_name, to, subject)?
            .multipart(MultiPart::alternative_plain_html(text.to_owned(), html.to_owned()))
            .map_err(|e| MailError::Permanent(e.to_string()))?;
        self.deliver(message).await
    }

    async fn deliver(&self, message: Message) -> Result<String, MailError> {
        match self.transport.send(message).await {
            Ok(r) => Ok(format!("{} {}", r.code(), r.message().collect::<Vec<_>>().join(" ")).trim().to_owned()),
            Err(e) if e.is_permanent() => Err(MailError::Permanent(e.to_string())),
            Err(e) => Err(MailError::Transient(e.to_string())),
        }
    }

    pub async fn send_survey(&self, to_name: Option<&str>, to: &str, mail: &SurveyMail) -> Result<(), MailError> {
        let message = self
            .to(to_name, to, &mail.subject)?
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{}>", mail.unsubscribe_url),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ))
            .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
            .map_err(|e| MailError::Permanent(e.to_string()))?;
        self.deliver(message).await.map(drop)
    }
}
