//! USB (UVC) cameras through V4L2, with the `nokhwa` crate's native `input-v4l` backend.
//!
//! nokhwa is blocking, so [`UsbCamera`] runs one capture thread per camera. It opens the device,
//! picks a picture format ([`pick_format`]: the largest size, or the one asked for, at the highest
//! frame rate, MJPEG before YUYV), decodes every frame to RGB ([`to_rgb`]) and keeps the latest
//! with its capture time, like [`super::MjpegCamera`]. When the camera vanishes (unplugged, USB
//! reset) health goes offline with the reason and the thread reopens it with backoff. Every wait
//! of the async side is bounded by a timeout.
//!
//! Limit: V4L2 gives no read timeout through nokhwa, so a camera that stops sending without an
//! error (rare: an unplug is an error) leaves the thread waiting for its next frame. The driver
//! still answers: [`Camera::frame`] times out and [`Camera::health`] turns offline after
//! [`UsbConfig::stall_timeout`] without a picture.

use super::{Camera, Frame, decode_jpeg, mjpeg};
use crate::health::{DriverError, Health, HealthState, HealthWatch, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use image::RgbImage;
use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
    Resolution,
};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::watch;

/// Every format the driver can decode, in order of preference at equal size and frame rate
/// (MJPEG needs the least USB bandwidth; grey has no colour for evidence pictures).
pub const FORMATS: [FrameFormat; 6] = [
    FrameFormat::MJPEG,
    FrameFormat::YUYV,
    FrameFormat::NV12,
    FrameFormat::RAWRGB,
    FrameFormat::RAWBGR,
    FrameFormat::GRAY,
];

/// The V4L2 character devices' major number (`/dev/video*`).
const V4L2_MAJOR: u32 = 81;

/// Settings of a USB camera.
#[derive(Debug, Clone)]
pub struct UsbConfig {
    /// `/dev/video0`, its number `0`, or a udev link such as
    /// `/dev/v4l/by-id/usb-046d_C920-video-index0` (stays the same when replugged).
    pub device: String,
    /// Wanted picture size; the closest the camera offers is taken. Default: the largest.
    pub size: Option<(u32, u32)>,
    /// Wanted frames per second; the closest offered at the chosen size. Default: the highest.
    pub fps: Option<u32>,
    /// [`Camera::frame`] waits this long for a fresh frame.
    pub frame_timeout: Duration,
    /// A frame older than this is not fresh.
    pub max_age: Duration,
    /// No picture for this long while the camera is open: offline.
    pub stall_timeout: Duration,
    /// The longest wait between reopening attempts (doubling from 200 ms).
    pub reopen_max: Duration,
}

impl UsbConfig {
    pub fn new(device: impl Into<String>) -> UsbConfig {
        UsbConfig {
            device: device.into(),
            size: None,
            fps: None,
            frame_timeout: Duration::from_secs(2),
            max_age: Duration::from_secs(1),
            stall_timeout: Duration::from_secs(3),
            reopen_max: Duration::from_secs(10),
        }
    }

    fn validate(&self) -> Result<DeviceName> {
        let device = DeviceName::parse(&self.device)?;
        if self.size.is_some_and(|(w, h)| w == 0 || h == 0) {
            return Err(DriverError::config(
                "camera size: width and height must be above 0, e.g. 1920x1080",
            ));
        }
        if self.fps == Some(0) {
            return Err(DriverError::config("camera fps: must be above 0, e.g. 30"));
        }
        for (field, d) in [
            ("frame_timeout", self.frame_timeout),
            ("max_age", self.max_age),
            ("stall_timeout", self.stall_timeout),
            ("reopen_max", self.reopen_max),
        ] {
            if d.is_zero() {
                return Err(DriverError::config(format!(
                    "camera {field}: must be above 0"
                )));
            }
        }
        Ok(device)
    }
}

/// How a setting names a V4L2 device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceName {
    /// `2`: `/dev/video2`.
    Index(u32),
    /// A path: `/dev/video2` or a link to it; checked when the camera is opened.
    Path(PathBuf),
}

impl fmt::Display for DeviceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceName::Index(i) => write!(f, "/dev/video{i}"),
            DeviceName::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

