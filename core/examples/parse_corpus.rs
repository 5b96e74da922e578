//! Parse every `.sql` file of a directory in one dialect and count the statements the
//! database's grammar refuses (syntax errors) and those the rules' parser cannot read,
//! grouped by their first words: how a parser upgrade or a new grammar is measured on real
//! migrations.
//!
//!     cargo run --release --example parse_corpus -- postgres path/to/migrations [--show N]

use std::collections::BTreeMap;

use dbconsultant::sql::{parse_script, MigrationSource};
use dbconsultant::Dialect;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dialect), Some(dir)) = (args.first(), args.get(1)) else {
        eprintln!("usage: parse_corpus DIALECT DIR [--show N]");
        std::process::exit(2);
    };
    let show: usize = args.iter().position(|a| a == "--show").and_then(|i| args.get(i + 1)).and_then(|n| n.parse().ok()).unwrap_or(0);
    let dialect: Dialect = dialect.parse().expect("dialect");
    let mut paths: Vec<_> = std::fs::read_dir(dir).expect("directory").filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let (mut statements, mut failed, mut rejected, mut psql) = (0usize, 0usize, 0usize, 0usize);
    let mut by_head: BTreeMap<String, usize> = BTreeMap::new();
    let mut shown = 0;
    for path in paths {
        let Ok(sql) = std::fs::read_to_string(&path) else { continue };
        let script = parse_script(&[MigrationSource::named(path.display().to_string(), sql)], dialect);
        for s in &script.statements {
            statements += 1;
            if let Some(r) = s.grammar.rejected() {
                rejected += 1;
                println!(
                    "=== refused by {dialect}: {}:{}:{} {}\n{}",
                    s.file,
                    r.line,
                    r.column,
                    r.message,
                    s.sql.chars().take(200).collect::<String>()
                );
            }
            if s.grammar == dbconsultant::sql::Grammar::PsqlMetaCommand {
                psql += 1;
            } else if let Err(e) = &s.ast {
                failed += 1;
                let head: Vec<String> = s.sql.split_whitespace().take(3).map(|w| w.to_ascii_uppercase()).collect();
                *by_head.entry(head.join(" ")).or_default() += 1;
                if shown < show {
                    shown += 1;
                    println!("--- {}:{} {}\n{}", s.file, s.line, e.message, s.sql.chars().take(300).collect::<String>());
                }
            }
        }
    }
    let mut heads: Vec<_> = by_head.into_iter().collect();
    heads.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (head, n) in heads.iter().take(25) {
        println!("{n:>6}  {head}");
    }
    println!(
        "{dialect}: {statements} statements, {rejected} refused by the database's grammar, {failed} not read by the rules' parser ({:.2}%), {psql} psql pieces",
        100.0 * failed as f64 / statements.max(1) as f64
    );
}
