//! TLS and credentials from the environment users already set, through the CLI against the
//! real test servers (TLS on, certificate for `localhost` only): libpq's `PGSSLMODE`,
//! `PGSSLROOTCERT`, `PGPASSWORD` and `PGPASSFILE`; URLs from `DBCONSULTANT_*_URL` instead of
//! the command line; the PostgreSQL artifact store over verify-full; an ETL run between two
//! TLS servers.

mod common;

use std::process::Command;

use common::*;

fn cert(file: &str) -> String {
    format!("{}/{file}", server_url("DBCONSULTANT_TEST_TLS_DIR").unwrap())
}

/// The admin URL of a server, on `host`, with or without its password.
fn url_on(var: &str, host: &str, keep_password: bool) -> Option<(String, String)> {
    let mut u = url::Url::parse(&server_url(var)?).unwrap();
    let password = u.password().unwrap_or("").to_string();
    u.set_host(Some(host)).unwrap();
    if !keep_password {
        u.set_password(None).unwrap();
    }
    Some((u.to_string(), password))
}

const PG_TLS_VERSION: &str = "SELECT version AS tls FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

#[test]
fn libpq_environment_sets_tls_mode_and_ca() {
    let env = Env::new();
    let Some((url, password)) = url_on("DBCONSULTANT_TEST_POSTGRES_URL", "localhost", true) else { return };
    let query = ["inspect", "query", PG_TLS_VERSION, "--format", "json"];
    let wrong_ca = cert("other-ca.crt");
    let out = env.cmd_with_env(&query, &[("DBCONSULTANT_DB_URL", &url), ("PGSSLMODE", "verify-full"), ("PGSSLROOTCERT", &wrong_ca)]);
    assert_eq!(code(&out), 3, "{}", stdout(&out));
    assert!(stderr(&out).contains("not signed by a trusted CA"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(&password), "{}", stderr(&out));
    let right_ca = cert("ca.crt");
    let out = env.cmd_with_env(&query, &[("DBCONSULTANT_DB_URL", &url), ("PGSSLMODE", "verify-full"), ("PGSSLROOTCERT", &right_ca)]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("TLSv1"), "{}", stdout(&out));
}

#[test]
fn password_from_pgpassword_or_pgpass_not_the_url() {
    let env = Env::new();
    let Some((url, password)) = url_on("DBCONSULTANT_TEST_POSTGRES_URL", "127.0.0.1", false) else { return };
    let query = ["inspect", "query", "SELECT current_user AS who", "--db", &url, "--format", "json"];
    let out = env.cmd_with_env(&query, &[("PGPASSWORD", &password)]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let pgpass = env.dir.path().join("pgpass");
    let port = url::Url::parse(&url).unwrap().port().unwrap();
    std::fs::write(&pgpass, format!("127.0.0.1:{port}:*:postgres:{password}\n")).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&pgpass, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let out = env.cmd_with_env(&query, &[("PGPASSFILE", pgpass.to_str().unwrap())]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // Neither: a clear authentication error, not a hang or a panic.
    let out = env.cmd_with_env(&query, &[("PGPASSFILE", "/nonexistent")]);
    assert_eq!(code(&out), 3);
    assert!(stderr(&out).to_lowercase().contains("password"), "{}", stderr(&out));
}

/// `--password-file` (a mounted secret) for a URL without a password; a second, different
/// password is refused; neither the password nor the file's content is ever printed.
#[test]
fn password_from_a_file() {
    let env = Env::new();
    let Some((url, password)) = url_on("DBCONSULTANT_TEST_POSTGRES_URL", "127.0.0.1", false) else { return };
    let file = env.dir.path().join("db-password");
    std::fs::write(&file, format!("{password}\n")).unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let file = file.to_str().unwrap();
    let no_pgpass = [("PGPASSFILE", "/nonexistent"), ("PGPASSWORD", "")];
    let query = |extra: &[&str]| {
        let mut args = vec!["inspect", "query", "SELECT current_user AS who", "--db", &url, "--format", "json"];
        args.extend_from_slice(extra);
        env.cmd_with_env(&args, &no_pgpass)
    };
    let out = query(&["--password-file", file]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("postgres"), "{}", stdout(&out));
    let out = query(&["--password-file", "/nonexistent/db-password"]);
    assert_eq!(code(&out), 3);
    assert!(stderr(&out).contains("cannot read the password file /nonexistent/db-password"), "{}", stderr(&out));
    // A run stores nothing of it either.
    let migration = env.dir.path().join("V1__t.sql");
    std::fs::write(&migration, "CREATE TABLE dbc_pwfile_probe (id int);").unwrap();
    let out = env.cmd_with_env(
        &[
            "schema",
            "validate",
            "--db",
            &url,
            "--password-file",
            file,
            migration.to_str().unwrap(),
            "--sandbox-on-target",
            "--format",
            "json",
        ],
        &no_pgpass,
    );
    assert!(matches!(code(&out), 0 | 1), "{}", stderr(&out));
    let store = std::fs::read(env.dir.path().join("store.db")).unwrap();
    assert!(!String::from_utf8_lossy(&store).contains(&password), "the store holds the password");
    assert!(!stdout(&out).contains(&password) && !stderr(&out).contains(&password));
    let (with_password, _) = url_on("DBCONSULTANT_TEST_POSTGRES_URL", "127.0.0.1", true).unwrap();
    std::fs::write(env.dir.path().join("other"), "not-the-same\n").unwrap();
    let out = env.cmd(&["inspect", "schemas", "--db", &with_password, "--password-file", env.dir.path().join("other").to_str().unwrap()]);
    assert_eq!(code(&out), 3);
    assert!(stderr(&out).contains("two passwords"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("not-the-same") && !stderr(&out).contains(&password), "{}", stderr(&out));
}

/// MySQL's own places for a password: the `[client]` group of `~/.my.cnf`, then `MYSQL_PWD`.
#[test]
fn mysql_password_from_option_file_or_mysql_pwd() {
    let env = Env::new();
    let Some((url, password)) = url_on("DBCONSULTANT_TEST_MYSQL_URL", "127.0.0.1", false) else { return };
    let home = env.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let home = home.to_str().unwrap();
    let query = ["inspect", "query", "SELECT CURRENT_USER() AS who", "--db", &url, "--format", "json"];
    let out = env.cmd_with_env(&query, &[("HOME", home)]);
    assert_eq!(code(&out), 3, "no password anywhere must fail: {}", stdout(&out));
    assert!(stderr(&out).contains("Access denied"), "{}", stderr(&out));
    let out = env.cmd_with_env(&query, &[("HOME", home), ("MYSQL_PWD", &password)]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    std::fs::write(format!("{home}/.my.cnf"), format!("[mysqld]\npassword=wrong\n[client]\npassword = \"{password}\"\n")).unwrap();
    let out = env.cmd_with_env(&query, &[("HOME", home), ("MYSQL_PWD", "wrong")]);
    assert_eq!(code(&out), 0, "the option file comes before MYSQL_PWD: {}", stderr(&out));
    assert!(!stdout(&out).contains(&password) && !stderr(&out).contains(&password));
}

/// The PostgreSQL artifact store over verify-full, and an ETL comparison between the two
/// servers with both connections verified.
#[test]
fn store_and_etl_over_verified_tls() {
    let env = Env::new();
    let Some((pg, _)) = url_on("DBCONSULTANT_TEST_POSTGRES_URL", "localhost", true) else { return };
    let Some((my, _)) = url_on("DBCONSULTANT_TEST_MYSQL_URL", "localhost", true) else { return };
    let name = format!("dbc_cli_tls_{}", std::process::id());
    let psql = |url: &str, sql: &str| {
        let out = Command::new("psql").args([url, "-qtAc", sql]).output().expect("psql is installed by scripts/test.sh");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    let mariadb = |sql: &str| {
        let u = url::Url::parse(&my).unwrap();
        let out = Command::new("mariadb")
            .args(["--no-defaults", "-h", "127.0.0.1", "-P", &u.port().unwrap().to_string(), "-u", u.username()])
            .arg(format!("-p{}", u.password().unwrap()))
            .args(["-e", sql])
            .output()
            .expect("mariadb is installed by scripts/test.sh");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    psql(&pg, &format!("DROP DATABASE IF EXISTS {name}"));
    psql(&pg, &format!("CREATE DATABASE {name}"));
    let with_db = |base: &str, params: &str| format!("{}/{name}?{params}", base.rsplit_once('/').unwrap().0);
    let verify_pg = format!("sslmode=verify-full&sslrootcert={}", cert("ca.crt"));
    let verify_my = format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={}", cert("ca.crt"));
    psql(
        &with_db(&pg, ""),
        "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 500) g;",
    );
    mariadb(&format!(
        "DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}; USE {name}; CREATE TABLE t (id int PRIMARY KEY, v text); \
         INSERT INTO t SELECT seq, CONCAT('v', seq) FROM seq_1_to_500;"
    ));
    let store = with_db(&pg, &verify_pg);
    let out = env.cmd_with_env(
        &["etl", "validate", "--source-table", "t", "--format", "json"],
        &[
            ("DBCONSULTANT_STORE", &store),
            ("DBCONSULTANT_SOURCE_URL", &with_db(&pg, &verify_pg)),
            ("DBCONSULTANT_TARGET_URL", &with_db(&my, &verify_my)),
        ],
    );
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let run = json(&out);
    let id = run["test_run_id"].as_str().unwrap();
    let shown = env.cmd_with_env(&["runs", "show", id, "--format", "json"], &[("DBCONSULTANT_STORE", &store)]);
    assert_eq!(code(&shown), 0, "{}", stderr(&shown));
    assert_eq!(json(&shown)["test_run_id"], id);
    psql(&pg, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    mariadb(&format!("DROP DATABASE IF EXISTS {name}"));
}
