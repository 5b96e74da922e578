//! Times `run_query` of 500 rows on SQLite with masking on (names, values and lineage) and
//! off: `query_masking DB N` prints the two medians in ms and a lineage-only figure (the
//! lineage analysis of the query alone). tests/bench/masking.sh creates the database.

use std::time::Instant;

use dbconsultant::driver::{connect_with, SessionOptions};
use dbconsultant::inspect::run_query;
use dbconsultant::masking::Masker;
use dbconsultant::url::DatabaseUrl;

const SQL: &str =
    "SELECT c.id, c.email, c.full_name, upper(c.email) AS shout, c.note || ' / ' || c.email AS line FROM customers c ORDER BY c.id";

fn median(mut t: Vec<f64>) -> f64 {
    t.sort_by(|a, b| a.partial_cmp(b).unwrap());
    t[t.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (db, n) = (&args[1], args[2].parse::<usize>()?);
    let driver = connect_with(&DatabaseUrl::parse(&format!("sqlite://{db}"))?, SessionOptions::default()).await?;
    let on = Masker::default();
    let off = Masker { disabled: true, ..Default::default() };
    let mut times = [Vec::new(), Vec::new()];
    for i in 0..=n {
        for (k, masker) in [&on, &off].into_iter().enumerate() {
            let start = Instant::now();
            let out = run_query(driver.as_ref(), SQL, 500, masker).await?;
            assert_eq!(out.row_count, 500);
            if i > 0 {
                times[k].push(start.elapsed().as_secs_f64() * 1000.0);
            }
        }
    }
    let mut lineage = Vec::new();
    for _ in 0..n {
        let start = Instant::now();
        let found = dbconsultant::masking::lineage::sensitive_outputs(SQL, dbconsultant::Dialect::Sqlite, |c| on.sensitive_name(c));
        std::hint::black_box(found);
        lineage.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let [masked, plain] = times;
    println!("{:.3} {:.3} {:.3}", median(masked), median(plain), median(lineage));
    Ok(())
}