impl DeviceName {
    /// `"2"` is device number 2; anything else with a `/` is a path. A bad number or an empty
    /// name is a `Config` error.
    pub fn parse(text: &str) -> Result<DeviceName> {
        let t = text.trim();
        let hint = "name the camera as /dev/videoN, its number N, or its /dev/v4l/by-id/… link (v4l2-ctl --list-devices shows them)";
        if t.is_empty() {
            return Err(DriverError::config(format!(
                "camera device is empty; {hint}"
            )));
        }
        if t.bytes().all(|b| b.is_ascii_digit()) {
            return t.parse().map(DeviceName::Index).map_err(|_| {
                DriverError::config(format!(
                    "camera device {t:?} is not a device number; {hint}"
                ))
            });
        }
        if t.contains('/') {
            return Ok(DeviceName::Path(PathBuf::from(t)));
        }
        Err(DriverError::config(format!(
            "camera device {t:?} is neither a number nor a path; {hint}"
        )))
    }

    /// The V4L2 device number to open: a number as it is, a path after following its links to
    /// a `/dev/videoN` character device of the V4L2 driver. A missing device is an `Io` error
    /// (plug it in); a path that is something else is a `Config` error.
    pub fn resolve(&self) -> Result<u32> {
        let path = match self {
            DeviceName::Index(i) => PathBuf::from(format!("/dev/video{i}")),
            DeviceName::Path(p) => p.clone(),
        };
        let shown = path.display();
        let meta = std::fs::metadata(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                DriverError::io(format!(
                    "camera {shown}: no such device; check that the camera is plugged in and which /dev/video* it got (v4l2-ctl --list-devices)"
                ))
            } else {
                DriverError::io(format!(
                    "camera {shown}: cannot look at the device: {e}; check the path and that this user may open it (group video)"
                ))
            }
        })?;
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let ft = meta.file_type();
        if !ft.is_char_device() {
            let what = if ft.is_dir() {
                "a directory"
            } else if ft.is_file() {
                "a regular file"
            } else {
                "not a device"
            };
            return Err(DriverError::config(format!(
                "camera {shown}: is {what}, not a video device; name the camera as /dev/videoN or its /dev/v4l/by-id/… link (v4l2-ctl --list-devices shows them)"
            )));
        }
        let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        match video_index(&real) {
            Some(i) if dev_major(meta.rdev()) == V4L2_MAJOR => Ok(i),
            _ => Err(DriverError::config(format!(
                "camera {shown}: is a character device ({}, major {}) but not a V4L2 video device; name the camera as /dev/videoN (v4l2-ctl --list-devices shows them)",
                real.display(),
                dev_major(meta.rdev())
            ))),
        }
    }
}

