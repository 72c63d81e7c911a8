//! Advantage+ creative enhancements, switched off feature by feature.
//!
//! An audit compares what the platform does with ads whose text and image the researcher
//! fixed; Meta's Advantage+ creative may otherwise rewrite the text, touch up, expand,
//! animate or re-template the image, add overlays, music or comments, so the ads compared
//! are no longer the ads written. Meta replaced the bundled `standard_enhancements` switch
//! by per-feature opt-outs in `degrees_of_freedom_spec.creative_features_spec`
//! (`{"<feature>": {"enroll_status": "OPT_OUT"}}`); the feature names below are fields of
//! `AdCreativeFeaturesSpec` in Meta's v25.0 spec (`crates/mock/src/spec/graph.json`), chosen as
//! those that can change or add to a single-image link ad. After creation the adapter
//! reads the spec back: a feature Meta left enrolled is an error, before any ad runs.

use serde_json::{json, Map, Value};

/// The features switched off on every creative.
pub const FEATURES: &[&str] = &[
    "adapt_to_placement",
    "add_text_overlay",
    "description_automation",
    "enhance_cta",
    "image_animation",
    "image_auto_crop",
    "image_background_gen",
    "image_brightness_and_contrast",
    "image_enhancement",
    "image_templates",
    "image_touchups",
    "image_uncrop",
    "inline_comment",
    "media_type_automation",
    "music_generation",
    "replace_media_text",
    "reveal_details_over_time",
    "show_summary",
    "site_extensions",
    "text_generation",
    "text_optimizations",
    "text_translation",
];

/// `degrees_of_freedom_spec` with every feature opted out.
pub fn opt_out() -> Value {
    let features: Map<String, Value> = FEATURES
        .iter()
        .map(|f| (f.to_string(), json!({"enroll_status": "OPT_OUT"})))
        .collect();
    json!({ "creative_features_spec": features })
}

/// The features of a read-back `degrees_of_freedom_spec` that are not opted out (missing
/// ones included: Meta's default may be to enroll).
pub fn still_enrolled(spec: &Value) -> Vec<&'static str> {
    FEATURES
        .iter()
        .copied()
        .filter(|f| {
            spec.pointer(&format!("/creative_features_spec/{f}/enroll_status"))
                .and_then(Value::as_str)
                != Some("OPT_OUT")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_feature_is_opted_out_and_a_change_is_seen() {
        let mut spec = opt_out();
        assert!(still_enrolled(&spec).is_empty());
        spec["creative_features_spec"]["image_touchups"]["enroll_status"] = json!("OPT_IN");
        assert_eq!(still_enrolled(&spec), ["image_touchups"]);
        assert_eq!(still_enrolled(&json!({})).len(), FEATURES.len());
    }
}
