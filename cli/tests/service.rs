//! `dbconsultant keys` and `dbconsultant serve` on bad input: a clear error naming what was
//! wrong, exit code 3, nothing half-done (no key stored, no server left listening).

mod common;

use common::*;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn keys_refuse_bad_grants_and_unknown_ids_and_list_without_secrets() {
    let env = Env::new();
    for (grant, needle) in [("runner", "which environments"), ("boss", "unknown role 'boss'"), ("approver:live", "live")] {
        let out = env.cmd(&["keys", "create", "ci", "--grant", grant]);
        assert_eq!(out.status.code(), Some(3), "{grant}");
        assert!(stderr(&out).contains(needle), "{grant}: {}", stderr(&out));
    }
    let listed = env.cmd(&["keys", "list"]);
    assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), "no keys", "refused keys are not stored");

    let created = env.cmd(&["keys", "create", "ci", "--grant", "runner:qa"]);
    assert!(created.status.success(), "{}", stderr(&created));
    let key = String::from_utf8_lossy(&created.stdout).trim().to_string();
    assert!(key.starts_with("dbc_") && key.len() > 70, "{key}");
    let again = env.cmd(&["keys", "create", "ci", "--grant", "viewer"]);
    assert_eq!(again.status.code(), Some(3));
    assert!(stderr(&again).contains("named 'ci' exists"), "{}", stderr(&again));
    let json = String::from_utf8_lossy(&env.cmd(&["keys", "list", "--format", "json"]).stdout).into_owned();
    let secret = key.rsplit('_').next().unwrap();
    assert!(json.contains("runner:qa") && !json.contains(secret) && !json.contains("argon2"), "{json}");

    let unknown = env.cmd(&["keys", "revoke", "ffffffffffff"]);
    assert_eq!(unknown.status.code(), Some(3));
    assert!(stderr(&unknown).contains("no API key with id 'ffffffffffff'"), "{}", stderr(&unknown));
}

#[test]
fn serve_refuses_a_bad_targets_file_naming_the_file_and_the_target() {
    let env = Env::new();
    let cases = [
        ("[targets.shop]\nurl = 'oracle://x/y'\nenvironment = 'qa'\n", "target 'shop'"),
        ("[targets.shop]\nurl = 'sqlite:///x.db'\nenvironment = 'production'\n", "production"),
        ("[targets.shop]\nurl = 'sqlite:///x.db'\nenvironment = 'qa'\npassword_env = 'DBC_NOT_SET_ANYWHERE'\n", "DBC_NOT_SET_ANYWHERE"),
        ("[targets.shop]\nuri = 'sqlite:///x.db'\n", "uri"),
    ];
    for (text, needle) in cases {
        let file = env.dir.path().join("targets.toml");
        std::fs::write(&file, text).unwrap();
        let out = env.cmd(&["serve", "--listen", "127.0.0.1:0", "--targets", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(3), "{text}");
        let err = stderr(&out);
        assert!(err.contains("targets.toml") && err.contains(needle), "{text}: {err}");
    }
    let missing = env.cmd(&["serve", "--listen", "127.0.0.1:0", "--targets", "nowhere.toml"]);
    assert_eq!(missing.status.code(), Some(3));
    assert!(stderr(&missing).contains("nowhere.toml"), "{}", stderr(&missing));
}

#[test]
fn serve_on_a_taken_port_says_which_address() {
    let env = Env::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = env.cmd(&["serve", "--listen", &addr]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains(&addr), "{}", stderr(&out));
}

#[test]
fn serve_refuses_unreadable_or_mismatched_tls_files_before_listening() {
    let env = Env::new();
    let junk = env.dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    for (cert, key, needle) in
        [("missing.pem", "missing.key", "--tls-cert missing.pem"), (junk.to_str().unwrap(), "missing.key", "no PEM certificate")]
    {
        let out = env.cmd(&["serve", "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key]);
        assert_eq!(out.status.code(), Some(3), "{cert}");
        let err = stderr(&out);
        assert!(err.contains(needle) && !err.contains("listening"), "{cert}: {err}");
    }
    let half = env.cmd(&["serve", "--listen", "127.0.0.1:0", "--tls-cert", "c.pem"]);
    assert_eq!(half.status.code(), Some(3));
    assert!(stderr(&half).contains("--tls-key"), "{}", stderr(&half));
}

#[test]
fn serve_refuses_a_key_set_that_is_not_one() {
    let env = Env::new();
    let file = env.dir.path().join("jwks.json");
    for (text, needle) in [("{\"keys\": []}", "holds no key"), ("{\"nope\": 1}", "not a JWK set")] {
        std::fs::write(&file, text).unwrap();
        let out =
            env.cmd(&["serve", "--listen", "127.0.0.1:0", "--jwks", file.to_str().unwrap(), "--jwt-issuer", "i", "--jwt-audience", "a"]);
        assert_eq!(out.status.code(), Some(3), "{text}");
        assert!(stderr(&out).contains("jwks.json") && stderr(&out).contains(needle), "{text}: {}", stderr(&out));
    }
    let alone = env.cmd(&["serve", "--listen", "127.0.0.1:0", "--jwks", file.to_str().unwrap()]);
    assert_eq!(alone.status.code(), Some(3), "--jwks needs the issuer and the audience");
}
