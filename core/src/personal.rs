//! Personal data in the journal. The journal is hash-chained and never edited, so it must not
//! hold what a person may ask to have erased: plates and holders' names go into it as keyed
//! tokens (`#` and 16 hex digits), and the clear values live in the `personal_data` table.
//! Reading the journal reveals what is still known; erasure and retention delete the clear
//! value, and the chain still verifies.

use crate::error::{Error, Result};
use crate::events::Event;
use crate::stays::LotContext;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

/// Fields that hold a plate (or a list of plates) or a holder's name.
const PLATE_FIELDS: [&str; 2] = ["plate", "plates"];
const HOLDER_FIELDS: [&str; 1] = ["holder"];
/// Free-text fields an attendant or the engine wrote, which may name a plate.
const TEXT_FIELDS: [&str; 3] = ["message", "reason", "note"];

/// The event as the journal stores it: kind and payload with personal data replaced by tokens.
/// The clear values are recorded in `personal_data`, to be shown from journal row `seq` on.
pub(crate) fn seal(conn: &Connection, ctx: &LotContext, seq: i64, event: &Event) -> Result<String> {
    let mut v = serde_json::to_value(event)
        .map_err(|e| Error::storage(format!("cannot encode a journal event: {e}")))?;
    let mut found: Vec<(String, String, &'static str)> = Vec::new();
    if let Some(obj) = v.as_object_mut() {
        for (fields, kind) in [(&PLATE_FIELDS[..], "plate"), (&HOLDER_FIELDS[..], "holder")] {
            for f in fields {
                let Some(slot) = obj.get_mut(*f) else {
                    continue;
                };
                let mut seal_one = |s: &mut String| {
                    let token = if kind == "plate" {
                        ctx.plate_hash(s)
                    } else {
                        ctx.holder_token(s)
                    };
                    found.push((std::mem::replace(s, token.clone()), token, kind));
                };
                match slot {
                    Value::String(s) if !is_token(s) => seal_one(s),
                    Value::Array(items) => {
                        for item in items {
                            if let Value::String(s) = item
                                && !is_token(s)
                            {
                                seal_one(s);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        for f in TEXT_FIELDS {
            if let Some(Value::String(s)) = obj.get_mut(f) {
                for (clear, token, kind) in &found {
                    if *kind == "plate" {
                        *s = replace_plate(s, clear, token);
                    }
                }
            }
        }
    }
    for (clear, token, kind) in &found {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO personal_data (token, kind, clear, since_seq) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![token, kind, clear, seq])?;
    }
    serde_json::to_string(&v)
        .map_err(|e| Error::storage(format!("cannot encode a journal event: {e}")))
}

/// Journal row `seq`'s payload with every token whose clear value is still known replaced by it;
/// erased ones stay tokens, and so do rows written before an erased plate came back.
pub fn reveal(conn: &Connection, seq: i64, payload: &str) -> Result<String> {
    let mut out = String::with_capacity(payload.len());
    let mut rest = payload;
    while let Some(i) = rest.find('#') {
        out.push_str(&rest[..i]);
        let candidate = &rest[i..];
        if candidate.len() >= 17 && is_token(&candidate[..17]) {
            let token = &candidate[..17];
            let clear: Option<String> = conn
                .prepare_cached(
                    "SELECT clear FROM personal_data WHERE token = ?1 AND since_seq <= ?2",
                )?
                .query_row(params![token, seq], |r| r.get(0))
                .optional()?;
            match clear {
                // The clear value goes back into JSON text: escape it as JSON would.
                Some(c) => {
                    let quoted = serde_json::to_string(&c).unwrap_or_default();
                    out.push_str(quoted.trim_matches('"'));
                }
                None => out.push_str(token),
            }
            rest = &candidate[17..];
        } else {
            out.push('#');
            rest = &candidate[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Deletes the clear value behind a token; returns whether there was one.
pub(crate) fn forget(conn: &Connection, token: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM personal_data WHERE token = ?1")?
        .execute([token])?
        > 0)
}

/// Deletes the clear plates that no table names in clear any more (their stays were
/// pseudonymised and no reservation, permit, watchlist entry or alert holds them).
pub(crate) fn forget_unused_plates(conn: &Connection) -> Result<u64> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM personal_data WHERE kind = 'plate' AND clear NOT IN (
                SELECT plate FROM stays WHERE plate IS NOT NULL
                UNION SELECT plate FROM reservations WHERE plate IS NOT NULL
                UNION SELECT plate FROM permit_plates
                UNION SELECT plate FROM watchlist
                UNION SELECT plate FROM alerts WHERE plate IS NOT NULL)",
        )?
        .execute([])? as u64)
}

/// `#` followed by exactly 16 lowercase hex digits.
pub fn is_token(s: &str) -> bool {
    s.len() == 17
        && s.starts_with('#')
        && s[1..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Replaces a plate written in free text, however it was spaced or cased (`W-AT 1`, `wat1`),
/// where it stands as a word of its own (not inside a longer word).
fn replace_plate(s: &str, plate: &str, with: &str) -> String {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let want: Vec<char> = plate.chars().collect();
    if want.is_empty() {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut copied = 0; // byte offset in s copied so far
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || !chars[i - 1].1.is_alphanumeric();
        if starts_word && let Some(end) = plate_at(&chars, i, &want) {
            let after = chars.get(end).map(|c| c.1);
            if !after.is_some_and(char::is_alphanumeric) {
                out.push_str(&s[copied..chars[i].0]);
                out.push_str(with);
                copied = chars.get(end).map_or(s.len(), |c| c.0);
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&s[copied..]);
    out
}

/// Where the plate `want` written from `chars[i]` on ends (exclusive), if it is there.
fn plate_at(chars: &[(usize, char)], mut i: usize, want: &[char]) -> Option<usize> {
    let mut k = 0;
    while k < want.len() {
        let c = chars.get(i)?.1;
        if c.is_alphanumeric() {
            if !c.to_uppercase().eq(std::iter::once(want[k])) {
                return None;
            }
            k += 1;
        } else if k == 0 || !matches!(c, ' ' | '-' | '.' | '·' | ':') {
            return None;
        }
        i += 1;
    }
    Some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plate_in_free_text_is_found_however_written_but_not_inside_longer_words() {
        assert_eq!(
            replace_plate("plate AB1 at E1; AB12 too", "AB1", "#t"),
            "plate #t at E1; AB12 too"
        );
        assert_eq!(replace_plate("AB1", "AB1", "#t"), "#t");
        assert_eq!(replace_plate("XAB1 ab-1.", "AB1", "#t"), "XAB1 #t.");
        assert_eq!(
            replace_plate("ask W-AT 1 to call; wat 12 no", "WAT1", "#t"),
            "ask #t to call; wat 12 no"
        );
        assert_eq!(replace_plate("Müller B-ÄB 1", "BÄB1", "#t"), "Müller #t");
    }

    #[test]
    fn tokens_are_hash_and_sixteen_hex_digits() {
        assert!(is_token("#0123456789abcdef"));
        assert!(!is_token("#0123456789abcde"));
        assert!(!is_token("#0123456789ABCDEF"));
        assert!(!is_token("B-AB 1234"));
    }
}
