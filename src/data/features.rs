//! A layer's features from its sources: each one's id (the join key), its geometry and
//! its row of the layer's property table, with every source that has no id, or one an
//! earlier source has, reported and left out.

use compact_str::CompactString;
use geo::Geometry;

use super::report::{Group, LoadReport, Severity};
use super::source::{Noun, SourceFeature, SourceProperties};
use super::source_place;
use crate::config::LayerConfig;
use crate::model::{Feature, FeatureIds, FieldValue, Properties, PropertyTableBuilder};

/// Rows of a source with no id.
static NO_ID: Group = Group::new("have no id (the id column is empty)");
/// Rows of an area source whose id an earlier row has.
static REPEATED_ID: Group = Group::new("repeat an id that an earlier row already used");
/// Rows of a site source whose id an earlier row has: the usual reason is a long-format
/// master list given as the source.
static REPEATED_SITE_ID: Group = Group {
    summary: "repeat an id that an earlier row already used",
    hint: Some(
        "A layer's source needs one row per location; a long-format master list (one row \
         per location and round) belongs in [[layer.counts]] instead, with a source that \
         lists each location once",
    ),
};
/// Areas whose outline is not valid.
static INVALID_OUTLINE: Group = Group::new("have an outline that is not valid (shown as is)");

/// The features of a layer and their positions by id: the sources with an id that no
/// earlier source has, in source order, each with its row of the layer's property table;
/// every source left out is reported.
pub(super) fn build_features(
    layer_config: &LayerConfig,
    mut source_features: Vec<SourceFeature>,
    fields: &[String],
    noun: Noun,
    report: &mut LoadReport,
) -> (Vec<Feature>, FeatureIds) {
    let place = source_place(layer_config);
    let id_field = layer_config.id_field.as_str();
    let repeated = match noun {
        Noun::Site => &REPEATED_SITE_ID,
        _ => &REPEATED_ID,
    };
    let mut by_id = FeatureIds::with_capacity(source_features.len());
    // Background layers are drawn, never queried, and validating a country outline of
    // thousands of vertices costs more than the rest of the load together.
    let areas = source_features
        .iter()
        .any(|f| matches!(f.geometry, Geometry::Polygon(_) | Geometry::MultiPolygon(_)));
    let invalid: Vec<Option<String>> = if layer_config.basemap || !areas {
        Vec::new()
    } else {
        crate::parallel::map(&source_features, |f| {
            crate::geometry::validity::invalidity(&f.geometry)
        })
    };
    let mut ids: Vec<Option<CompactString>> = crate::parallel::map(&source_features, |source| {
        source
            .properties
            .get(id_field)
            .and_then(FieldValue::key_id)
            .or_else(|| source.native_id.as_deref().map(Into::into))
            .or_else(|| layer_config.basemap.then(|| source.row.to_string().into()))
    });
    let source_properties: Vec<SourceProperties> = source_features
        .iter_mut()
        .map(|source| std::mem::take(&mut source.properties))
        .collect();
    // The property table is made beside the ids (one thread each: with a million sites
    // either took about as long as the other), on the load's own thread, which frees the
    // source values it takes (freed on a thread that then ends, they stayed resident).
    // Its row of a feature is the feature's source position, so a feature left out leaves
    // a row no feature reads. The ids are indexed by source position meanwhile, and each
    // source is read where it lies rather than moved to a list of its own.
    let (properties, accepted) = std::thread::scope(|scope| {
        let accepting = scope.spawn(|| {
            let id_at = |at: u32| ids[at as usize].as_deref().unwrap_or_default();
            let mut accepted: Vec<u32> = Vec::with_capacity(ids.len());
            for (i, (id, source)) in ids.iter().zip(&source_features).enumerate() {
                let row = Some(source.row);
                let Some(id) = id else {
                    let reason = format!("this {} has no id (the column is empty)", noun.one());
                    report.add(
                        place
                            .problem(Severity::Error, row, Some(id_field), reason)
                            .grouped(&NO_ID),
                    );
                    continue;
                };
                if let Err(first) = by_id.insert_new(i as u32, id_at) {
                    let first = source_features[first as usize].row;
                    let reason = format!("id {id:?} is already used by row {first}");
                    report.add(
                        place
                            .problem(Severity::Error, row, Some(id_field), reason)
                            .grouped(repeated),
                    );
                    continue;
                }
                accepted.push(i as u32);
                if let Some(reason) = invalid.get(i).and_then(Option::as_ref) {
                    let reason =
                        format!("the outline of {id:?} is not valid ({reason}); shown as is");
                    report.add(
                        place
                            .problem(Severity::Warning, row, None, reason)
                            .grouped(&INVALID_OUTLINE),
                    );
                }
            }
            accepted
        });
        let mut properties = PropertyTableBuilder::new(fields);
        for source in source_properties {
            properties.push(|field| source.get(field));
        }
        let properties = properties.finish();
        match accepting.join() {
            Ok(accepted) => (properties, accepted),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
    if accepted.len() < source_features.len() {
        let mut position = vec![u32::MAX; source_features.len()];
        for (feature, &source) in accepted.iter().enumerate() {
            position[source as usize] = feature as u32;
        }
        by_id.renumber(|source| position[source as usize]);
    }
    let features: Vec<Feature> = accepted
        .iter()
        .map(|&source| {
            let at = source as usize;
            let geometry = std::mem::replace(
                &mut source_features[at].geometry,
                Geometry::Point(geo::Point::new(0.0, 0.0)),
            );
            Feature {
                id: ids[at].take().unwrap_or_default(),
                shape: geometry.into(),
                properties: Properties::new(properties.clone(), source),
            }
        })
        .collect();
    // Their buffers are freed here, on the load's thread, too.
    drop((ids, source_features));
    (features, by_id)
}
