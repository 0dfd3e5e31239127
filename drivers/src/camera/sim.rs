//! An IP camera on loopback HTTP: `/snapshot.jpg` (one JPEG) and `/stream.mjpg`
//! (`multipart/x-mixed-replace`), from pictures the program gives it, with faults to inject:
//! stop serving, cut-off JPEGs, a boundary that does not match the header, basic auth.

use super::encode_jpeg;
use crate::health::{DriverError, Result};
use image::RgbImage;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// The boundary the simulator announces in its Content-Type.
pub const BOUNDARY: &str = "gatehouseframe";

#[derive(Debug)]
struct State {
    jpegs: Vec<Vec<u8>>,
    fps: u32,
    truncate_every: u64,
    wrong_boundary: bool,
    auth: Option<String>,
    requests: Vec<String>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    served: AtomicU64,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A simulated IP camera. Stops serving when dropped.
pub struct CameraSim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: Option<JoinHandle<()>>,
}

impl CameraSim {
    /// Serves `frames` (cycled, at least one) on `127.0.0.1:0`, the stream at `fps` frames a second.
    pub async fn start(frames: &[RgbImage], fps: u32) -> Result<CameraSim> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                jpegs: Vec::new(),
                fps: fps.max(1),
                truncate_every: 0,
                wrong_boundary: false,
                auth: None,
                requests: Vec::new(),
            }),
            served: AtomicU64::new(0),
        });
        let mut sim = CameraSim {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            shared,
            server: None,
        };
        sim.set_frames(frames)?;
        sim.restart().await?;
        Ok(sim)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn snapshot_url(&self) -> String {
        format!("http://{}/snapshot.jpg", self.addr)
    }

    pub fn stream_url(&self) -> String {
        format!("http://{}/stream.mjpg", self.addr)
    }

    /// The pictures to serve from now on, in order, cycled.
    pub fn set_frames(&self, frames: &[RgbImage]) -> Result<()> {
        if frames.is_empty() {
            return Err(DriverError::config(
                "the camera simulator needs at least one frame",
            ));
        }
        let jpegs = frames
            .iter()
            .map(|f| encode_jpeg(f, 90))
            .collect::<Result<Vec<_>>>()?;
        self.set_jpegs(jpegs)
    }

    /// The pictures to serve from now on, already JPEG-encoded, in order, cycled.
    pub fn set_jpegs(&self, jpegs: Vec<Vec<u8>>) -> Result<()> {
        if jpegs.is_empty() {
            return Err(DriverError::config(
                "the camera simulator needs at least one frame",
            ));
        }
        self.shared.state().jpegs = jpegs;
        Ok(())
    }

    /// Frames a second for streams opened from now on.
    pub fn set_fps(&self, fps: u32) {
        self.shared.state().fps = fps.max(1);
    }

    /// Cuts every `n`-th JPEG served in half (0: never, 1: all).
    pub fn truncate_every(&self, n: u64) {
        self.shared.state().truncate_every = n;
    }

    /// Announces [`BOUNDARY`] in the header but separates the parts with another one.
    pub fn set_wrong_boundary(&self, on: bool) {
        self.shared.state().wrong_boundary = on;
    }

    /// Requires basic auth with this user and password (401 otherwise).
    pub fn require_auth(&self, user: &str, password: &str) {
        let token = super::http::base64(format!("{user}:{password}").as_bytes());
        self.shared.state().auth = Some(format!("Basic {token}"));
    }

    /// The request lines received so far (`GET /snapshot.jpg HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        self.shared.state().requests.clone()
    }

    /// JPEGs served so far (snapshots and stream parts, cut-off ones included).
    pub fn served(&self) -> u64 {
        self.shared.served.load(Ordering::Relaxed)
    }

    /// Stops serving: closes the listening socket and every open connection.
    pub fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.abort();
        }
    }

    /// Stops serving and returns once the listener and every connection are closed (`stop`
    /// takes effect a moment later, when the runtime next polls the server task).
    pub async fn shut_down(&mut self) {
        if let Some(s) = self.server.take() {
            s.abort();
            let _ = s.await;
        }
    }

    /// Serves again on the same address (or a new one on the first start).
    pub async fn restart(&mut self) -> Result<()> {
        self.stop();
        // The aborted server task drops its listener when it is next polled; retry briefly.
        let mut last = None;
        for _ in 0..50 {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => {
                    self.addr = listener
                        .local_addr()
                        .map_err(|e| DriverError::io(format!("camera simulator: {e}")))?;
                    self.server = Some(tokio::spawn(serve(listener, self.shared.clone())));
                    return Ok(());
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(DriverError::io(format!(
            "camera simulator cannot listen on {}: {}",
            self.addr,
            last.map_or_else(String::new, |e| e.to_string())
        )))
    }
}

impl Drop for CameraSim {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    // Dropping this set (when the server task is aborted) closes every connection.
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            a = listener.accept() => match a {
                Ok((sock, _)) => {
                    conns.spawn(connection(sock, shared.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "camera simulator accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// The next JPEG to serve, cut in half if a fault says so.
fn next_jpeg(shared: &Shared, index: usize) -> Vec<u8> {
    let n = shared.served.fetch_add(1, Ordering::Relaxed) + 1;
    let st = shared.state();
    let jpeg = &st.jpegs[index % st.jpegs.len()];
    if st.truncate_every > 0 && n.is_multiple_of(st.truncate_every) {
        jpeg[..jpeg.len() / 2].to_vec()
    } else {
        jpeg.clone()
    }
}

async fn connection(sock: TcpStream, shared: Arc<Shared>) {
    if let Err(e) = handle(sock, &shared).await {
        tracing::debug!(error = %e, "camera simulator connection ended");
    }
}

async fn handle(sock: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let mut r = BufReader::new(sock);
    let mut request_line = String::new();
    let mut authorization = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = tokio::time::timeout(
            Duration::from_secs(5),
            (&mut r).take(8192).read_until(b'\n', &mut line),
        )
        .await
        .map_err(|_| std::io::Error::other("request timed out"))??;
        if n == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        if text.is_empty() {
            break;
        }
        if request_line.is_empty() {
            request_line = text;
        } else if let Some((k, v)) = text.split_once(':')
            && k.trim().eq_ignore_ascii_case("authorization")
        {
            authorization = Some(v.trim().to_string());
        }
    }
    let (auth_ok, fps, wrong_boundary) = {
        let mut st = shared.state();
        st.requests.push(request_line.clone());
        (
            st.auth.is_none() || st.auth == authorization,
            st.fps,
            st.wrong_boundary,
        )
    };
    let mut w = r.into_inner();
    let path = request_line.split(' ').nth(1).unwrap_or("");
    if !auth_ok {
        w.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"camera\"\r\n\
              Content-Length: 0\r\nConnection: close\r\n\r\n",
        )
        .await?;
        return Ok(());
    }
    match path {
        "/snapshot.jpg" => {
            let jpeg = next_jpeg(shared, 0);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                jpeg.len()
            );
            w.write_all(head.as_bytes()).await?;
            w.write_all(&jpeg).await?;
        }
        "/stream.mjpg" => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary={BOUNDARY}\r\n\
                 Cache-Control: no-cache\r\nConnection: close\r\n\r\n"
            );
            w.write_all(head.as_bytes()).await?;
            let boundary = if wrong_boundary {
                "otherboundary"
            } else {
                BOUNDARY
            };
            let mut interval = tokio::time::interval(Duration::from_secs(1) / fps);
            for i in 0.. {
                interval.tick().await;
                let jpeg = next_jpeg(shared, i);
                let part = format!(
                    "--{boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
                    jpeg.len()
                );
                w.write_all(part.as_bytes()).await?;
                w.write_all(&jpeg).await?;
                w.write_all(b"\r\n").await?;
            }
        }
        _ => {
            w.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .await?;
        }
    }
    w.shutdown().await
}
