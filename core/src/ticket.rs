//! Tickets: a readable number and a QR payload signed with the lot's secret, so any lane can
//! verify a ticket offline.
//!
//! Payload: base32 (no padding, the QR alphanumeric alphabet) of 21 bytes:
//! `version (1) | lot tag (4) | serial (4, big-endian) | HMAC-SHA256 truncated to 12 bytes`.
//! 34 characters: a version-2 QR code (25 × 25 modules) at error correction M.

use crate::error::{Error, ErrorKind, Result};
use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use qrcode::{EcLevel, QrCode};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

const VERSION: u8 = 1;
const MAC_LEN: usize = 12;
const PAYLOAD_LEN: usize = 1 + 4 + 4 + MAC_LEN;

/// Signs and verifies the tickets of one lot.
#[derive(Clone)]
pub struct TicketSigner {
    lot_tag: [u8; 4],
    secret: Vec<u8>,
}

impl std::fmt::Debug for TicketSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketSigner")
            .field("lot_tag", &hex::encode(self.lot_tag))
            .finish_non_exhaustive()
    }
}

/// The four bytes that name a lot inside its tickets.
pub fn lot_tag(lot_id: &str) -> [u8; 4] {
    let h = Sha256::digest(lot_id.as_bytes());
    [h[0], h[1], h[2], h[3]]
}

fn luhn_digit(digits: &str) -> u32 {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let mut d = c.to_digit(10).unwrap_or(0);
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    (10 - sum % 10) % 10
}

/// The readable ticket number of a serial: at least six digits, a dash and a Luhn check digit,
/// e.g. `000042-2`. A mistyped digit fails the check.
pub fn ticket_number(serial: u32) -> String {
    let digits = format!("{serial:06}");
    let check = luhn_digit(&digits);
    format!("{digits}-{check}")
}

/// Parses a readable ticket number back to its serial.
pub fn parse_ticket_number(s: &str) -> Result<u32> {
    let bad = || {
        Error::invalid(format!(
            "'{s}' is not a ticket number: it looks like 000042-2 (digits, a dash, a check digit)"
        ))
    };
    let t = s.trim();
    let (digits, check) = t.split_once('-').ok_or_else(bad)?;
    if digits.is_empty() || digits.len() > 10 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let check: u32 = check.parse().map_err(|_| bad())?;
    if check != luhn_digit(digits) {
        return Err(Error::invalid(format!(
            "ticket number '{s}' fails its check digit: a digit was probably mistyped"
        )));
    }
    digits.parse().map_err(|_| bad())
}

impl TicketSigner {
    pub fn new(lot_id: &str, secret: &[u8]) -> Self {
        TicketSigner {
            lot_tag: lot_tag(lot_id),
            secret: secret.to_vec(),
        }
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes a key of any length.
        match HmacSha256::new_from_slice(&self.secret) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        }
    }

    /// The signed QR payload of a ticket serial.
    pub fn payload(&self, serial: u32) -> String {
        let mut bytes = Vec::with_capacity(PAYLOAD_LEN);
        bytes.push(VERSION);
        bytes.extend_from_slice(&self.lot_tag);
        bytes.extend_from_slice(&serial.to_be_bytes());
        let mut mac = self.mac();
        mac.update(&bytes);
        let tag = mac.finalize().into_bytes();
        bytes.extend_from_slice(&tag[..MAC_LEN]);
        BASE32_NOPAD.encode(&bytes)
    }

    /// Verifies a scanned payload and returns the ticket serial. Refuses payloads that are not
    /// tickets, tickets of another lot, and forged or altered tickets. (Whether the ticket has
    /// already been used is the engine's question: it knows the stay.)
    pub fn verify(&self, payload: &str) -> Result<u32> {
        let text = payload.trim().to_ascii_uppercase();
        let bytes = BASE32_NOPAD.decode(text.as_bytes()).map_err(|_| {
            Error::new(
                ErrorKind::TicketForged,
                "this is not a Gatehouse ticket code (it does not decode); scan the QR code on the ticket again or type the ticket number",
            )
        })?;
        if bytes.len() != PAYLOAD_LEN || bytes[0] != VERSION {
            return Err(Error::new(
                ErrorKind::TicketForged,
                "this code has the wrong length or version for a Gatehouse ticket; it is refused",
            ));
        }
        if bytes[1..5] != self.lot_tag {
            return Err(Error::new(
                ErrorKind::TicketForeign,
                "this ticket was issued by another car park; it is not valid here",
            ));
        }
        let mut mac = self.mac();
        mac.update(&bytes[..9]);
        mac.verify_truncated_left(&bytes[9..]).map_err(|_| {
            Error::new(
                ErrorKind::TicketForged,
                "the ticket's signature does not match: it was altered or forged; call the attendant",
            )
        })?;
        Ok(u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]))
    }
}

