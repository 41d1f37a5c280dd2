//! For tests: a real SMTP server process on loopback (Python's `aiosmtpd`, writing a
//! Maildir) and the messages it received, parsed. It refuses every recipient whose address
//! starts with `bounce` (550), as a mail server refuses an unknown mailbox.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const HANDLER: &str = r#"
from aiosmtpd.handlers import Mailbox

class Handler(Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("bounce"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"
"#;

/// Starts a server process on a free loopback port and returns it with that port once
/// `answers` recognises it there (on a connection that times out reads after a second).
///
/// A port found free is free only until the server binds it, and tests start several servers
/// at once (another test's web server, a browser driver): when another process takes the
/// port first, the server exits, and waiting for "something accepts connections" would hand
/// the test that other process, to which a mail sent would never arrive. So the server must
/// answer as itself, and one that exits is started again on another port.
pub fn serve_on_free_port(
    what: &str,
    spawn: impl Fn(u16) -> Child,
    answers: impl Fn(&mut TcpStream) -> bool,
) -> (Child, u16) {
    for _ in 0..5 {
        let port = TcpListener::bind("127.0.0.1:0").expect("a loopback port").local_addr().unwrap().port();
        let mut child = spawn(port);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if child.try_wait().expect("the server process").is_some() {
                break;
            }
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
                stream.set_read_timeout(Some(Duration::from_secs(1))).expect("a read timeout");
                if answers(&mut stream) {
                    return (child, port);
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("{what} did not start on a free loopback port in five tries");
}

/// Whether what answers on `stream` is an SMTP server: one speaks first, with its greeting
/// (220), which tells it from whatever else may listen on a port.
pub fn greets_as_smtp(stream: &mut TcpStream) -> bool {
    let mut greeting = [0; 4];
    stream.read_exact(&mut greeting).is_ok() && greeting.starts_with(b"220")
}

pub struct SmtpServer {
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

/// One received message.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Raw header values by lower-case name.
    pub headers: Vec<(String, String)>,
}

impl ReceivedMail {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
    }
}

impl SmtpServer {
    /// Starts `python3 -m aiosmtpd` on a free loopback port. Panics with what to install
    /// when it cannot start.
    pub fn start() -> SmtpServer {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("maildir");
        }
        std::fs::write(dir.path().join("hark_test_smtp.py"), HANDLER).expect("handler module");
        let spawn = |port: u16| {
            Command::new("python3")
                .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "hark_test_smtp.Handler"])
                .arg(dir.path())
                .env("PYTHONPATH", dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("python3 runs (the SMTP test server is `pip install aiosmtpd`)")
        };
        let (child, port) = serve_on_free_port("aiosmtpd (`pip install aiosmtpd`)", spawn, greets_as_smtp);
        SmtpServer { port, child, dir }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("new"))
            .map(|d| d.filter_map(|e| Some(e.ok()?.path())).collect())
            .unwrap_or_default();
        files.sort();
        files
    }

    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.files()
            .iter()
            .filter_map(|f| {
                let raw = std::fs::read(f).ok()?;
                let m = mail_parser::MessageParser::default().parse(&raw)?;
                let to = m.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned();
                Some(ReceivedMail {
                    to,
                    subject: m.subject().unwrap_or_default().to_owned(),
                    text: m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
                    html: m.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
                    headers: m
                        .headers_raw()
                        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
                        .collect(),
                })
            })
            .collect()
    }

    /// Waits until at least `n` messages arrived (or `timeout` passes) and returns them all.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        wait_until(timeout, || self.files().len() >= n).await;
        self.messages()
    }

    /// Waits until a message to `to` arrived (or `timeout` passes) and returns the first.
    pub async fn wait_for_mail_to(&self, to: &str, timeout: Duration) -> Option<ReceivedMail> {
        let to_them = || self.messages().into_iter().find(|m| m.to == to);
        wait_until(timeout, || to_them().is_some()).await;
        to_them()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `done` every 50 ms until it holds or `timeout` passes.
async fn wait_until(timeout: Duration, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() && start.elapsed() < timeout {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
