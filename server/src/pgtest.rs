//! A throwaway PostgreSQL cluster for tests and the benchmark: its own data folder, a free TCP
//! port on 127.0.0.1, never the system's cluster. Started as the `postgres` user when run as root
//! (initdb refuses root). Stopped and removed on drop; a watchdog also removes it when the
//! process that started it ends without dropping it (a test binary's shared cluster, a panic).
//!
//! The binaries come from `GATEHOUSE_PG_BIN`, else /usr/lib/postgresql/15/bin.

use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

pub struct Cluster {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    watchdog: Option<Child>,
}

/// How the cluster runs.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// fsync and synchronous commit on (as in production); off makes tests faster.
    pub durable: bool,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: cannot run it: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

impl Cluster {
    pub fn start(opts: Options) -> Result<Cluster, String> {
        let bin = PathBuf::from(
            std::env::var("GATEHOUSE_PG_BIN")
                .unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()),
        );
        if !bin.join("initdb").exists() {
            return Err(format!(
                "PostgreSQL's initdb is not in {}: install PostgreSQL (apt-get install \
                 postgresql) or set GATEHOUSE_PG_BIN to its bin folder",
                bin.display()
            ));
        }
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("gatehouse-pg-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let as_postgres = std::fs::metadata(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .uid()
            == 0;
        let mut cluster = Cluster {
            port: 0,
            dir,
            bin,
            as_postgres,
            watchdog: None,
        };
        if as_postgres {
            run(
                Command::new("chown").arg("postgres:").arg(&cluster.dir),
                "chown postgres (is there a postgres user?)",
            )?;
        }
        let data = cluster.dir.join("data");
        run(
            cluster
                .pg("initdb")
                .arg("-D")
                .arg(&data)
                .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C"])
                .arg("--no-sync"),
            "initdb",
        )?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port on 127.0.0.1: {e}"))?
            .port();
        cluster.port = port;
        let mut o = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {} -c max_connections=400 \
             -c shared_buffers=256MB",
            cluster.dir.display()
        );
        if !opts.durable {
            o.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        // The watchdog first, so that even a failed start is cleaned up with the process.
        cluster.watchdog = Some(cluster.spawn_watchdog()?);
        run(
            cluster
                .pg("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(cluster.dir.join("log"))
                .args(["-w", "-t", "60", "-o", &o, "start"]),
            "pg_ctl start",
        )
        .map_err(|e| format!("{e}\nlog: {}", cluster.log()))?;
        Ok(cluster)
    }

    /// `postgres://…` for a database of this cluster.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates a fresh, empty database and returns its URL. `name`: a-z, 0-9 and '_'.
    pub async fn create_database(&self, name: &str) -> Result<String, String> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(format!("database name '{name}': use a-z, 0-9 and '_'"));
        }
        let (client, conn) = tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls)
            .await
            .map_err(|e| format!("connect to the test cluster: {e}"))?;
        let task = tokio::spawn(conn);
        // An identifier cannot be a bound parameter; the name is checked above.
        let r = client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .map_err(|e| format!("CREATE DATABASE {name}: {e}"));
        drop(client);
        let _ = task.await;
        r.map(|()| self.url(name))
    }

    /// The server log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    fn pg(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn stop_command(&self) -> String {
        let pg_ctl = self.bin.join("pg_ctl");
        let data = self.dir.join("data");
        let prefix = if self.as_postgres {
            "runuser -u postgres -- "
        } else {
            ""
        };
        format!(
            "{prefix}'{}' -D '{}' -m immediate stop >/dev/null 2>&1; rm -rf '{}'",
            pg_ctl.display(),
            data.display(),
            self.dir.display()
        )
    }

    fn spawn_watchdog(&self) -> Result<Child, String> {
        let script = format!(
            "while kill -0 {} 2>/dev/null; do sleep 0.5; done; {}",
            std::process::id(),
            self.stop_command()
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start the cluster's watchdog: {e}"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("sh")
            .args(["-c", &self.stop_command()])
            .stdin(Stdio::null())
            .status();
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}
