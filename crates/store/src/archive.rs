//! The API archive: every request adskew made to a real platform and the answer it got,
//! so a reviewer can check exactly what Meta was asked and what it said (provenance).
//!
//! Bodies are stored gzip-compressed with the SHA-256 of their uncompressed bytes, so an
//! archive that was tampered with or damaged is detectable. Credentials never get here: the
//! adapter redacts them before an [`Exchange`] exists.

use std::io::{Read, Write};

use adskew_core::digest::sha256_hex;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use rusqlite::params;

use super::{parse_time, ts, Store};
use crate::error::{Error, Result};
use adskew_core::platform::Exchange;

pub(super) fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(bytes)
        .and_then(|_| encoder.finish())
        .map_err(|e| Error::io("compressing an archived body", e).into())
}

pub(super) fn gunzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| Error::StoredData(format!("archived body is not valid gzip: {e}")))?;
    Ok(out)
}

impl Store {
    /// Appends exchanges to the archive in one transaction.
    pub fn archive(
        &mut self,
        experiment_id: Option<i64>,
        platform: &str,
        exchanges: &[Exchange],
    ) -> Result<()> {
        if exchanges.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO api_calls (experiment_id, platform, at, elapsed_ms, method, url,
                    request_gz, request_sha256, status, trace_id, response_gz, response_sha256,
                    response_bytes, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?;
            for x in exchanges {
                insert.execute(params![
                    experiment_id,
                    platform,
                    ts(x.at),
                    x.elapsed_ms as i64,
                    x.method,
                    x.url,
                    gzip(x.request.as_bytes())?,
                    sha256_hex(x.request.as_bytes()),
                    x.status,
                    x.trace_id,
                    gzip(&x.response)?,
                    sha256_hex(&x.response),
                    x.response.len() as i64,
                    x.error,
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The archived calls of an experiment (or, with `None`, those made outside any run), in
    /// the order they were made, as the [`Exchange`]s they were archived from. Fails if a body
    /// no longer matches its hash.
    pub fn api_calls(&self, experiment_id: Option<i64>) -> Result<Vec<Exchange>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, at, elapsed_ms, method, url, request_gz, request_sha256, status,
                    trace_id, response_gz, response_sha256, error
             FROM api_calls WHERE experiment_id IS ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![experiment_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Vec<u8>>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, u16>(7)?,
                r.get::<_, Option<String>>(8)?,
                r.get::<_, Vec<u8>>(9)?,
                r.get::<_, String>(10)?,
                r.get::<_, Option<String>>(11)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (
                id,
                at,
                elapsed,
                method,
                url,
                req_gz,
                req_hash,
                status,
                trace,
                resp_gz,
                resp_hash,
                error,
            ) = row?;
            let request = gunzip(&req_gz)?;
            let response = gunzip(&resp_gz)?;
            if sha256_hex(&request) != req_hash || sha256_hex(&response) != resp_hash {
                return Err(Error::StoredData(format!(
                    "api_calls row {id}: a body does not match its SHA-256; the archive was altered or damaged"
                )).into());
            }
            out.push(Exchange {
                at: parse_time(&at)?,
                elapsed_ms: elapsed as u64,
                method,
                url,
                request: String::from_utf8_lossy(&request).into_owned(),
                status,
                trace_id: trace,
                response,
                error,
            });
        }
        Ok(out)
    }
}
