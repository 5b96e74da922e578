//! Times `Consultant::validate_schema` in-process: `validate_loop DB_URL MIGRATION N STORE`.
//! Used by tests/bench/python_overhead.py to measure what the Python binding adds.

use std::time::Instant;

use dbconsultant::{Consultant, ConsultantOptions, MigrationSource, SchemaValidationRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (url, migration, n, store) = (&args[1], &args[2], args[3].parse::<usize>()?, &args[4]);
    let consultant = Consultant::open(ConsultantOptions { store: Some(store.clone()) }).await?;
    let request =
        SchemaValidationRequest { database_url: url.clone(), migrations: MigrationSource::read_paths(&[migration])?, ..Default::default() };
    consultant.validate_schema(&request).await?; // warm-up
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        consultant.validate_schema(&request).await?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("{:.3}", times[n / 2]);
    Ok(())
}
