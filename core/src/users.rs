//! Local users: argon2id passwords, TOTP for admins, lockout after failed logins, and the login
//! sessions a person's commands carry.

use crate::auth::{self, Secret};
use crate::command as req;
use crate::domain::Role;
use crate::engine::{Job, Outcome, random_bytes};
use crate::error::{Error, ErrorKind, Result};
use crate::events::Event;
use crate::store::{parse_ts, ts};
use crate::tx::{Applied, Effect, Handle, Tx, recorded};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggedIn {
    pub user: String,
    pub role: Role,
    /// The session token: present it with every command (never stored in clear).
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserAdded {
    pub user: String,
    pub role: Role,
    /// For admins: the TOTP secret to enter in an authenticator app, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otpauth_uri: Option<String>,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn check_user_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(Error::invalid(
            "a user name is 1 to 64 letters, digits, '.', '-' or '_', for example 'anna.k'",
        ));
    }
    Ok(name)
}

struct UserRow {
    role: Role,
    password_hash: String,
    totp_secret: Option<String>,
    failed: u32,
    locked_until: Option<DateTime<Utc>>,
    disabled: bool,
}

impl Tx<'_> {
    fn user(&self, name: &str) -> Result<Option<UserRow>> {
        type Row = (String, String, Option<String>, u32, Option<String>, bool);
        let row: Option<Row> = self
            .conn
            .prepare_cached(
                "SELECT role, password_hash, totp_secret, failed, locked_until, disabled FROM users WHERE name = ?1",
            )?
            .query_row([name], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
            })
            .optional()?;
        row.map(
            |(role, password_hash, totp_secret, failed, locked, disabled)| {
                Ok(UserRow {
                    role: Role::parse(&role)?,
                    password_hash,
                    totp_secret,
                    failed,
                    locked_until: locked.as_deref().map(parse_ts).transpose()?,
                    disabled,
                })
            },
        )
        .transpose()
    }

    /// A person's command must carry a live session of that user with that role.
    pub(crate) fn check_session(&self, job: &Job) -> Result<()> {
        let refuse = |why: &str| {
            Error::new(
                ErrorKind::Forbidden,
                format!("{why}; log in (gatehouse --user NAME, password in GATEHOUSE_PASSWORD)"),
            )
        };
        let Some(token) = &job.actor.session else {
            return Err(refuse(&format!(
                "this lot has users, and '{}' has not logged in",
                job.actor.name
            )));
        };
        let row: Option<(String, String, String, bool)> = self
            .conn
            .prepare_cached(
                "SELECT s.user, s.role, s.expires_at, u.disabled FROM sessions s JOIN users u ON u.name = s.user WHERE s.token_sha256 = ?1",
            )?
            .query_row([token_hash(token)], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let Some((user, role, expires, disabled)) = row else {
            return Err(refuse("the session is unknown or has ended"));
        };
        if user != job.actor.name || role != job.actor.role.as_str() {
            return Err(refuse(&format!(
                "the session belongs to {user} ({role}), not {} ({})",
                job.actor.name,
                job.actor.role.as_str()
            )));
        }
        if disabled {
            return Err(refuse(&format!("user {user} is disabled")));
        }
        if parse_ts(&expires)? <= job.at {
            return Err(refuse("the session has expired"));
        }
        Ok(())
    }

    pub(crate) fn login(
        &mut self,
        at: DateTime<Utc>,
        user: &str,
        password: &Secret,
        totp: Option<&Secret>,
    ) -> Result<Applied> {
        let pol = &self.ctx.config.policies;
        let (lockout_after, lockout_minutes, session_hours) =
            (pol.lockout_after, pol.lockout_minutes, pol.session_hours);
        let generic = || {
            Error::new(
                ErrorKind::Forbidden,
                "wrong user name, password or code; check and try again",
            )
        };
        let Some(u) = self.user(user.trim())? else {
            // Unknown names are journaled too, without telling the caller which part was wrong.
            return Ok(Applied::refusal(
                generic(),
                vec![Event::LoginFailed {
                    user: user.trim().chars().take(64).collect(),
                    reason: "unknown user".into(),
                    failures: 0,
                }],
            ));
        };
        let name = user.trim().to_string();
        if u.disabled {
            return Err(Error::new(
                ErrorKind::Forbidden,
                format!("user {name} is disabled; an admin can enable them"),
            ));
        }
        if let Some(until) = u.locked_until
            && at < until
        {
            return Err(Error::new(
                ErrorKind::Forbidden,
                format!(
                    "user {name} is locked after too many failed logins until {}; wait, or ask an admin to enable the user",
                    self.ctx.local(until)
                ),
            ));
        }
        let mut why = None;
        if !auth::verify_password(&u.password_hash, &password.0) {
            why = Some("wrong password");
        } else if let Some(secret) = &u.totp_secret {
            match totp {
                None => why = Some("second factor missing"),
                Some(code) if !auth::verify_totp(secret, &code.0, at.timestamp())? => {
                    why = Some("wrong second-factor code")
                }
                Some(_) => {}
            }
        }
        if let Some(reason) = why {
            let failures = u.failed + 1;
            let mut events = vec![Event::LoginFailed {
                user: name.clone(),
                reason: reason.into(),
                failures,
            }];
            let locked = failures >= lockout_after;
            let until = at + Duration::minutes(i64::from(lockout_minutes));
            self.conn
                .prepare_cached(
                    "UPDATE users SET failed = ?2, locked_until = CASE WHEN ?3 THEN ?4 ELSE locked_until END WHERE name = ?1",
                )?
                .execute(params![name, if locked { 0 } else { failures }, locked, ts(until)])?;
            if locked {
                events.push(Event::UserLocked {
                    user: name.clone(),
                    until: ts(until),
                });
            }
            let err = if reason == "second factor missing" {
                Error::new(
                    ErrorKind::Forbidden,
                    format!(
                        "user {name} needs a code from their authenticator app (GATEHOUSE_TOTP)"
                    ),
                )
            } else if locked {
                Error::new(
                    ErrorKind::Forbidden,
                    format!(
                        "too many failed logins: user {name} is locked until {}",
                        self.ctx.local(until)
                    ),
                )
            } else {
                generic()
            };
            return Ok(Applied::refusal(err, events));
        }
        let token = hex::encode(random_bytes::<32>()?);
        let expires_at = at + Duration::hours(i64::from(session_hours));
        self.conn
            .prepare_cached("DELETE FROM sessions WHERE expires_at <= ?1")?
            .execute([ts(at)])?;
        self.conn
            .prepare_cached(
                "INSERT INTO sessions (token_sha256, user, role, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![token_hash(&token), name, u.role.as_str(), ts(at), ts(expires_at)])?;
        self.conn
            .prepare_cached("UPDATE users SET failed = 0, locked_until = NULL WHERE name = ?1")?
            .execute([&name])?;
        Ok(Applied::new(
            Outcome::LoggedIn(LoggedIn {
                user: name.clone(),
                role: u.role,
                token,
                expires_at,
            }),
            vec![Event::LoginSucceeded {
                user: name,
                role: u.role.as_str().into(),
            }],
            vec![],
        ))
    }

    pub(crate) fn logout(&mut self, job: &Job) -> Result<Applied> {
        let Some(token) = &job.actor.session else {
            return Err(Error::invalid("there is no session to end"));
        };
        self.conn
            .prepare_cached("DELETE FROM sessions WHERE token_sha256 = ?1")?
            .execute([token_hash(token)])?;
        Ok(Applied::new(
            recorded("logged out", None, format!("{} logged out", job.actor.name)),
            vec![Event::LoggedOut {
                user: job.actor.name.clone(),
            }],
            vec![],
        ))
    }

    pub(crate) fn add_user(
        &mut self,
        at: DateTime<Utc>,
        name: &str,
        role: Role,
        password: &Secret,
    ) -> Result<Applied> {
        let name = check_user_name(name)?;
        if role == Role::System {
            return Err(Error::invalid(
                "lanes and terminals act as 'system'; people get attendant, cashier, supervisor, admin or auditor",
            ));
        }
        auth::check_new_password(&password.0)?;
        if self.user(name)?.is_some() {
            return Err(Error::conflict(format!("user {name} already exists")));
        }
        let hash = auth::hash_password(&password.0, &random_bytes::<16>()?)?;
        let totp = if role == Role::Admin {
            Some(auth::encode_totp_secret(&random_bytes::<20>()?))
        } else {
            None
        };
        self.conn
            .prepare_cached(
                "INSERT INTO users (name, role, password_hash, totp_secret, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![name, role.as_str(), hash, totp, ts(at)])?;
        let uri = totp
            .as_deref()
            .map(|s| auth::otpauth_uri(&self.ctx.config.lot.id, name, s));
        Ok(Applied::new(
            Outcome::UserAdded(UserAdded {
                user: name.to_string(),
                role,
                totp_secret: totp.clone(),
                otpauth_uri: uri,
            }),
            vec![Event::UserAdded {
                user: name.to_string(),
                role: role.as_str().into(),
                second_factor: totp.is_some(),
            }],
            vec![Effect::UsersExist],
        ))
    }

    pub(crate) fn set_password(
        &mut self,
        job: &Job,
        name: &str,
        password: &Secret,
    ) -> Result<Applied> {
        let name = name.trim();
        if name != job.actor.name && !auth::permitted(job.actor.role, auth::Permission::UserAdmin) {
            return Err(Error::new(
                ErrorKind::Forbidden,
                "only an admin may set another user's password",
            ));
        }
        if self.user(name)?.is_none() {
            return Err(Error::not_found(format!("there is no user {name}")));
        }
        auth::check_new_password(&password.0)?;
        let hash = auth::hash_password(&password.0, &random_bytes::<16>()?)?;
        self.conn
            .prepare_cached("UPDATE users SET password_hash = ?2 WHERE name = ?1")?
            .execute(params![name, hash])?;
        // Other sessions of that user end: a changed password locks out whoever knew the old one.
        self.conn
            .prepare_cached("DELETE FROM sessions WHERE user = ?1 AND token_sha256 != ?2")?
            .execute(params![
                name,
                job.actor
                    .session
                    .as_deref()
                    .map(token_hash)
                    .unwrap_or_default()
            ])?;
        Ok(Applied::new(
            recorded(
                "password",
                None,
                format!("the password of {name} was changed"),
            ),
            vec![Event::UserChanged {
                user: name.to_string(),
                change: "password changed".into(),
            }],
            vec![],
        ))
    }

    pub(crate) fn set_user_enabled(&mut self, name: &str, enabled: bool) -> Result<Applied> {
        let name = name.trim();
        let n = self
            .conn
            .prepare_cached(
                "UPDATE users SET disabled = ?2, failed = 0, locked_until = NULL WHERE name = ?1",
            )?
            .execute(params![name, !enabled])?;
        if n == 0 {
            return Err(Error::not_found(format!("there is no user {name}")));
        }
        if !enabled {
            self.conn
                .prepare_cached("DELETE FROM sessions WHERE user = ?1")?
                .execute([name])?;
        }
        let change = if enabled { "enabled" } else { "disabled" };
        Ok(Applied::new(
            recorded("user", None, format!("user {name} {change}")),
            vec![Event::UserChanged {
                user: name.to_string(),
                change: change.into(),
            }],
            vec![],
        ))
    }
}

/// A user as lists show them: never their hash or secret. Times are the stored UTC text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserListed {
    pub name: String,
    pub role: Role,
    /// Whether they log in with a second factor.
    pub second_factor: bool,
    pub disabled: bool,
    pub locked_until: Option<String>,
    pub created_at: String,
}

/// Users, for lists (never their hashes or secrets).
pub fn list_users(conn: &rusqlite::Connection) -> Result<Vec<UserListed>> {
    let mut stmt = conn.prepare(
        "SELECT name, role, totp_secret IS NOT NULL, disabled, locked_until, created_at FROM users ORDER BY name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(UserListed {
            name: r.get(0)?,
            role: crate::store::column_as(1, Role::parse(&r.get::<_, String>(1)?))?,
            second_factor: r.get(2)?,
            disabled: r.get(3)?,
            locked_until: r.get(4)?,
            created_at: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

impl Handle for req::Login {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let at = job.at;
        let req::Login {
            user,
            password,
            totp,
        } = self;
        tx.login(at, user, password, totp.as_ref())
    }
}

impl Handle for req::Logout {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let req::Logout = self;
        tx.logout(job)
    }
}

impl Handle for req::AddUser {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let at = job.at;
        let req::AddUser {
            name,
            role,
            password,
        } = self;
        tx.add_user(at, name, *role, password)
    }
}

impl Handle for req::SetPassword {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let req::SetPassword { name, password } = self;
        tx.set_password(job, name, password)
    }
}

impl Handle for req::SetUserEnabled {
    fn handle(&self, tx: &mut Tx<'_>, _job: &Job) -> Result<Applied> {
        let req::SetUserEnabled { name, enabled } = self;
        tx.set_user_enabled(name, *enabled)
    }
}
