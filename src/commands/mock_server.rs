//! `adskew mock-server`: the Graph API mock with the simulator behind it, on loopback.

use std::path::Path;

use super::load;
use crate::cli::MockServerArgs;
use crate::error::{Error, Result};
use crate::runtime;
use crate::scheduler;

pub fn execute(args: MockServerArgs) -> Result<()> {
    mock_server(
        args.addr,
        args.truth.as_deref(),
        args.seed,
        args.start.as_deref(),
        args.faults.as_deref(),
    )
}

fn mock_server(
    addr: std::net::SocketAddr,
    truth: Option<&Path>,
    seed: Option<u64>,
    start: Option<&str>,
    faults: Option<&Path>,
) -> Result<()> {
    let faults = match faults {
        Some(f) => crate::mockapi::faults::Faults::load(f).map_err(Error::BadInput)?,
        None => Default::default(),
    };
    // The account's currency is the truth experiment's, so its amounts mean the same.
    let (mut sim, currency) = match truth {
        Some(file) => {
            let exp = load(file)?;
            (crate::platform::sim::truth_of(&exp)?, exp.currency)
        }
        None => (
            crate::platform::sim::SimTruth::defaults(),
            "USD".to_string(),
        ),
    };
    if let Some(seed) = seed {
        sim.seed = seed;
    }
    let start = match start {
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .map_err(|e| Error::BadInput(format!("--start `{t}` is not an RFC 3339 time: {e}")))?
            .with_timezone(&chrono::Utc),
        None => scheduler::start_time_now(),
    };
    let runtime = runtime()?;
    runtime.block_on(async {
        let mock = crate::mockapi::Mock::with_faults(sim, start, faults);
        mock.set_currency(&currency);
        let bound = crate::mockapi::spawn(mock, addr)
            .await
            .map_err(|e| Error::io(format!("cannot listen on {addr}"), e))?;
        println!("Mock Graph API on http://{bound}/{}/ (any act_ id; clock at http://{bound}/__admin/clock). Ctrl-C stops it.", crate::platform::meta::versions::LATEST);
        tokio::signal::ctrl_c().await.map_err(|e| Error::io("waiting for Ctrl-C", e))?;
        Ok(())
    })
}
