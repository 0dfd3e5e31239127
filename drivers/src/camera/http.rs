//! Just enough HTTP/1.1 to fetch a camera's snapshot or open its MJPEG stream: `http://` only,
//! GET, optional basic auth, Content-Length, chunked or read-to-close bodies, size limits.

use crate::health::{DriverError, Result, within};
use std::fmt;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The longest status or header line we accept.
const MAX_LINE: u64 = 8 * 1024;
const MAX_HEADERS: usize = 64;

/// A camera address: `http://[user:password@]host[:port]/path`.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpUrl {
    pub host: String,
    pub port: u16,
    /// Starts with `/`; includes the query.
    pub path: String,
    pub auth: Option<(String, String)>,
}

impl fmt::Display for HttpUrl {
    /// The address without the password, for logs and health reasons.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(f, "http://{host}:{}{}", self.port, self.path)
    }
}

impl fmt::Debug for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl HttpUrl {
    pub fn parse(url: &str) -> Result<HttpUrl> {
        let bad = |why: &str| {
            DriverError::config(format!(
                "camera url {url:?} {why}; write it as http://[user:password@]host[:port]/path"
            ))
        };
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| bad("is not http:// (https is not supported)"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (auth, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hp)) => {
                let (u, p) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                (Some((percent_decode(u), percent_decode(p))), hp)
            }
            None => (None, authority),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("has an unclosed '['"))?;
            (h, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        let port = match port {
            Some(p) => p.parse().map_err(|_| bad("has a bad port"))?,
            None => 80,
        };
        if host.is_empty() || path.contains([' ', '\r', '\n']) {
            return Err(bad("has no host or a path with spaces"));
        }
        Ok(HttpUrl {
            host: host.to_string(),
            port,
            path: path.to_string(),
            auth,
        })
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Base64 (standard alphabet, padded), for the basic auth header.
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(c.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(c.get(2).copied().unwrap_or(0));
        for (k, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if k <= c.len() {
                out.push(A[(n >> shift) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A response's status line and headers.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
}

impl Response {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Ok for 200; otherwise an error that says what to check.
    pub fn check(&self, url: &HttpUrl) -> Result<()> {
        match self.status {
            200 => Ok(()),
            401 | 403 => Err(DriverError::config(format!(
                "camera {url} refused access ({} {}); check the user and password in the url",
                self.status, self.reason
            ))),
            404 => Err(DriverError::config(format!(
                "camera {url} has no such path (404); check the snapshot or stream path"
            ))),
            s => Err(DriverError::device(format!(
                "camera {url} answered {s} {}",
                self.reason
            ))),
        }
    }
}

/// An open connection after the headers, ready to read the body.
pub type Body = BufReader<TcpStream>;

/// Sends the GET and reads the status line and headers, all within `timeout`.
pub async fn request(url: &HttpUrl, timeout: Duration) -> Result<(Response, Body)> {
    within(timeout, &format!("camera {url}"), async {
        let stream = TcpStream::connect((url.host.as_str(), url.port))
            .await
            .map_err(|e| {
                DriverError::io(format!(
                    "cannot connect to camera {url}: {e}; check its address and network cable"
                ))
            })?;
        let _ = stream.set_nodelay(true);
        let mut r = BufReader::new(stream);
        let host = if url.host.contains(':') {
            format!("[{}]:{}", url.host, url.port)
        } else {
            format!("{}:{}", url.host, url.port)
        };
        let mut req = format!(
            "GET {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: gatehouse\r\n\
             Accept: image/jpeg, multipart/x-mixed-replace, */*\r\nConnection: close\r\n",
            url.path
        );
        if let Some((user, pass)) = &url.auth {
            let token = base64(format!("{user}:{pass}").as_bytes());
            req.push_str(&format!("Authorization: Basic {token}\r\n"));
        }
        req.push_str("\r\n");
        let io = |e: std::io::Error| DriverError::io(format!("camera {url}: {e}"));
        r.get_mut().write_all(req.as_bytes()).await.map_err(io)?;

        let status_line = read_line(&mut r, url).await?;
        let mut parts = status_line.splitn(3, ' ');
        let (version, code) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let status = match (version.starts_with("HTTP/1."), code.parse::<u16>()) {
            (true, Ok(s)) => s,
            _ => {
                return Err(DriverError::protocol(format!(
                    "camera {url} did not answer HTTP: {:?}",
                    truncate(&status_line)
                )));
            }
        };
        let reason = parts.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        loop {
            let line = read_line(&mut r, url).await?;
            if line.is_empty() {
                break;
            }
            if headers.len() >= MAX_HEADERS {
                return Err(DriverError::protocol(format!(
                    "camera {url} sent more than {MAX_HEADERS} headers"
                )));
            }
            match line.split_once(':') {
                Some((n, v)) => headers.push((n.trim().to_string(), v.trim().to_string())),
                None => {
                    tracing::warn!(%url, line = truncate(&line), "header line without ':' skipped")
                }
            }
        }
        Ok((
            Response {
                status,
                reason,
                headers,
            },
            r,
        ))
    })
    .await
}

fn truncate(s: &str) -> &str {
    let mut end = s.len().min(80);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

async fn read_line(r: &mut Body, url: &HttpUrl) -> Result<String> {
    let mut buf = Vec::new();
    let n = (&mut *r)
        .take(MAX_LINE)
        .read_until(b'\n', &mut buf)
        .await
        .map_err(|e| DriverError::io(format!("camera {url}: {e}")))?;
    if n == 0 {
        return Err(DriverError::io(format!(
            "camera {url} closed the connection before the headers were complete"
        )));
    }
    if !buf.ends_with(b"\n") {
        return Err(DriverError::protocol(format!(
            "camera {url} sent a header line longer than {MAX_LINE} bytes or cut it off"
        )));
    }
    while buf.last().is_some_and(|c| *c == b'\n' || *c == b'\r') {
        buf.pop();
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// GETs `url` and returns its body (status 200 only), all within `timeout` and at most `limit`
/// bytes.
pub async fn get(url: &HttpUrl, timeout: Duration, limit: usize) -> Result<Vec<u8>> {
    within(timeout, &format!("camera {url}"), async {
        let (resp, mut r) = request(url, timeout).await?;
        resp.check(url)?;
        let too_big = |n: usize| {
            DriverError::protocol(format!(
                "camera {url} sent {n} bytes or more, over the limit of {limit}"
            ))
        };
        let io = |e: std::io::Error| DriverError::io(format!("camera {url}: body: {e}"));
        let chunked = resp
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let mut body = Vec::new();
        if chunked {
            loop {
                let line = read_line(&mut r, url).await?;
                let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                    .map_err(|_| {
                    DriverError::protocol(format!("camera {url}: bad chunk size {line:?}"))
                })?;
                if size == 0 {
                    break;
                }
                if body.len() + size > limit {
                    return Err(too_big(body.len() + size));
                }
                let start = body.len();
                body.resize(start + size, 0);
                r.read_exact(&mut body[start..]).await.map_err(io)?;
                read_line(&mut r, url).await?;
            }
        } else if let Some(len) = resp.header("content-length") {
            let len: usize = len.parse().map_err(|_| {
                DriverError::protocol(format!("camera {url}: bad Content-Length {len:?}"))
            })?;
            if len > limit {
                return Err(too_big(len));
            }
            body.resize(len, 0);
            r.read_exact(&mut body).await.map_err(|e| {
                DriverError::protocol(format!(
                    "camera {url} sent less than its Content-Length of {len}: {e}"
                ))
            })?;
        } else {
            let n = (&mut r)
                .take(limit as u64 + 1)
                .read_to_end(&mut body)
                .await
                .map_err(io)?;
            if n > limit {
                return Err(too_big(n));
            }
        }
        Ok(body)
    })
    .await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn urls_parse_with_auth_port_and_path() {
        let u = HttpUrl::parse("http://admin:p%40ss@10.0.0.7:8080/cgi/snap.jpg?ch=1").unwrap();
        assert_eq!(u.host, "10.0.0.7");
        assert_eq!(u.port, 8080);
        assert_eq!(u.path, "/cgi/snap.jpg?ch=1");
        assert_eq!(u.auth, Some(("admin".into(), "p@ss".into())));
        assert_eq!(u.to_string(), "http://10.0.0.7:8080/cgi/snap.jpg?ch=1");
        let u = HttpUrl::parse("http://[::1]/").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 80));
        assert!(HttpUrl::parse("https://cam/").is_err());
        assert!(HttpUrl::parse("http://cam:99999/").is_err());
    }

    #[test]
    fn base64_matches_rfc4648() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
        assert_eq!(
            base64(b"Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }
}
