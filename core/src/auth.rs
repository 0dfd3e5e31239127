//! Who may do what: password hashes (argon2id), TOTP second factors (RFC 6238), and the
//! permission table the engine checks for every command.

use crate::domain::Role;
use crate::error::{Error, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use hmac::{Hmac, Mac};
use serde::Serialize;
use std::fmt;

/// A password or code as typed: never printed, never journaled.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

fn argon2() -> Result<Argon2<'static>> {
    // OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| Error::storage(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Checks a new password against the lot's rules.
pub fn check_new_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < 10 {
        return Err(Error::invalid(format!(
            "a password needs at least 10 characters (this one has {n}); a short sentence works well"
        )));
    }
    if n > 256 {
        return Err(Error::invalid("a password has at most 256 characters"));
    }
    Ok(())
}

/// An argon2id PHC string for a password, with a fresh random salt.
pub fn hash_password(password: &str, salt: &[u8; 16]) -> Result<String> {
    let salt = SaltString::encode_b64(salt)
        .map_err(|e| Error::storage(format!("cannot encode a password salt: {e}")))?;
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::storage(format!("cannot hash the password: {e}")))
}

/// Whether a password matches its stored hash (false for a malformed hash).
pub fn verify_password(hash: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    argon2().is_ok_and(|a| a.verify_password(password.as_bytes(), &parsed).is_ok())
}

/// The 6-digit TOTP code for a secret at a Unix time (30-second steps, HMAC-SHA1).
pub fn totp_code(secret: &[u8], unix_seconds: i64) -> u32 {
    hotp(secret, (unix_seconds.max(0) / 30) as u64, 6)
}

fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(secret) else {
        return u32::MAX; // HMAC takes keys of any length; never reached
    };
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = (h[19] & 0x0f) as usize;
    let bin = (u32::from(h[off] & 0x7f) << 24)
        | (u32::from(h[off + 1]) << 16)
        | (u32::from(h[off + 2]) << 8)
        | u32::from(h[off + 3]);
    bin % 10u32.pow(digits)
}

/// Decodes a base32 TOTP secret as shown to the user.
pub fn decode_totp_secret(b32: &str) -> Result<Vec<u8>> {
    let clean: String = b32
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .collect::<String>()
        .to_ascii_uppercase();
    data_encoding::BASE32_NOPAD
        .decode(clean.as_bytes())
        .map_err(|_| Error::storage("a stored TOTP secret is not valid base32"))
}

/// Whether a typed code matches the secret at `unix_seconds`, allowing one step of clock drift.
pub fn verify_totp(secret_b32: &str, code: &str, unix_seconds: i64) -> Result<bool> {
    let secret = decode_totp_secret(secret_b32)?;
    let code = code.trim();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Ok(false);
    }
    let Ok(typed) = code.parse::<u32>() else {
        return Ok(false);
    };
    Ok([-30, 0, 30]
        .iter()
        .any(|d| totp_code(&secret, unix_seconds + d) == typed))
}

/// A new TOTP secret (160 bits) in base32, for an authenticator app.
pub fn encode_totp_secret(bytes: &[u8; 20]) -> String {
    data_encoding::BASE32_NOPAD.encode(bytes)
}

/// The otpauth:// URI an authenticator app can scan.
pub fn otpauth_uri(lot: &str, user: &str, secret_b32: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    format!(
        "otpauth://totp/Gatehouse%20{}:{}?secret={secret_b32}&issuer=Gatehouse%20{}&algorithm=SHA1&digits=6&period=30",
        enc(lot),
        enc(user),
        enc(lot)
    )
}

/// What a command needs: one row of the permission table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    Enter,
    Exit,
    Pay,
    LostTicket,
    Refund,
    VoidStay,
    OpenGate,
    OverrideSpot,
    SpotService,
    Reserve,
    PermitEdit,
    AccountTopUp,
    AccountEdit,
    VoucherIssue,
    VoucherApply,
    WatchlistEdit,
    TariffEdit,
    UserAdmin,
    Shift,
    AlertAck,
    Privacy,
    /// Apply orders from the shared server (they carry the server's authority).
    ServerOrders,
    /// Valet parking: take a driver's keys, park the car, hand it back.
    Valet,
}

impl Permission {
    pub const ALL: [Permission; 23] = [
        Permission::Enter,
        Permission::Exit,
        Permission::Pay,
        Permission::LostTicket,
        Permission::Refund,
        Permission::VoidStay,
        Permission::OpenGate,
        Permission::OverrideSpot,
        Permission::SpotService,
        Permission::Reserve,
        Permission::PermitEdit,
        Permission::AccountTopUp,
        Permission::AccountEdit,
        Permission::VoucherIssue,
        Permission::VoucherApply,
        Permission::WatchlistEdit,
        Permission::TariffEdit,
        Permission::UserAdmin,
        Permission::Shift,
        Permission::AlertAck,
        Permission::Privacy,
        Permission::ServerOrders,
        Permission::Valet,
    ];

