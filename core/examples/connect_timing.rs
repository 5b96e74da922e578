//! Times connection set-up, the way the drivers connect (sqlx on rustls):
//! `connect_timing URL N` prints the median and best milliseconds of N connects (each
//! connected, then closed with a round trip). tests/bench/tls.sh runs it with each sslmode.

use std::str::FromStr;
use std::time::Instant;

use sqlx::Connection;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (url, n) = (&args[1], args[2].parse::<usize>()?);
    let mut times = Vec::with_capacity(n);
    for i in 0..=n {
        let start = Instant::now();
        if url.starts_with("postgres") {
            let mut c = sqlx::postgres::PgConnection::connect_with(&sqlx::postgres::PgConnectOptions::from_str(url)?).await?;
            c.ping().await?;
            c.close().await?;
        } else {
            let mut c = sqlx::mysql::MySqlConnection::connect_with(&sqlx::mysql::MySqlConnectOptions::from_str(url)?).await?;
            c.ping().await?;
            c.close().await?;
        }
        if i > 0 {
            times.push(start.elapsed().as_secs_f64() * 1000.0); // the first is a warm-up
        }
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("{:.2} {:.2}", times[n / 2], times[0]);
    Ok(())
}
