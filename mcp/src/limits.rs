//! Limits of one server: calls per minute (a sliding window), and the size of a result.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde_json::Value;

/// At most `per_minute` calls in any 60 seconds (0: unlimited).
pub struct RateLimiter {
    per_minute: u32,
    recent: VecDeque<Instant>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        RateLimiter { per_minute, recent: VecDeque::new() }
    }

    /// Take one call, or say how long until one is allowed.
    pub fn try_acquire(&mut self, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let window = Duration::from_secs(60);
        while self.recent.front().is_some_and(|t| now.duration_since(*t) >= window) {
            self.recent.pop_front();
        }
        if self.recent.len() >= self.per_minute as usize {
            let oldest = *self.recent.front().expect("full window");
            return Err(window - now.duration_since(oldest));
        }
        self.recent.push_back(now);
        Ok(())
    }
}

/// Fit a result into `max_bytes` of JSON. Query rows are dropped from the end (and the
/// result marked `truncated`, with the reason); any other result too large is an error.
pub fn fit(mut value: Value, max_bytes: usize) -> Result<(Value, String), String> {
    let text = value.to_string();
    if text.len() <= max_bytes {
        return Ok((value, text));
    }
    let size = text.len();
    let Some(rows) = value.get_mut("rows").and_then(Value::as_array_mut) else {
        return Err(format!("the result is {size} bytes, more than the limit of {max_bytes} (mcp.max_response_bytes): narrow the request"));
    };
    // Row sizes are known, so cut once at the last row that fits, leaving room for the rest.
    let overhead = size - rows.iter().map(|r| r.to_string().len() + 1).sum::<usize>() + 64;
    let mut used = overhead;
    let keep = rows
        .iter()
        .take_while(|r| {
            used += r.to_string().len() + 1;
            used <= max_bytes
        })
        .count();
    rows.truncate(keep);
    value["row_count"] = Value::from(keep);
    value["truncated"] = Value::Bool(true);
    value["truncated_reason"] = Value::from(format!("rows beyond {keep} dropped to keep the result under {max_bytes} bytes"));
    let text = value.to_string();
    if text.len() > max_bytes {
        return Err(format!("even one row is more than the limit of {max_bytes} bytes (mcp.max_response_bytes): select fewer columns"));
    }
    Ok((value, text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn window_allows_per_minute_then_waits() {
        let mut r = RateLimiter::new(3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(r.try_acquire(t0).is_ok());
        }
        let wait = r.try_acquire(t0 + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(r.try_acquire(t0 + Duration::from_secs(60)).is_ok());
        assert!(RateLimiter::new(0).try_acquire(t0).is_ok());
    }

    #[test]
    fn rows_are_cut_to_fit_and_marked() {
        let rows: Vec<Value> = (0..1000).map(|i| json!({"id": i, "name": "x".repeat(50)})).collect();
        let v = json!({"columns": ["id", "name"], "rows": rows, "row_count": 1000, "truncated": false});
        let (fitted, text) = fit(v, 10_000).unwrap();
        assert!(text.len() <= 10_000);
        let kept = fitted["rows"].as_array().unwrap().len();
        assert!(kept > 100 && kept < 1000, "{kept}");
        assert_eq!(fitted["row_count"], json!(kept));
        assert_eq!(fitted["truncated"], json!(true));
        assert!(fit(json!({"plan": "y".repeat(5000)}), 1024).is_err());
    }
}
