//! `adskew run` on `platform = "meta"` through the CLI, against `adskew mock-server` on
//! 127.0.0.1: without `--live` a dry run creates nothing; with it the experiment runs over
//! HTTP and gives the simulator's numbers.

mod common;
use serde_json::Value;

use common::mock::{adskew, example, get_json, start_mock};

#[test]
fn meta_runs_are_dry_unless_live_and_match_the_simulator_when_live() {
    let mock = start_mock();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.db");
    let out = tmp.path().join("out");

    let dry = adskew(&mock.1)
        .current_dir(tmp.path())
        .arg("run")
        .arg(example())
        .arg("--db")
        .arg(&db)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let dry = String::from_utf8(dry).unwrap();
    assert!(
        dry.contains("Dry run") && dry.contains("500.00 USD") && dry.contains("spend_cap"),
        "{dry}"
    );
    assert!(!db.exists() && !out.exists(), "a dry run writes nothing");
    assert!(dry.contains("validate_only"), "{dry}");
    let stats = get_json(&format!("{}/__admin/stats", mock.1));
    // The doctor's checks of the account (reads only), then one validate_only call.
    assert!(
        dry.contains("ok    token") && dry.contains("ok    payment method"),
        "{dry}"
    );
    assert!(stats["requests"].as_u64().unwrap() >= 2, "{stats}");
    assert_eq!(stats["objects"], 0, "a dry run creates nothing: {stats}");

    adskew(&mock.1)
        .current_dir(tmp.path())
        .args(["run", "--live", "--quiet"])
        .arg(example())
        .arg("--db")
        .arg(&db)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let via_meta: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("imana2021-paired-jobs/results.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(via_meta["experiment"]["platform"], "meta");
    let overrides = via_meta["experiment"]["overrides"].to_string();
    assert!(
        !overrides.contains("cli-test-token"),
        "the token is not an experiment override: {overrides}"
    );
    // The archive's bodies are compressed, so look inside them too.
    let store = adskew::store::Store::open_existing(&db).unwrap();
    let id = via_meta["experiment"]["id"].as_i64().unwrap();
    let archived = store.api_calls(Some(id)).unwrap();
    assert!(archived.len() > 13, "every API call is archived");
    assert!(archived.iter().all(|c| !c.url.contains("cli-test-token")
        && !c.request.contains("cli-test-token")
        && !String::from_utf8_lossy(&c.response).contains("cli-test-token")));
    let stored = std::fs::read(&db).unwrap();
    assert!(
        !String::from_utf8_lossy(&stored).contains("cli-test-token"),
        "the token never reaches the store"
    );

    // The same experiment on the in-process simulator.
    let sim_out = tmp.path().join("sim");
    let mut sim = common::adskew();
    sim.args(["run", "--quiet"])
        .arg(example())
        .arg("--db")
        .arg(tmp.path().join("sim.db"))
        .arg("--out")
        .arg(&sim_out);
    sim.assert().success();
    let direct: Value = serde_json::from_str(
        &std::fs::read_to_string(sim_out.join("imana2021-paired-jobs/results.json")).unwrap(),
    )
    .unwrap();
    // The eligible audience's shares come from the simulator's ground truth, which a real
    // platform does not have; everything else must be identical.
    let without_eligible = |v: &Value| {
        let mut v = v["comparisons"].clone();
        for c in v.as_array_mut().unwrap() {
            for b in c["breakdowns"].as_array_mut().unwrap() {
                // (and so the fit to it)
                b.as_object_mut().unwrap().remove("eligible");
                b.as_object_mut().unwrap().remove("goodness_of_fit");
                b.as_object_mut().unwrap().remove("eligible_source");
            }
        }
        v
    };
    assert!(
        without_eligible(&via_meta) == without_eligible(&direct),
        "the run over HTTP differs from the in-process simulator"
    );
}

/// An experiment reaching the EU carries its own DSA beneficiary and payor: without them
/// (and without settings defaults) the run is refused before anything exists; with a
/// `[dsa]` table every ad set Meta receives names them.
#[test]
fn the_experiments_dsa_table_reaches_every_eu_ad_set() {
    let mock = start_mock();
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(example())
        .unwrap()
        .replace("countries = [\"US\"]", "countries = [\"FR\"]");
    let without = tmp.path().join("eu.toml");
    std::fs::write(&without, &text).unwrap();
    let refused = adskew(&mock.1)
        .current_dir(tmp.path())
        .args(["run", "--live", "--quiet"])
        .arg(&without)
        .arg("--db")
        .arg(tmp.path().join("refused.db"))
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let refused = String::from_utf8(refused).unwrap();
    assert!(
        refused.contains("FR") && refused.contains("[dsa]"),
        "{refused}"
    );
    let stats = get_json(&format!("{}/__admin/stats", mock.1));
    assert_eq!(stats["objects"], 0, "nothing is created: {stats}");

    let with = tmp.path().join("eu_dsa.toml");
    let dsa = "\n[dsa]\nbeneficiary = \"Example University\"\npayor = \"Example Foundation\"\n";
    std::fs::write(&with, format!("{text}{dsa}")).unwrap();
    adskew(&mock.1)
        .current_dir(tmp.path())
        .args(["run", "--live", "--quiet"])
        .arg(&with)
        .arg("--db")
        .arg(tmp.path().join("a.db"))
        .arg("--out")
        .arg(tmp.path().join("out"))
        .assert()
        .success();
    let adsets = get_json(&format!(
        "{}/{}/act_1000/adsets?fields=dsa_beneficiary,dsa_payor&access_token=t",
        mock.1,
        adskew::platform::meta::versions::LATEST
    ));
    let adsets = adsets["data"].as_array().unwrap();
    assert_eq!(adsets.len(), 4, "{adsets:?}");
    assert!(
        adsets
            .iter()
            .all(|a| a["dsa_beneficiary"] == "Example University"
                && a["dsa_payor"] == "Example Foundation"),
        "{adsets:?}"
    );
}
