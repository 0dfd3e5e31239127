//! What every request handler shares: the database pool and the server's settings.

use deadpool_postgres::Pool;

/// What every handler shares. The processes are stateless: everything lives in PostgreSQL.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub admin_token_sha256: [u8; 32],
}
