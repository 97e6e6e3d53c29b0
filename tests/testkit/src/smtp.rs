//! A real SMTP server on 127.0.0.1 for tests: it speaks enough of RFC 5321 for lettre (EHLO,
//! MAIL, RCPT, DATA, RSET, NOOP, QUIT) and keeps what it receives. Switch it to refusing, and
//! every message gets a `451` after its data, as a failing mail server answers.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};

/// One received message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and MIME body), dot-unstuffed.
    pub data: String,
}

impl Mail {
    /// The message with quoted-printable soft breaks and `=XX` escapes decoded: enough to read
    /// the text part of what lettre sends.
    pub fn decoded(&self) -> String {
        decode_quoted_printable(&self.data)
    }

    /// The `Subject:` header.
    pub fn subject(&self) -> String {
        self.data.lines().find_map(|l| l.strip_prefix("Subject: ")).unwrap_or_default().to_owned()
    }
}

#[derive(Clone)]
pub struct SmtpServer {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
    refusing: Arc<AtomicBool>,
    offered: Arc<AtomicUsize>,
}

impl SmtpServer {
    /// Listens on a free port of 127.0.0.1 until the test's runtime ends.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds port 0");
        let server = Self {
            port: listener.local_addr().expect("bound").port(),
            mails: Arc::default(),
            refusing: Arc::default(),
            offered: Arc::default(),
        };
        let shared = server.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(shared.clone().session(socket));
            }
        });
        server
    }

    /// The `SMTP_URL` that reaches it (no TLS: it is loopback).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// From now on, answer every message with `451` (or accept again).
    pub fn refuse(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }

    /// Messages accepted so far.
    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().expect("mail lock").clone()
    }

    /// Messages accepted for `address`.
    pub fn mails_to(&self, address: &str) -> Vec<Mail> {
        self.mails().into_iter().filter(|m| m.to.iter().any(|t| t == address)).collect()
    }

    /// Messages offered, accepted or refused: each delivery attempt counts once.
    pub fn offered(&self) -> usize {
        self.offered.load(Ordering::SeqCst)
    }

    async fn session(self, socket: tokio::net::TcpStream) {
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        let reply = |text: &'static str| format!("{text}\r\n");
        let _ = write.write_all(reply("220 127.0.0.1 ESMTP tessera-test").as_bytes()).await;
        let (mut from, mut to) = (String::new(), Vec::new());
        while let Ok(Some(line)) = lines.next_line().await {
            let upper = line.to_ascii_uppercase();
            let answer = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                "250-127.0.0.1\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n".to_owned()
            } else if upper.starts_with("MAIL FROM:") {
                from = address(&line);
                reply("250 2.1.0 OK")
            } else if upper.starts_with("RCPT TO:") {
                to.push(address(&line));
                reply("250 2.1.5 OK")
            } else if upper == "DATA" {
                let _ = write.write_all(reply("354 end with <CRLF>.<CRLF>").as_bytes()).await;
                let mut data = String::new();
                while let Ok(Some(l)) = lines.next_line().await {
                    if l == "." {
                        break;
                    }
                    data.push_str(l.strip_prefix('.').unwrap_or(&l));
                    data.push_str("\r\n");
                }
                self.offered.fetch_add(1, Ordering::SeqCst);
                if self.refusing.load(Ordering::SeqCst) {
                    reply("451 4.3.0 mailbox unavailable, try again later")
                } else {
                    let mail = Mail { from: std::mem::take(&mut from), to: std::mem::take(&mut to), data };
                    self.mails.lock().expect("mail lock").push(mail);
                    reply("250 2.0.0 queued")
                }
            } else if upper == "RSET" {
                (from, to) = (String::new(), Vec::new());
                reply("250 2.0.0 OK")
            } else if upper == "NOOP" {
                reply("250 2.0.0 OK")
            } else if upper == "QUIT" {
                let _ = write.write_all(reply("221 2.0.0 bye").as_bytes()).await;
                return;
            } else {
                reply("502 5.5.2 command not recognized")
            };
            if write.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
        }
    }
}

/// The address between `<` and `>` of a MAIL or RCPT line.
fn address(line: &str) -> String {
    line.split('<').nth(1).and_then(|r| r.split('>').next()).unwrap_or_default().to_owned()
}

/// Undoes quoted-printable (soft line breaks and `=XX` escapes) over a whole message: enough to
/// read the text part of what lettre sends, in a test.
pub fn decode_quoted_printable(data: &str) -> String {
    let joined = data.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
