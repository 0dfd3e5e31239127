//! Cameras at the lane (for plate reading and evidence pictures): IP cameras by HTTP JPEG
//! snapshot ([`SnapshotCamera`]) or MJPEG stream ([`MjpegCamera`]), both over a small HTTP/1.1
//! client of our own ([`http`]), and USB cameras through V4L2 ([`usb::UsbCamera`], feature
//! `camera-usb`, on by default: the `nokhwa` crate's native backend, whose bindings need
//! libclang at build time). All of them give decoded RGB frames with the time they were taken.
//!
//! The USB camera is tested here only as far as a machine without a camera allows: device names,
//! format choice, frame decoding and time stamps, and a missing or wrong device (offline, with
//! the reason). Capturing from a real camera is checked by hand with
//! `gatehouse device camera --usb /dev/video0 --out frame.jpg`.

use crate::health::{DriverError, ErrorKind, Health, HealthState, HealthWatch, Result, within};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use image::RgbImage;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::sync::watch;

pub mod http;
pub mod mjpeg;
pub mod sim;
#[cfg(feature = "camera-usb")]
pub mod usb;

pub use http::HttpUrl;
pub use mjpeg::{MjpegSplitter, is_complete_jpeg};
#[cfg(feature = "camera-usb")]
pub use usb::{UsbCamera, UsbConfig};

/// One picture from a camera.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub image: RgbImage,
    /// When it arrived.
    pub at: DateTime<Utc>,
    pub width: u32,
    pub height: u32,
}

impl Frame {
    pub fn new(image: RgbImage, at: DateTime<Utc>) -> Frame {
        Frame {
            width: image.width(),
            height: image.height(),
            image,
            at,
        }
    }
}

/// A camera: the latest picture, and whether it is working.
#[async_trait]
pub trait Camera: Send + Sync {
    /// The latest frame, waiting up to the camera's timeout for a fresh one.
    async fn frame(&self) -> Result<Frame>;
    fn health(&self) -> Health;
}

/// Decodes one JPEG; a cut-off or broken JPEG, or one larger than 8192 px a side, is an error.
pub fn decode_jpeg(bytes: &[u8]) -> Result<RgbImage> {
    if !is_complete_jpeg(bytes) {
        return Err(DriverError::protocol(format!(
            "JPEG of {} bytes is cut off or broken",
            bytes.len()
        )));
    }
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(bytes), image::ImageFormat::Jpeg);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(8192);
    limits.max_image_height = Some(8192);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    reader
        .decode()
        .map(|i| i.to_rgb8())
        .map_err(|e| DriverError::protocol(format!("JPEG cannot be decoded: {e}")))
}

/// Decodes off the async threads (a 1080p picture takes a few milliseconds).
async fn decode_blocking(bytes: Vec<u8>) -> Result<RgbImage> {
    tokio::task::spawn_blocking(move || decode_jpeg(&bytes))
        .await
        .unwrap_or_else(|e| Err(DriverError::protocol(format!("JPEG decoder failed: {e}"))))
}

/// Encodes a picture as JPEG (for simulators and evidence files).
pub fn encode_jpeg(image: &RgbImage, quality: u8) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
        .encode_image(image)
        .map_err(|e| DriverError::protocol(format!("cannot encode JPEG: {e}")))?;
    Ok(out)
}

fn offline_or_degraded(health: &HealthWatch, e: &DriverError) {
    let state = match e.kind {
        ErrorKind::Protocol => HealthState::Degraded,
        _ => HealthState::Offline,
    };
    health.set(state, e.message.clone());
}

/// An IP camera's JPEG snapshot url, fetched on every [`Camera::frame`].
pub struct SnapshotCamera {
    url: HttpUrl,
    timeout: Duration,
    limit: usize,
    health: HealthWatch,
}