fn qr(payload: &str) -> Result<QrCode> {
    QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| Error::invalid(format!("cannot encode the ticket as a QR code: {e}")))
}

/// The ticket's QR code as an SVG image.
pub fn qr_svg(payload: &str) -> Result<String> {
    Ok(qr(payload)?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

/// The ticket's QR code drawn with Unicode half blocks, for a terminal.
pub fn qr_text(payload: &str) -> Result<String> {
    Ok(qr(payload)?
        .render::<qrcode::render::unicode::Dense1x2>()
        .dark_color(qrcode::render::unicode::Dense1x2::Light)
        .light_color(qrcode::render::unicode::Dense1x2::Dark)
        .build())
}

/// The QR version (size) the payload needs: 2 means 25 × 25 modules.
pub fn qr_version(payload: &str) -> Result<i16> {
    match qr(payload)?.version() {
        qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => Ok(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> TicketSigner {
        TicketSigner::new("demo", b"0123456789abcdef0123456789abcdef")
    }

    #[test]
    fn payload_round_trips_and_fits_a_small_qr_code() {
        let s = signer();
        let p = s.payload(42);
        assert_eq!(p.len(), 34);
        assert_eq!(s.verify(&p).unwrap(), 42);
        assert_eq!(s.verify(&p.to_lowercase()).unwrap(), 42);
        assert_eq!(qr_version(&p).unwrap(), 2);
        assert!(qr_svg(&p).unwrap().starts_with("<?xml"));
    }

    #[test]
    fn altered_ticket_is_refused() {
        let s = signer();
        let p = s.payload(42);
        // Change the serial: re-encode with serial 43 and the old MAC.
        let mut bytes = BASE32_NOPAD.decode(p.as_bytes()).unwrap();
        bytes[8] = 43;
        let altered = BASE32_NOPAD.encode(&bytes);
        assert_eq!(
            s.verify(&altered).unwrap_err().kind,
            ErrorKind::TicketForged
        );
        // Flip one character anywhere in the MAC.
        let mut chars: Vec<char> = p.chars().collect();
        chars[30] = if chars[30] == 'A' { 'B' } else { 'A' };
        let flipped: String = chars.into_iter().collect();
        assert_eq!(
            s.verify(&flipped).unwrap_err().kind,
            ErrorKind::TicketForged
        );
    }

    #[test]
    fn forged_ticket_with_another_secret_is_refused() {
        let forger = TicketSigner::new("demo", b"not the lot's secret");
        let p = forger.payload(7);
        assert_eq!(
            signer().verify(&p).unwrap_err().kind,
            ErrorKind::TicketForged
        );
        assert_eq!(
            signer().verify("HELLO WORLD").unwrap_err().kind,
            ErrorKind::TicketForged
        );
        assert_eq!(
            signer().verify("").unwrap_err().kind,
            ErrorKind::TicketForged
        );
    }

    #[test]
    fn other_lots_ticket_is_refused_as_foreign() {
        let other = TicketSigner::new("airport", b"0123456789abcdef0123456789abcdef");
        let p = other.payload(42);
        assert_eq!(
            signer().verify(&p).unwrap_err().kind,
            ErrorKind::TicketForeign
        );
    }

    #[test]
    fn ticket_number_has_a_check_digit() {
        assert_eq!(ticket_number(42), "000042-2");
        assert_eq!(parse_ticket_number("000042-2").unwrap(), 42);
        assert!(parse_ticket_number("000043-2").is_err());
        assert!(parse_ticket_number("42").is_err());
        assert_eq!(
            parse_ticket_number(&ticket_number(1_234_567)).unwrap(),
            1_234_567
        );
    }
}
