//! Errors of plate recognition: a kind to act on and a message that says what was wrong and what
//! to do about it.

/// What went wrong, for a caller that reacts differently (a lane falls back to the ticket path on
/// any of them; the CLI names the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The .onnx file is missing, not an ONNX model, or does not fit the plate-reader convention.
    Model,
    /// The model config beside the .onnx file is missing a field or has a bad value.
    Config,
    /// An image could not be read or decoded.
    Image,
    /// A file could not be read.
    Io,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct AnprError {
    pub kind: ErrorKind,
    pub message: String,
}

impl AnprError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> AnprError {
        AnprError {
            kind,
            message: message.into(),
        }
    }
    pub fn model(message: impl Into<String>) -> AnprError {
        AnprError::new(ErrorKind::Model, message)
    }
    pub fn config(message: impl Into<String>) -> AnprError {
        AnprError::new(ErrorKind::Config, message)
    }
    pub fn image(message: impl Into<String>) -> AnprError {
        AnprError::new(ErrorKind::Image, message)
    }
    pub fn io(message: impl Into<String>) -> AnprError {
        AnprError::new(ErrorKind::Io, message)
    }
}

pub type Result<T> = std::result::Result<T, AnprError>;