impl SnapshotCamera {
    /// `url` like `http://user:pass@10.0.0.7/snapshot.jpg`; 3 s timeout, 8 MiB limit.
    pub fn new(url: &str) -> Result<SnapshotCamera> {
        let url = HttpUrl::parse(url)?;
        Ok(SnapshotCamera {
            health: HealthWatch::new(format!("camera {url} not asked yet")),
            url,
            timeout: Duration::from_secs(3),
            limit: mjpeg::MAX_FRAME,
        })
    }

    /// The whole request (connect, headers, body) must finish within `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> SnapshotCamera {
        self.timeout = timeout;
        self
    }

    pub fn health_changes(&self) -> watch::Receiver<Health> {
        self.health.subscribe()
    }
}

#[async_trait]
impl Camera for SnapshotCamera {
    async fn frame(&self) -> Result<Frame> {
        let r = async {
            let bytes = http::get(&self.url, self.timeout, self.limit).await?;
            let at = Utc::now();
            let image = decode_blocking(bytes).await.map_err(|e| {
                DriverError::protocol(format!("camera {}: {}", self.url, e.message))
            })?;
            Ok(Frame::new(image, at))
        }
        .await;
        match &r {
            Ok(_) => self.health.ok(),
            Err(e) => {
                tracing::warn!(url = %self.url, error = %e, "snapshot failed");
                offline_or_degraded(&self.health, e);
            }
        }
        r
    }

    fn health(&self) -> Health {
        self.health.current()
    }
}

/// Timings and limits of an MJPEG stream.
#[derive(Debug, Clone)]
pub struct MjpegConfig {
    /// Connect and read the headers within this.
    pub connect_timeout: Duration,
    /// No bytes for this long: the stream is dead, reconnect. No picture for this long: degraded.
    pub idle_timeout: Duration,
    /// [`Camera::frame`] waits this long for a fresh frame.
    pub frame_timeout: Duration,
    /// A frame older than this is not fresh.
    pub max_age: Duration,
    /// The longest wait between reconnects (doubling from 200 ms).
    pub reconnect_max: Duration,
    /// Parts larger than this are dropped.
    pub max_frame_bytes: usize,
}

impl Default for MjpegConfig {
    fn default() -> MjpegConfig {
        MjpegConfig {
            connect_timeout: Duration::from_secs(3),
            idle_timeout: Duration::from_secs(3),
            frame_timeout: Duration::from_secs(2),
            max_age: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(10),
            max_frame_bytes: mjpeg::MAX_FRAME,
        }
    }
}

/// An IP camera's MJPEG stream, read in a background task that keeps the latest frame and
/// reconnects with backoff.
pub struct MjpegCamera {
    url: HttpUrl,
    config: MjpegConfig,
    latest: watch::Receiver<Option<Frame>>,
    health: HealthWatch,
    skipped: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl MjpegCamera {
    /// Starts reading `url` (call inside a tokio runtime); health is offline until a frame is
    /// decoded.
    pub fn start(url: &str, config: MjpegConfig) -> Result<MjpegCamera> {
        let url = HttpUrl::parse(url)?;
        let health = HealthWatch::new(format!("camera {url}: connecting to the stream"));
        let (tx, latest) = watch::channel(None);
        let skipped = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(run_stream(
            url.clone(),
            config.clone(),
            tx,
            health.clone(),
            skipped.clone(),
        ));
        Ok(MjpegCamera {
            url,
            config,
            latest,
            health,
            skipped,
            task,
        })
    }

    /// Every new frame as it is decoded (a watcher sees the latest, not a queue).
    pub fn frames(&self) -> watch::Receiver<Option<Frame>> {
        self.latest.clone()
    }

    /// Pictures that arrived cut off or broken and were skipped.
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    pub fn health_changes(&self) -> watch::Receiver<Health> {
        self.health.subscribe()
    }
}

impl Drop for MjpegCamera {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[async_trait]
impl Camera for MjpegCamera {
    async fn frame(&self) -> Result<Frame> {
        let mut rx = self.latest.clone();
        let fresh = |f: &Option<Frame>| {
            f.as_ref().is_some_and(|f| {
                (Utc::now() - f.at)
                    .to_std()
                    .map_or(true, |age| age <= self.config.max_age)
            })
        };
        let what = format!("camera {} (no fresh frame)", self.url);
        within(self.config.frame_timeout, &what, async {
            let r = rx.wait_for(fresh).await;
            match r {
                Ok(f) => f
                    .clone()
                    .ok_or_else(|| DriverError::io(format!("camera {}: no frame", self.url))),
                Err(_) => Err(DriverError::io(format!(
                    "camera {}: reader stopped",
                    self.url
                ))),
            }
        })
        .await
        .map_err(|e| {
            DriverError::new(
                e.kind,
                format!("{}; health: {}", e.message, self.health.current().reason),
            )
        })
    }

