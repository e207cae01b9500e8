//! Checks that the config means something for the data it loaded: every layer a setting
//! names exists, every field it names is a property of the features, `main_count` is a
//! count column, and a `group_by` holds ids of its `group_layer` (not, say, their names).
//! Each finding names the setting and, when one is close, what was probably meant.

use std::collections::HashSet;

use super::LoadReport;
use crate::config::Config;
use crate::model::{FieldValue, GeometryKind, Layer};

/// Adds a finding to `report` for every setting that does not fit the loaded `layers`.
pub fn check(config: &Config, layers: &[Layer], report: &mut LoadReport) {
    let layer_ids: Vec<&str> = layers.iter().map(|l| l.id.as_str()).collect();
    for (layer_config, layer) in config.layers.iter().zip(layers) {
        let at = format!("layer {}", layer.id);
        let properties = property_names(layer);
        let field = |setting: &str, name: &str, report: &mut LoadReport| {
            if !layer.features.is_empty() && !properties.contains(name) {
                report.error(
                    &at,
                    None,
                    Some(setting),
                    format!(
                        "{setting} = {name:?}: no {} has this property{}",
                        noun(layer),
                        suggestion(name, properties.iter().map(String::as_str))
                    ),
                );
            }
        };
        if let Some(name) = &layer_config.name_field {
            field("name_field", name, report);
        }
        for (language, name) in &layer.names {
            field(&format!("names.{language}"), name, report);
        }
        if let Some(group_layer) = &layer_config.group_layer {
            if !layer_ids.contains(&group_layer.as_str()) {
                report.error(
                    &at,
                    None,
                    Some("group_layer"),
                    format!(
                        "group_layer = {group_layer:?}: there is no such layer{}",
                        suggestion(group_layer, layer_ids.iter().copied())
                    ),
                );
            } else if let (Some(group_by), Some(groups)) = (
                &layer_config.group_by,
                layers.iter().find(|l| &l.id == group_layer),
            ) {
                check_group_codes(&at, layer, group_by, groups, report);
            }
        }
        for column in layer_config.count_labels.keys() {
            if !layer.count_columns.contains(column) {
                report.warning(
                    &at,
                    None,
                    Some("count_labels"),
                    format!(
                        "count_labels.{column}: the layer has no such count column{}",
                        suggestion(column, layer.count_columns.iter().map(String::as_str))
                    ),
                );
            }
        }
    }
    if let Some(dashboard) = &config.dashboard {
        let named = [
            ("areas", Some(&dashboard.areas)),
            ("sites", dashboard.sites.as_ref()),
        ];
        for (setting, id) in named {
            let Some(id) = id else { continue };
            if !layer_ids.contains(&id.as_str()) {
                report.error(
                    "dashboard",
                    None,
                    Some(setting),
                    format!(
                        "{setting} = {id:?}: there is no such layer{}",
                        suggestion(id, layer_ids.iter().copied())
                    ),
                );
            }
        }
        if let Some(areas) = layers.iter().find(|l| l.id == dashboard.areas) {
            let column = &dashboard.main_count;
            if !areas.count_columns.contains(column) {
                report.error(
                    "dashboard",
                    None,
                    Some("main_count"),
                    format!(
                        "main_count = {column:?}: layer {} has no such count column{}",
                        areas.id,
                        suggestion(column, areas.count_columns.iter().map(String::as_str))
                    ),
                );
            }
        }
    }
}

/// Whether a site layer's group codes are ids of the group layer; names instead of ids is
/// the usual mistake, and is said so.
fn check_group_codes(
    at: &str,
    layer: &Layer,
    group_by: &str,
    groups: &Layer,
    report: &mut LoadReport,
) {
    let codes: Vec<String> = layer
        .features
        .iter()
        .filter_map(|f| f.properties.get(group_by))
        .filter_map(FieldValue::key_text)
        .collect();
    if codes.is_empty() {
        return;
    }
    let unknown: Vec<&String> = codes
        .iter()
        .filter(|c| groups.position(c).is_none())
        .collect();
    if unknown.is_empty() {
        return;
    }
    let names: HashSet<String> = groups
        .features
        .iter()
        .flat_map(|f| {
            let mut fields: Vec<&String> = groups.names.iter().map(|(_, field)| field).collect();
            fields.extend(groups.name_field.as_ref());
            fields
                .into_iter()
                .filter_map(|field| f.properties.get(field).and_then(FieldValue::key_text))
                .collect::<Vec<_>>()
        })
        .collect();
    let named = unknown.iter().filter(|c| names.contains(**c)).count();
    let reason = if named * 2 >= unknown.len() {
        format!(
            "{} of {} sites have a {group_by} that is a name of an area of layer {}, not its \
             id ({:?} for example): group_by must hold the ids ({})",
            unknown.len(),
            codes.len(),
            groups.id,
            unknown[0],
            groups
                .features
                .iter()
                .take(3)
                .map(|f| f.id.clone())
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        format!(
            "{} of {} sites have a {group_by} that is not an id of layer {} ({:?} for example)",
            unknown.len(),
            codes.len(),
            groups.id,
            unknown[0]
        )
    };
    report.error(at, None, Some("group_by"), reason);
}

/// What one feature of the layer is called in the report.
fn noun(layer: &Layer) -> &'static str {
    match layer.kind {
        GeometryKind::Point => "site",
        GeometryKind::Polygon => "area",
        _ => "place",
    }
}

/// Every property name some feature of the layer has.
fn property_names(layer: &Layer) -> HashSet<String> {
    let mut names: HashSet<String> = layer.fields.iter().cloned().collect();
    for feature in layer.features.iter().take(1000) {
        names.extend(feature.properties.keys().cloned());
    }
    names
}

/// `; did you mean "x"?` for the candidate closest to `name`, when one is close.
pub(super) fn suggestion<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    let wanted = name.to_lowercase();
    let best = candidates
        .map(|c| (edit_distance(&wanted, &c.to_lowercase()), c))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, candidate)) if d <= (wanted.chars().count() / 3).max(2) => {
            format!("; did you mean {candidate:?}?")
        }
        _ => String::new(),
    }
}

/// Edit distance in characters, a swap of neighbours counting as one edit (optimal string
/// alignment); names are short, and cut at 64 characters, so O(len²) is nothing.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) =
        (a.chars().take(64).collect(), b.chars().take(64).collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_name_is_suggested_and_a_far_one_is_not() {
        let columns = ["idp_individuals", "idp_families"];
        assert_eq!(
            suggestion("idp_individual", columns.iter().copied()),
            "; did you mean \"idp_individuals\"?"
        );
        assert_eq!(suggestion("returnees", columns.iter().copied()), "");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("adm1_ne", "adm1_en"), 1, "a swap is one edit");
    }
}
