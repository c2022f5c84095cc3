//! A real SMTP server for the tests: it speaks the protocol over TCP (RFC 5321: greeting, EHLO,
//! MAIL, RCPT, DATA, QUIT) and keeps what it accepts. A message counts as delivered only when the
//! sink answers 250 to its end of data, as with any relay; `hold` makes it wait before that answer
//! (to kill the sender mid-delivery).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body as sent (dot-unstuffed, CRLF line ends).
    pub data: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = value.as_mut() {
                if line.starts_with([' ', '\t']) {
                    v.push_str(line.trim_start());
                    continue;
                }
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case(name) {
                    value = Some(v.trim().to_string());
                }
            }
        }
        value
    }

    /// The body, with quoted-printable soft line breaks and escapes undone when used.
    pub fn body(&self) -> String {
        let body = self.data.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
        let qp = self
            .header("Content-Transfer-Encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("quoted-printable"));
        if !qp {
            return body.replace("\r\n", "\n");
        }
        let joined = body.replace("=\r\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' && i + 2 < bytes.len() {
                if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                    out.push(b);
                    i += 3;
                    continue;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).replace("\r\n", "\n")
    }
}

/// The sink: its port, what it accepted, and its switches.
#[derive(Debug, Clone)]
pub struct Sink {
    pub port: u16,
    pub messages: Arc<Mutex<Vec<Received>>>,
    pub hold: Arc<AtomicBool>,
    /// Set when a message is waiting for its 250 under `hold`.
    pub holding: Arc<AtomicBool>,
}

impl Sink {
    /// Listens on a free port.
    pub fn start() -> Sink {
        Sink::start_on(0).expect("cannot listen")
    }

    /// Listens on `port` (0: any free one); fails if the port is taken.
    pub fn start_on(port: u16) -> std::io::Result<Sink> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let sink = Sink {
            port: listener.local_addr()?.port(),
            messages: Arc::new(Mutex::new(Vec::new())),
            hold: Arc::new(AtomicBool::new(false)),
            holding: Arc::new(AtomicBool::new(false)),
        };
        let s = sink.clone();
        std::thread::spawn(move || loop {
            match listener.accept() {
                Ok((stream, _)) => {
                    let s = s.clone();
                    std::thread::spawn(move || {
                        let _ = s.session(stream);
                    });
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        });
        Ok(sink)
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.messages.lock().unwrap().clone()
    }

    /// Waits until at least `n` messages were accepted; returns them.
    pub fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.received();
            if got.len() >= n || Instant::now() > end {
                return got;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn session(&self, stream: TcpStream) -> std::io::Result<()> {
        stream.set_nonblocking(false)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let mut out = stream.try_clone()?;
        let mut input = BufReader::new(stream);
        out.write_all(b"220 sink.test ESMTP minewatch test sink\r\n")?;
        let mut from = String::new();
        let mut to = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if input.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let cmd = line.trim_end().to_string();
            let upper = cmd.to_ascii_uppercase();
            if upper.starts_with("EHLO") {
                out.write_all(b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")?;
            } else if upper.starts_with("HELO") {
                out.write_all(b"250 sink.test\r\n")?;
            } else if upper.starts_with("MAIL FROM:") {
                from = cmd[10..].trim().trim_matches(['<', '>']).to_string();
                to.clear();
                out.write_all(b"250 OK\r\n")?;
            } else if upper.starts_with("RCPT TO:") {
                to.push(cmd[8..].trim().trim_matches(['<', '>']).to_string());
                out.write_all(b"250 OK\r\n")?;
            } else if upper == "DATA" {
                out.write_all(b"354 go ahead\r\n")?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if input.read_line(&mut line)? == 0 {
                        return Ok(()); // the sender went away: nothing was delivered
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let l = line.strip_prefix('.').unwrap_or(&line);
                    data.push_str(l);
                }
                while self.hold.load(Ordering::SeqCst) {
                    self.holding.store(true, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                }
                self.holding.store(false, Ordering::SeqCst);
                // The message is delivered when the sender hears our 250. A sender killed
                // while we held has closed its socket (a read sees end of file): it never
                // learns of the delivery, so the message is not kept (it will be sent again).
                input.get_ref().set_nonblocking(true)?;
                let mut probe = [0u8; 1];
                let gone = matches!(std::io::Read::read(input.get_mut(), &mut probe), Ok(0));
                input.get_ref().set_nonblocking(false)?;
                if gone {
                    return Ok(());
                }
                out.write_all(b"250 OK queued\r\n")?;
                self.messages.lock().unwrap().push(Received {
                    from: from.clone(),
                    to: to.clone(),
                    data,
                });
            } else if upper == "QUIT" {
                out.write_all(b"221 bye\r\n")?;
                return Ok(());
            } else if upper == "RSET" || upper == "NOOP" {
                out.write_all(b"250 OK\r\n")?;
            } else {
                out.write_all(b"502 not implemented\r\n")?;
            }
        }
    }
}