    /// What the permission lets someone do, for messages and the table in the README.
    pub fn describe(self) -> &'static str {
        match self {
            Permission::Enter => "let a vehicle in",
            Permission::Exit => "let a vehicle out",
            Permission::Pay => "take a payment",
            Permission::LostTicket => "handle a lost ticket",
            Permission::Refund => "refund money",
            Permission::VoidStay => "void a stay",
            Permission::OpenGate => "open a gate, close a lane or hold an exit open by hand",
            Permission::OverrideSpot => "override a spot",
            Permission::SpotService => "take spots out of service or back",
            Permission::Reserve => "book, change or cancel reservations",
            Permission::PermitEdit => "issue, change or revoke permits",
            Permission::AccountTopUp => "top up a prepaid account",
            Permission::AccountEdit => "open prepaid accounts",
            Permission::VoucherIssue => "issue merchant vouchers",
            Permission::VoucherApply => "apply a voucher to a stay",
            Permission::WatchlistEdit => "edit the watchlist",
            Permission::TariffEdit => "change the tariff",
            Permission::UserAdmin => "manage users",
            Permission::Shift => "open or close a cashier shift",
            Permission::AlertAck => "acknowledge alerts",
            Permission::Privacy => "erase personal data",
            Permission::ServerOrders => "apply the shared server's orders",
            Permission::Valet => "run valet parking",
        }
    }
}

/// The permission table: whether a role may do something. Auditors read and never change.
pub fn permitted(role: Role, p: Permission) -> bool {
    use Permission as P;
    match role {
        Role::Auditor => false,
        Role::Admin => true,
        // Lanes, kiosks, pay stations and online booking.
        Role::System => matches!(
            p,
            P::Enter
                | P::Exit
                | P::Pay
                | P::LostTicket
                | P::Reserve
                | P::VoucherApply
                | P::ServerOrders
        ),
        Role::Attendant => matches!(
            p,
            P::Enter
                | P::Exit
                | P::Pay
                | P::LostTicket
                | P::OpenGate
                | P::Reserve
                | P::VoucherApply
                | P::Shift
                | P::AlertAck
                | P::Valet
        ),
        Role::Cashier => matches!(
            p,
            P::Enter
                | P::Exit
                | P::Pay
                | P::LostTicket
                | P::Reserve
                | P::VoucherApply
                | P::AccountTopUp
                | P::Shift
                | P::AlertAck
        ),
        Role::Supervisor => !matches!(
            p,
            P::TariffEdit | P::UserAdmin | P::Privacy | P::ServerOrders
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_matches_the_rfc_6238_vectors() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", 8 digits.
        let s = b"12345678901234567890";
        assert_eq!(hotp(s, 59 / 30, 8), 94287082);
        assert_eq!(hotp(s, 1111111109 / 30, 8), 7081804);
        assert_eq!(hotp(s, 2000000000 / 30, 8), 69279037);
        assert_eq!(totp_code(s, 59), 287082);
    }

    #[test]
    fn totp_accepts_one_step_of_drift_and_nothing_else() {
        let secret = encode_totp_secret(&[7; 20]);
        let raw = decode_totp_secret(&secret).unwrap();
        let now = 1_800_000_000;
        let code = format!("{:06}", totp_code(&raw, now));
        assert!(verify_totp(&secret, &code, now).unwrap());
        assert!(verify_totp(&secret, &code, now + 30).unwrap());
        assert!(!verify_totp(&secret, &code, now + 90).unwrap());
        assert!(!verify_totp(&secret, "12345", now).unwrap());
        assert!(!verify_totp(&secret, "abcdef", now).unwrap());
    }

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let h = hash_password("correct horse battery", &[1; 16]).unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "correct horse battery!"));
        assert!(!verify_password("not a hash", "correct horse battery"));
        assert!(check_new_password("short").is_err());
    }

    #[test]
    fn auditors_change_nothing_and_only_admins_manage_users() {
        for p in Permission::ALL {
            assert!(!permitted(Role::Auditor, p), "{p:?}");
            assert!(permitted(Role::Admin, p), "{p:?}");
        }
        for r in [
            Role::System,
            Role::Attendant,
            Role::Cashier,
            Role::Supervisor,
        ] {
            assert!(!permitted(r, Permission::UserAdmin), "{r:?}");
            assert!(!permitted(r, Permission::Privacy), "{r:?}");
        }
        assert!(permitted(Role::Supervisor, Permission::Refund));
        assert!(!permitted(Role::Cashier, Permission::Refund));
        assert!(permitted(Role::Cashier, Permission::Shift));
        assert!(!permitted(Role::System, Permission::OpenGate));
        // Only the sync client (a system actor) and admins apply the server's orders.
        for r in [Role::Attendant, Role::Cashier, Role::Supervisor] {
            assert!(!permitted(r, Permission::ServerOrders), "{r:?}");
        }
        assert!(permitted(Role::System, Permission::ServerOrders));
    }
}