    fn health(&self) -> Health {
        self.health.current()
    }
}

async fn run_stream(
    url: HttpUrl,
    config: MjpegConfig,
    tx: watch::Sender<Option<Frame>>,
    health: HealthWatch,
    skipped: Arc<AtomicU64>,
) {
    let first = Duration::from_millis(200);
    let mut backoff = first;
    let mut last_at: Option<DateTime<Utc>> = None;
    loop {
        let mut got_frame = false;
        let e = read_stream(
            &url,
            &config,
            &tx,
            &health,
            &skipped,
            &mut last_at,
            &mut got_frame,
        )
        .await;
        health.set(HealthState::Offline, format!("{}; reconnecting", e.message));
        if got_frame {
            backoff = first;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(config.reconnect_max.max(first));
    }
}

/// Reads one connection's worth of stream; returns why it ended.
async fn read_stream(
    url: &HttpUrl,
    config: &MjpegConfig,
    tx: &watch::Sender<Option<Frame>>,
    health: &HealthWatch,
    skipped: &AtomicU64,
    last_at: &mut Option<DateTime<Utc>>,
    got_frame: &mut bool,
) -> DriverError {
    let (resp, mut body) = match http::request(url, config.connect_timeout).await {
        Ok(r) => r,
        Err(e) => return e,
    };
    if let Err(e) = resp.check(url) {
        return e;
    }
    let content_type = resp.header("content-type").unwrap_or("");
    let boundary = mjpeg::boundary_from_content_type(content_type);
    if boundary.is_none() {
        tracing::warn!(%url, content_type, "stream has no multipart boundary; splitting by JPEG markers");
    }
    if resp
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        tracing::warn!(%url, "chunked MJPEG stream: chunk headers may break pictures");
    }
    let mut splitter = MjpegSplitter::with_limit(boundary.as_deref(), config.max_frame_bytes);
    let mut buf = vec![0u8; 64 * 1024];
    let mut last_frame = Instant::now();
    loop {
        let n = match tokio::time::timeout(config.idle_timeout, body.read(&mut buf)).await {
            Err(_) => {
                return DriverError::timeout(format!(
                    "camera {url}: stream sent nothing for {} ms",
                    config.idle_timeout.as_millis()
                ));
            }
            Ok(Err(e)) => return DriverError::io(format!("camera {url}: stream lost: {e}")),
            Ok(Ok(0)) => return DriverError::io(format!("camera {url}: stream ended")),
            Ok(Ok(n)) => n,
        };
        for part in splitter.push(&buf[..n]) {
            let arrived = Utc::now();
            match decode_blocking(part).await {
                Ok(image) => {
                    // Strictly increasing, even for two pictures read in one go.
                    let at = match *last_at {
                        Some(prev) if arrived <= prev => prev + chrono::Duration::microseconds(1),
                        _ => arrived,
                    };
                    *last_at = Some(at);
                    tx.send_replace(Some(Frame::new(image, at)));
                    *got_frame = true;
                    last_frame = Instant::now();
                    health.ok();
                }
                Err(e) => {
                    skipped.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(%url, error = %e, "MJPEG picture skipped");
                }
            }
        }
        if last_frame.elapsed() > config.idle_timeout {
            health.set(
                HealthState::Degraded,
                format!(
                    "camera {url}: stream runs but no picture could be decoded for {} ms",
                    config.idle_timeout.as_millis()
                ),
            );
        }
    }
}