/// `N` for a path `/dev/videoN`.
pub fn video_index(path: &Path) -> Option<u32> {
    if path.parent() != Some(Path::new("/dev")) {
        return None;
    }
    let n = path.file_name()?.to_str()?.strip_prefix("video")?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// The major number of a Linux device number (`st_rdev`), as glibc's `major()`.
pub fn dev_major(rdev: u64) -> u32 {
    (((rdev >> 8) & 0xfff) | ((rdev >> 32) & 0xffff_f000)) as u32
}

/// Chooses the camera's mode among those it offers: the size closest to `size` (default the
/// largest), then the frame rate closest to `fps` (default the highest), then the format by
/// [`FORMATS`] order. `None` when it offers nothing the driver decodes.
pub fn pick_format(
    offered: &[CameraFormat],
    size: Option<(u32, u32)>,
    fps: Option<u32>,
) -> Option<CameraFormat> {
    let rank = |f: FrameFormat| FORMATS.iter().position(|x| *x == f);
    offered
        .iter()
        .filter(|f| rank(f.format()).is_some() && f.width() > 0 && f.height() > 0)
        .min_by_key(|f| {
            let (w, h) = (u64::from(f.width()), u64::from(f.height()));
            let size_key = match size {
                // Closest by width and height, the larger on a tie.
                Some((ww, wh)) => (
                    w.abs_diff(u64::from(ww)) + h.abs_diff(u64::from(wh)),
                    u64::MAX - w * h,
                ),
                None => (0, u64::MAX - w * h),
            };
            let rate = u64::from(f.frame_rate());
            let fps_key = match fps {
                Some(want) => (rate.abs_diff(u64::from(want)), u64::MAX - rate),
                None => (0, u64::MAX - rate),
            };
            (size_key, fps_key, rank(f.format()))
        })
        .copied()
}

/// How many bytes a `width`×`height` picture takes in `format` (MJPEG: unknown, `None`).
pub fn frame_bytes(format: FrameFormat, width: u32, height: u32) -> Option<usize> {
    let px = usize::try_from(u64::from(width) * u64::from(height)).ok()?;
    match format {
        FrameFormat::MJPEG => None,
        FrameFormat::YUYV => px.checked_mul(2),
        FrameFormat::NV12 => px.checked_mul(3).map(|b| b / 2),
        FrameFormat::RAWRGB | FrameFormat::RAWBGR => px.checked_mul(3),
        FrameFormat::GRAY => Some(px),
    }
}

/// Decodes one captured buffer to RGB. V4L2 hands over whole buffers, so anything after the
/// picture (an MJPEG frame's padding, a buffer larger than the picture) is ignored; a buffer too
/// short for a `width`×`height` picture, or a cut-off JPEG, is a `Protocol` error.
pub fn to_rgb(format: FrameFormat, width: u32, height: u32, data: &[u8]) -> Result<RgbImage> {
    if format == FrameFormat::MJPEG {
        let end = match mjpeg::scan_jpeg(data) {
            mjpeg::JpegScan::Complete(n) => n,
            _ => {
                return Err(DriverError::protocol(format!(
                    "MJPEG frame of {} bytes is cut off or broken",
                    data.len()
                )));
            }
        };
        return decode_jpeg(&data[..end]);
    }
    let need = frame_bytes(format, width, height).ok_or_else(|| {
        DriverError::protocol(format!("{width}x{height} {format} picture is too large"))
    })?;
    if width == 0 || height == 0 || width > 16384 || height > 16384 {
        return Err(DriverError::protocol(format!(
            "{width}x{height} is not a picture size"
        )));
    }
    if (format == FrameFormat::YUYV && !width.is_multiple_of(2))
        || (format == FrameFormat::NV12 && (!width.is_multiple_of(2) || !height.is_multiple_of(2)))
    {
        return Err(DriverError::protocol(format!(
            "{width}x{height} is not a {format} picture size (needs even sides)"
        )));
    }
    if data.len() < need {
        return Err(DriverError::protocol(format!(
            "{format} frame of {} bytes is shorter than a {width}x{height} picture ({need} bytes)",
            data.len()
        )));
    }
    let buffer = nokhwa::Buffer::new(Resolution::new(width, height), &data[..need], format);
    buffer
        .decode_image::<RgbFormat>()
        .map_err(|e| DriverError::protocol(format!("{format} frame cannot be decoded: {e}")))
}

/// The time a frame is stamped with: the driver's capture time when it is plausible (at most 1 s
/// before `now`, or a hair after it from clock conversion, taken as `now`), else `now`; always
/// after the previous frame's.
pub fn frame_time(
    captured: Option<Duration>,
    now: DateTime<Utc>,
    last: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    let from_driver = captured
        .and_then(|d| i64::try_from(d.as_micros()).ok())
        .and_then(DateTime::<Utc>::from_timestamp_micros)
        .filter(|t| {
            *t <= now + chrono::Duration::milliseconds(100)
                && *t >= now - chrono::Duration::seconds(1)
        });
    let at = from_driver.map_or(now, |t| t.min(now));
    match last {
        Some(prev) if at <= prev => prev + chrono::Duration::microseconds(1),
        _ => at,
    }
}

/// Turns nokhwa's error on opening a camera into what a person can act on.
pub fn open_error(device: &str, e: &nokhwa::NokhwaError) -> DriverError {
    use nokhwa::NokhwaError as N;
    let text = e.to_string();
    let has = |s: &str| text.contains(s);
    if has("os error 13") || has("Permission denied") {
        return DriverError::io(format!(
            "camera {device}: permission denied; add the user running Gatehouse to the video group (usermod -aG video USER) ({text})"
        ));
    }
    if has("os error 16") || has("busy") {
        return DriverError::device(format!(
            "camera {device}: busy; another program is using it, close that program ({text})"
        ));
    }
    if has("os error 2") || has("os error 19") || has("No such device") {
        return DriverError::io(format!(
            "camera {device}: gone ({text}); check that the camera is plugged in"
        ));
    }
    match e {
        N::GetPropertyError { .. } | N::SetPropertyError { .. } => DriverError::device(format!(
            "camera {device}: offers no picture format the driver decodes (MJPEG, YUYV, NV12, RGB, BGR, grey) ({text}); a UVC camera's second /dev/videoN is its metadata node, try the other one"
        )),
        _ => DriverError::io(format!(
            "camera {device}: cannot open: {text}; check the camera and its USB cable"
        )),
    }
}

/// The latest picture and the capture thread's last failure (cleared by the next picture).
#[derive(Debug, Clone, Default)]
struct Latest {
    frame: Option<Frame>,
    error: Option<DriverError>,
    /// The mode in use, e.g. "MJPEG 1920x1080 at 30 fps".
    mode: Option<String>,
}

/// A USB camera on V4L2. Start it with [`UsbCamera::start`]; dropping it stops the capture
/// thread (at once, or after the frame it is waiting for).
pub struct UsbCamera {
    device: DeviceName,
    config: UsbConfig,
    latest: watch::Receiver<Latest>,
    health: HealthWatch,
    skipped: Arc<AtomicU64>,
    /// Dropped with the camera, which tells the capture thread to stop.
    _stop: mpsc::Sender<()>,
}

impl UsbCamera {
    /// Checks the settings and starts the capture thread (no runtime needed). Health is offline
    /// until the first picture; a missing or wrong device shows in health and in
    /// [`Camera::frame`]'s error, and the thread keeps trying to open it.
    pub fn start(config: UsbConfig) -> Result<UsbCamera> {
        let device = config.validate()?;
        let health = HealthWatch::new(format!("camera {device}: opening"));
        let (tx, latest) = watch::channel(Latest::default());
        let (stop_tx, stop_rx) = mpsc::channel();
        let skipped = Arc::new(AtomicU64::new(0));
        let capture = Capture {
            device: device.clone(),
            config: config.clone(),
            tx,
            health: health.clone(),
            skipped: skipped.clone(),
            stop: stop_rx,
            last_at: None,
        };
        std::thread::Builder::new()
            .name(format!("usb camera {device}"))
            .spawn(move || capture.run())
            .map_err(|e| {
                DriverError::io(format!(
                    "camera {device}: cannot start its capture thread: {e}"
                ))
            })?;
        Ok(UsbCamera {
            device,
            config,
            latest,
            health,
            skipped,
            _stop: stop_tx,
        })
    }

    /// The mode the camera runs in, once open ("MJPEG 1920x1080 at 30 fps").
    pub fn mode(&self) -> Option<String> {
        self.latest.borrow().mode.clone()
    }

    /// Frames that arrived broken and were skipped.
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// Health changes as the capture thread sees them (a silent stall shows once [`Camera::health`]
    /// or [`Camera::frame`] is asked).
    pub fn health_changes(&self) -> watch::Receiver<Health> {
        self.health.subscribe()
    }

    fn is_fresh(&self, frame: &Frame) -> bool {
        age(frame) <= self.config.max_age
    }

    /// Offline when the camera is open but has sent no picture for longer than the stall
    /// timeout (a failure the capture thread reported is in health already).
    fn note_stall(&self) {
        let (failed, frame_age) = {
            let l = self.latest.borrow();
            (l.error.is_some(), l.frame.as_ref().map(age))
        };
        if failed {
            return;
        }
        let current = self.health.current();
        let quiet =
            frame_age.unwrap_or_else(|| (Utc::now() - current.since).to_std().unwrap_or_default());
        if quiet > self.config.stall_timeout {
            self.health.set(
                HealthState::Offline,
                format!(
                    "camera {}: no picture for over {} ms; check the camera and its USB cable",
                    self.device,
                    self.config.stall_timeout.as_millis()
                ),
            );
        }
    }
}

fn age(frame: &Frame) -> Duration {
    (Utc::now() - frame.at).to_std().unwrap_or_default()
}

#[async_trait]
impl Camera for UsbCamera {
    async fn frame(&self) -> Result<Frame> {
        let mut rx = self.latest.clone();
        let waited = tokio::time::timeout(
            self.config.frame_timeout,
            rx.wait_for(|l| {
                l.frame.as_ref().is_some_and(|f| self.is_fresh(f)) || l.error.is_some()
            }),
        )
        .await;
        match waited {
            Ok(Ok(l)) => match (&l.frame, &l.error) {
                (Some(f), _) if self.is_fresh(f) => Ok(f.clone()),
                (_, Some(e)) => Err(e.clone()),
                _ => Err(DriverError::io(format!(
                    "camera {}: no picture",
                    self.device
                ))),
            },
            Ok(Err(_)) => Err(DriverError::io(format!(
                "camera {}: its capture thread stopped",
                self.device
            ))),
            Err(_) => {
                self.note_stall();
                Err(DriverError::timeout(format!(
                    "camera {}: no fresh picture within {} ms; health: {}",
                    self.device,
                    self.config.frame_timeout.as_millis(),
                    self.health.current().reason
                )))
            }
        }
    }

    fn health(&self) -> Health {
        self.note_stall();
        self.health.current()
    }
}

/// The capture thread's state.
struct Capture {
    device: DeviceName,
    config: UsbConfig,
    tx: watch::Sender<Latest>,
    health: HealthWatch,
    skipped: Arc<AtomicU64>,
    stop: mpsc::Receiver<()>,
    last_at: Option<DateTime<Utc>>,
}

/// Why a capture session ended.
enum End {
    Stopped,
    Failed(DriverError),
}

impl Capture {
    fn stopped(&self) -> bool {
        matches!(
            self.stop.try_recv(),
            Ok(()) | Err(mpsc::TryRecvError::Disconnected)
        )
    }

    fn run(mut self) {
        let first = Duration::from_millis(200);
        let mut backoff = first;
        loop {
            let mut got_frame = false;
            // nokhwa's V4L2 code is not ours: a panic in it is a failed session, not a dead thread.
            let end = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.session(&mut got_frame)
            }))
            .unwrap_or_else(|_| {
                End::Failed(DriverError::device(format!(
                    "camera {}: the V4L2 capture failed unexpectedly; reopening",
                    self.device
                )))
            });
            let e = match end {
                End::Stopped => return,
                End::Failed(e) => e,
            };
            tracing::warn!(camera = %self.device, error = %e, "USB camera not capturing");
            self.health.set(HealthState::Offline, e.message.clone());
            self.tx.send_modify(|l| l.error = Some(e));
            if got_frame {
                backoff = first;
            }
            match self.stop.recv_timeout(backoff) {
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
            backoff = (backoff * 2).min(self.config.reopen_max.max(first));
        }
    }

    /// Opens the camera and captures until it fails or the camera is dropped.
    fn session(&mut self, got_frame: &mut bool) -> End {
        let index = match self.device.resolve() {
            Ok(i) => i,
            Err(e) => return End::Failed(e),
        };
        let label = match &self.device {
            DeviceName::Index(_) => self.device.to_string(),
            DeviceName::Path(p) => format!("{} (/dev/video{index})", p.display()),
        };
        let mut camera = match self.open(index, &label) {
            Ok(c) => c,
            Err(e) => return End::Failed(e),
        };
        let mode = camera.camera_format();
        let mode_text = format!(
            "{} {}x{} at {} fps",
            mode.format(),
            mode.width(),
            mode.height(),
            mode.frame_rate()
        );
        tracing::info!(camera = %label, mode = %mode_text, "USB camera open");
        self.health.set(
            HealthState::Offline,
            format!("camera {label}: open ({mode_text}), waiting for the first picture"),
        );
        self.tx.send_modify(|l| l.mode = Some(mode_text));
        let mut broken_since: Option<std::time::Instant> = None;
        loop {
            if self.stopped() {
                return End::Stopped;
            }
            let buffer = match camera.frame() {
                Ok(b) => b,
                Err(e) => {
                    let e = open_error(&label, &e);
                    return End::Failed(DriverError::new(
                        e.kind,
                        format!("{}; reopening", e.message),
                    ));
                }
            };
            let now = Utc::now();
            let res = buffer.resolution();
            match to_rgb(
                buffer.source_frame_format(),
                res.width(),
                res.height(),
                buffer.buffer(),
            ) {
                Ok(image) => {
                    let at = frame_time(buffer.capture_timestamp(), now, self.last_at);
                    self.last_at = Some(at);
                    self.tx.send_modify(|l| {
                        l.frame = Some(Frame::new(image, at));
                        l.error = None;
                    });
                    *got_frame = true;
                    broken_since = None;
                    self.health.ok();
                }
                Err(e) => {
                    self.skipped.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(camera = %label, error = %e, "USB camera picture skipped");
                    let since = *broken_since.get_or_insert_with(std::time::Instant::now);
                    if since.elapsed() > self.config.stall_timeout {
                        self.health.set(
                            HealthState::Degraded,
                            format!(
                                "camera {label}: sends pictures that cannot be decoded ({}); try another format or size",
                                e.message
                            ),
                        );
                    }
                }
            }
        }
    }

    fn open(&self, index: u32, label: &str) -> Result<nokhwa::Camera> {
        let any = RequestedFormat::with_formats(RequestedFormatType::None, &FORMATS);
        let mut camera =
            nokhwa::Camera::with_backend(CameraIndex::Index(index), any, ApiBackend::Video4Linux)
                .map_err(|e| open_error(label, &e))?;
        let offered = camera
            .compatible_camera_formats()
            .map_err(|e| open_error(label, &e))?;
        let chosen = pick_format(&offered, self.config.size, self.config.fps).ok_or_else(|| {
            DriverError::device(format!(
                "camera {label}: offers no picture format the driver decodes (MJPEG, YUYV, NV12, RGB, BGR, grey); a UVC camera's second /dev/videoN is its metadata node, try the other one"
            ))
        })?;
        if camera.camera_format() != chosen {
            camera
                .set_camera_requset(RequestedFormat::with_formats(
                    RequestedFormatType::Exact(chosen),
                    &FORMATS,
                ))
                .map_err(|e| open_error(label, &e))?;
        }
        camera.open_stream().map_err(|e| open_error(label, &e))?;
        Ok(camera)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::health::ErrorKind;
    use image::Rgb;

    fn fmt(w: u32, h: u32, f: FrameFormat, fps: u32) -> CameraFormat {
        CameraFormat::new(Resolution::new(w, h), f, fps)
    }

    #[test]
    fn device_names_are_numbers_or_paths() {
        assert_eq!(DeviceName::parse("2").unwrap(), DeviceName::Index(2));
        assert_eq!(DeviceName::parse(" 0 ").unwrap(), DeviceName::Index(0));
        assert_eq!(
            DeviceName::parse("/dev/video2").unwrap(),
            DeviceName::Path("/dev/video2".into())
        );
        assert_eq!(DeviceName::Index(3).to_string(), "/dev/video3");
        for bad in ["", "  ", "video0", "99999999999", "cam"] {
            let e = DeviceName::parse(bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Config, "{bad:?}: {e}");
            assert!(e.message.contains("/dev/videoN"), "{e}");
        }
    }

    #[test]
    fn video_index_reads_dev_video_paths_only() {
        assert_eq!(video_index(Path::new("/dev/video0")), Some(0));
        assert_eq!(video_index(Path::new("/dev/video12")), Some(12));
        assert_eq!(video_index(Path::new("/dev/video")), None);
        assert_eq!(video_index(Path::new("/dev/video1a")), None);
        assert_eq!(video_index(Path::new("/tmp/video1")), None);
        assert_eq!(video_index(Path::new("/dev/v4l/video1")), None);
        assert_eq!(video_index(Path::new("/dev/null")), None);
    }

    #[test]
    fn dev_major_splits_like_glibc() {
        // /dev/null is 1:3, /dev/video0 81:0; large numbers keep their high bits.
        assert_eq!(dev_major(0x0103), 1);
        assert_eq!(dev_major(81 << 8), 81);
        assert_eq!(dev_major((0x123 << 8) | (0x45 << 32 << 12)), 0x45123);
        use std::os::unix::fs::MetadataExt;
        assert_eq!(dev_major(std::fs::metadata("/dev/null").unwrap().rdev()), 1);
    }

    #[test]
    fn the_largest_picture_at_the_highest_rate_is_picked_mjpeg_first() {
        let offered = [
            fmt(640, 480, FrameFormat::YUYV, 30),
            fmt(1920, 1080, FrameFormat::YUYV, 5),
            fmt(1920, 1080, FrameFormat::MJPEG, 30),
            fmt(1920, 1080, FrameFormat::MJPEG, 15),
            fmt(1280, 720, FrameFormat::MJPEG, 60),
        ];
        assert_eq!(
            pick_format(&offered, None, None),
            Some(fmt(1920, 1080, FrameFormat::MJPEG, 30))
        );
        // Same size and rate in two formats: MJPEG.
        let tie = [
            fmt(1280, 720, FrameFormat::YUYV, 10),
            fmt(1280, 720, FrameFormat::MJPEG, 10),
        ];
        assert_eq!(
            pick_format(&tie, None, None),
            Some(fmt(1280, 720, FrameFormat::MJPEG, 10))
        );
        // Only YUYV at full size is still full size: the size matters most for plates.
        let yuyv = [
            fmt(1920, 1080, FrameFormat::YUYV, 5),
            fmt(640, 480, FrameFormat::MJPEG, 30),
        ];
        assert_eq!(
            pick_format(&yuyv, None, None),
            Some(fmt(1920, 1080, FrameFormat::YUYV, 5))
        );
    }

    #[test]
    fn an_asked_size_and_rate_pick_the_closest_offered() {
        let offered = [
            fmt(640, 480, FrameFormat::MJPEG, 30),
            fmt(1280, 720, FrameFormat::MJPEG, 30),
            fmt(1280, 720, FrameFormat::MJPEG, 10),
            fmt(1920, 1080, FrameFormat::MJPEG, 30),
        ];
        assert_eq!(
            pick_format(&offered, Some((1280, 720)), None),
            Some(fmt(1280, 720, FrameFormat::MJPEG, 30))
        );
        assert_eq!(
            pick_format(&offered, Some((1300, 700)), Some(12)),
            Some(fmt(1280, 720, FrameFormat::MJPEG, 10))
        );
        assert_eq!(
            pick_format(&offered, Some((4000, 3000)), None),
            Some(fmt(1920, 1080, FrameFormat::MJPEG, 30))
        );
        assert_eq!(pick_format(&[], None, None), None);
        assert_eq!(
            pick_format(&[fmt(0, 0, FrameFormat::MJPEG, 30)], None, None),
            None
        );
    }

    /// One YUYV macropixel (two pixels) for a grey level `y`.
    fn yuyv_grey(y: u8) -> [u8; 4] {
        [y, 128, y, 128]
    }

    #[test]
    fn yuyv_grey_and_rgb_frames_decode_to_their_colours() {
        // 4x2 YUYV: the top row black (Y 16), the bottom white (Y 235), video range.
        let mut data = Vec::new();
        for _ in 0..2 {
            data.extend_from_slice(&yuyv_grey(16));
        }
        for _ in 0..2 {
            data.extend_from_slice(&yuyv_grey(235));
        }
        // V4L2 hands over the whole buffer: padding after the picture is ignored.
        data.extend_from_slice(&[7; 16]);
        let img = to_rgb(FrameFormat::YUYV, 4, 2, &data).unwrap();
        assert_eq!((img.width(), img.height()), (4, 2));
        let top = img.get_pixel(1, 0);
        let bottom = img.get_pixel(3, 1);
        assert!(top.0.iter().all(|&c| c < 40), "{top:?}");
        assert!(bottom.0.iter().all(|&c| c > 215), "{bottom:?}");

        let grey = to_rgb(FrameFormat::GRAY, 2, 1, &[10, 200]).unwrap();
        assert_eq!(*grey.get_pixel(0, 0), Rgb([10, 10, 10]));
        assert_eq!(*grey.get_pixel(1, 0), Rgb([200, 200, 200]));

        let rgb = to_rgb(FrameFormat::RAWRGB, 1, 1, &[1, 2, 3]).unwrap();
        assert_eq!(*rgb.get_pixel(0, 0), Rgb([1, 2, 3]));
        let bgr = to_rgb(FrameFormat::RAWBGR, 1, 1, &[1, 2, 3]).unwrap();
        assert_eq!(*bgr.get_pixel(0, 0), Rgb([3, 2, 1]));
    }

    #[test]
    fn short_or_odd_frames_are_protocol_errors() {
        let e = to_rgb(FrameFormat::YUYV, 4, 2, &[0; 15]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol);
        assert!(e.message.contains("shorter"), "{e}");
        assert!(to_rgb(FrameFormat::YUYV, 3, 2, &[0; 64]).is_err());
        assert!(to_rgb(FrameFormat::NV12, 4, 3, &[0; 64]).is_err());
        assert!(to_rgb(FrameFormat::GRAY, 0, 2, &[0; 4]).is_err());
        assert!(to_rgb(FrameFormat::RAWRGB, u32::MAX, u32::MAX, &[0; 4]).is_err());
        assert_eq!(frame_bytes(FrameFormat::NV12, 4, 2), Some(12));
        assert_eq!(frame_bytes(FrameFormat::MJPEG, 4, 2), None);
    }

    #[test]
    fn an_mjpeg_frame_with_padding_decodes_and_a_cut_one_does_not() {
        let picture = RgbImage::from_pixel(16, 8, Rgb([200, 30, 40]));
        let jpeg = super::super::encode_jpeg(&picture, 90).unwrap();
        let mut padded = jpeg.clone();
        padded.extend_from_slice(&[0; 500]);
        let img = to_rgb(FrameFormat::MJPEG, 16, 8, &padded).unwrap();
        assert_eq!((img.width(), img.height()), (16, 8));
        let p = img.get_pixel(8, 4);
        assert!(p.0[0] > 170 && p.0[1] < 70 && p.0[2] < 80, "{p:?}");
        let e = to_rgb(FrameFormat::MJPEG, 16, 8, &jpeg[..jpeg.len() / 2]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol);
    }

    #[test]
    fn frames_take_the_drivers_time_when_plausible_and_always_move_forward() {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let since_epoch = |t: DateTime<Utc>| Duration::from_micros(t.timestamp_micros() as u64);
        let captured = now - chrono::Duration::milliseconds(40);
        assert_eq!(frame_time(Some(since_epoch(captured)), now, None), captured);
        // Nonsense from the driver (zero, an hour old, far ahead): the arrival time.
        assert_eq!(frame_time(Some(Duration::ZERO), now, None), now);
        assert_eq!(
            frame_time(
                Some(since_epoch(now - chrono::Duration::hours(1))),
                now,
                None
            ),
            now
        );
        assert_eq!(
            frame_time(
                Some(since_epoch(now + chrono::Duration::seconds(30))),
                now,
                None
            ),
            now
        );
        // Seconds old is not this frame's capture (a driver clock off): the arrival time.
        let late = now - chrono::Duration::seconds(3);
        assert_eq!(frame_time(Some(since_epoch(late)), now, None), now);
        // A few microseconds ahead (clock conversion): now, never in the future.
        let ahead = now + chrono::Duration::microseconds(5);
        assert_eq!(frame_time(Some(since_epoch(ahead)), now, None), now);
        assert_eq!(frame_time(None, now, None), now);
        // Never at or before the previous frame.
        assert_eq!(
            frame_time(Some(since_epoch(captured)), now, Some(now)),
            now + chrono::Duration::microseconds(1)
        );
    }

    #[test]
    fn open_errors_say_what_to_do() {
        use nokhwa::NokhwaError as N;
        let denied = open_error(
            "/dev/video0",
            &N::OpenDeviceError(
                "0".into(),
                "V4L2 Error: Permission denied (os error 13)".into(),
            ),
        );
        assert_eq!(denied.kind, ErrorKind::Io);
        assert!(denied.message.contains("/dev/video0"), "{denied}");
        assert!(denied.message.contains("video group"), "{denied}");
        let busy = open_error(
            "/dev/video0",
            &N::OpenStreamError("Device or resource busy (os error 16)".into()),
        );
        assert_eq!(busy.kind, ErrorKind::Device);
        assert!(busy.message.contains("another program"), "{busy}");
        let gone = open_error(
            "/dev/video0",
            &N::ReadFrameError("No such device (os error 19)".into()),
        );
        assert_eq!(gone.kind, ErrorKind::Io);
        assert!(gone.message.contains("plugged in"), "{gone}");
        let formats = open_error(
            "/dev/video1",
            &N::GetPropertyError {
                property: "CameraFormat".into(),
                error: "Failed to Fufill".into(),
            },
        );
        assert_eq!(formats.kind, ErrorKind::Device);
        assert!(formats.message.contains("metadata node"), "{formats}");
    }
}
