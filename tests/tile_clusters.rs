//! Clustered tiles of a large point layer (30,000 generated sites, dense clumps and a
//! sparse spread, outside Iraq): the grid cells made once when tiles are prepared give
//! byte for byte the tiles that grouping each tile's own points gives, at every clustered
//! zoom, for every tile with points; and the clusters of a tile, decoded independently,
//! add up to the sites whose cells it draws.

#[path = "tiles_support/mod.rs"]
mod support;

use dtmap::config::{Config, DataRoot};
use dtmap::model::Snapshot;
use dtmap::tiles::prepare::PreparedSnapshot;
use dtmap::tiles::render::{render_tile, LayerRequest};
use dtmap::tiles::{TileId, TileOptions};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const SITES: usize = 30_000;

/// Sites in West Africa: two thirds in five clumps, the rest spread out.
fn snapshot(dir: &std::path::Path) -> Snapshot {
    let mut rng = SmallRng::seed_from_u64(11);
    let clumps = [
        (7.5, 9.1),
        (3.4, 6.5),
        (13.2, 11.8),
        (8.5, 12.0),
        (-0.2, 5.6),
    ];
    let mut sites = String::from("pcode,label,x,y\n");
    let mut counts = String::from("pcode,period,hh,persons\n");
    for i in 0..SITES {
        let (lon, lat) = if i % 3 == 0 {
            (rng.gen_range(-3.0..15.0), rng.gen_range(4.0..14.0))
        } else {
            let (cx, cy) = clumps[i % clumps.len()];
            (cx + rng.gen_range(-0.3..0.3), cy + rng.gen_range(-0.3..0.3))
        };
        sites.push_str(&format!("NG{i:06},Site {i},{lon:.6},{lat:.6}\n"));
        for period in ["2024-06-30", "2024-12-31"] {
            let hh: u32 = rng.gen_range(1..300);
            counts.push_str(&format!("NG{i:06},{period},{hh},{}\n", hh * 5));
        }
    }
    std::fs::write(dir.join("sites.csv"), sites).unwrap();
    std::fs::write(dir.join("counts.csv"), counts).unwrap();
    let toml = r#"title = "generated sites (synthetic)"
[[layer]]
id = "camps"
source = { path = "sites.csv", lon = "x", lat = "y" }
id_field = "pcode"
name_field = "label"

[[layer.counts]]
path = "counts.csv"
key = "pcode"
round = "period"
columns = ["hh", "persons"]
"#;
    let config = Config::from_toml_str(toml, "inline", DataRoot::Dir(dir.into())).unwrap();
    let (snapshot, report) = dtmap::data::load(&config);
    assert!(report.is_ok(), "{report}");
    snapshot
}

fn tiles(
    snapshot: &Snapshot,
    prepared: &PreparedSnapshot,
    tile: TileId,
    o: &TileOptions,
) -> Vec<u8> {
    render_tile(
        &LayerRequest::latest_of(&snapshot.layers, &prepared.layers),
        tile,
        o,
    )
}

/// Every tile over the generated sites at `zoom`, or `most` of them at random where there
/// are more.
fn tiles_sampled(zoom: u8, most: usize, rng: &mut SmallRng) -> Vec<TileId> {
    let bounds = geo::Rect::new(
        geo::coord! { x: -3.5, y: 3.5 },
        geo::coord! { x: 15.5, y: 14.5 },
    );
    let all = support::tiles_over(bounds, zoom);
    if all.len() <= most {
        all
    } else {
        (0..most)
            .map(|_| all[rng.gen_range(0..all.len())])
            .collect()
    }
}

#[test]
fn indexed_cells_give_the_tiles_that_grouping_each_tiles_points_gives() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = snapshot(dir.path());
    let indexed = TileOptions {
        cell_index_min_points: 0,
        ..TileOptions::default()
    };
    let grouped = TileOptions {
        cell_index_min_points: usize::MAX,
        ..TileOptions::default()
    };
    let with_index = PreparedSnapshot::build(&snapshot, &indexed);
    let without = PreparedSnapshot::build(&snapshot, &grouped);
    let max_zoom = indexed.cluster_max_zoom.unwrap();
    for zoom in 0..=max_zoom {
        assert!(
            with_index.layers[0].cells_at(zoom).is_some(),
            "z{zoom} indexed"
        );
        assert!(without.layers[0].cells_at(zoom).is_none());
    }
    let mut compared = 0;
    let mut rng = SmallRng::seed_from_u64(5);
    for zoom in 0..=max_zoom {
        // Every tile up to z6; a sample of 150 above, where there are thousands.
        for tile in tiles_sampled(zoom, 150, &mut rng) {
            let a = tiles(&snapshot, &with_index, tile, &indexed);
            let b = tiles(&snapshot, &without, tile, &grouped);
            assert_eq!(a, b, "tile {tile:?}");
            compared += usize::from(!a.is_empty());
        }
    }
    assert!(compared > 400, "only {compared} tiles with points");
}

/// Where only some tiles of a zoom hold enough points to read cells, the others group their
/// own: either way, and for the tiles beside the dense ones whose buffer reaches into
/// them, the tiles are those grouping gives. So too for cells that do not divide a tile.
#[test]
fn tiles_beside_and_away_from_the_indexed_ones_are_the_grouped_tiles() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = snapshot(dir.path());
    for cluster_cell in [128, 100] {
        let indexed = TileOptions {
            cell_index_min_points: 300,
            cluster_cell,
            ..TileOptions::default()
        };
        let grouped = TileOptions {
            cell_index_min_points: usize::MAX,
            ..indexed
        };
        let with_index = PreparedSnapshot::build(&snapshot, &indexed);
        let without = PreparedSnapshot::build(&snapshot, &grouped);
        let prepared = &with_index.layers[0];
        let (mut served, mut not_served, mut compared) = (0, 0, 0);
        for zoom in 0..=indexed.cluster_max_zoom.unwrap() {
            if prepared.cells_at(zoom).is_none() {
                continue;
            }
            let over = support::tiles_over(
                geo::Rect::new(
                    geo::coord! { x: -3.5, y: 3.5 },
                    geo::coord! { x: 15.5, y: 14.5 },
                ),
                zoom,
            );
            // The served tiles, and every tile beside one.
            let near: Vec<TileId> = over
                .iter()
                .filter(|t| {
                    (-1i64..=1).any(|dx| {
                        (-1i64..=1).any(|dy| {
                            let (x, y) = (i64::from(t.x) + dx, i64::from(t.y) + dy);
                            x >= 0
                                && y >= 0
                                && TileId::new(u64::from(zoom), x as u64, y as u64)
                                    .is_ok_and(|n| prepared.cells_for(n).is_some())
                        })
                    })
                })
                .copied()
                .collect();
            for tile in near.into_iter().take(400) {
                if prepared.cells_for(tile).is_some() {
                    served += 1;
                } else {
                    not_served += 1;
                }
                let a = tiles(&snapshot, &with_index, tile, &indexed);
                let b = tiles(&snapshot, &without, tile, &grouped);
                assert_eq!(a, b, "cell {cluster_cell}, tile {tile:?}");
                compared += usize::from(!a.is_empty());
            }
        }
        // Cells of 100 units straddle tiles: every tile reads them.
        let partly = cluster_cell == 100 || not_served > 20;
        assert!(
            served > 20 && partly && compared > 100,
            "cell {cluster_cell}: {served} served, {not_served} beside, {compared} with points"
        );
    }
}

/// The shallow tiles made ahead at start-up are kept for the latest round, and are the
/// tiles made when first asked.
#[test]
fn shallow_tiles_made_ahead_are_kept_and_are_the_tiles_made_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = snapshot(dir.path());
    let options = TileOptions::default();
    let ahead = PreparedSnapshot::build(&snapshot, &options);
    dtmap::tiles::render::render_low_zooms(&ahead.layers, &snapshot.layers);
    let asked = PreparedSnapshot::build(&snapshot, &options);
    let round = snapshot.layers[0].latest_round();
    let mut tiles_with_sites = 0;
    for z in 0..=dtmap::tiles::render::LOW_ZOOM_KEPT {
        for x in 0..1u64 << z {
            for y in 0..1u64 << z {
                let tile = TileId::new(u64::from(z), x, y).unwrap();
                let slot = ahead.layers[0].low_zoom_slot(round, tile).unwrap();
                let kept = slot.get().expect("made ahead").clone();
                let made = tiles(&snapshot, &asked, tile, &options);
                assert_eq!(&kept[..], &made[..], "{tile:?}");
                tiles_with_sites += usize::from(!made.is_empty());
            }
        }
    }
    assert!(tiles_with_sites >= 5, "{tiles_with_sites}");
}

#[test]
fn the_default_options_index_the_dense_zooms_and_their_tiles_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = snapshot(dir.path());
    let options = TileOptions::default();
    let prepared = PreparedSnapshot::build(&snapshot, &options);
    // Indexed exactly at the zooms where some tile holds 1,000 points or more, counted here
    // by flooring each site's tile.
    let layer = &snapshot.layers[0];
    let mut indexed_zooms = 0;
    for zoom in 0..=options.cluster_max_zoom.unwrap() {
        let mut per_tile = std::collections::HashMap::<(i64, i64), usize>::new();
        for feature in &layer.features {
            let geo::Geometry::Point(p) = &*feature.geometry() else {
                panic!("a site is a point");
            };
            let (x, y) = dtmap::tiles::lonlat_to_world(p.x(), p.y(), zoom);
            let side = f64::from(dtmap::tiles::EXTENT);
            *per_tile
                .entry((
                    (x.round() / side).floor() as i64,
                    (y.round() / side).floor() as i64,
                ))
                .or_default() += 1;
        }
        let dense = per_tile
            .values()
            .any(|&n| n >= options.cell_index_min_points);
        assert_eq!(
            prepared.layers[0].cells_at(zoom).is_some(),
            dense,
            "z{zoom}"
        );
        indexed_zooms += usize::from(dense);
    }
    assert!(indexed_zooms >= 4, "{indexed_zooms} zooms indexed");
    // The z0 tile shows the whole layer: its features add up to every site and count.
    let tile = TileId::new(0, 0, 0).unwrap();
    let decoded = support::decode(&tiles(&snapshot, &prepared, tile, &options));
    let features = &decoded["camps"];
    let round = layer.latest_round().unwrap();
    let sites: i64 = features
        .iter()
        .map(|f| {
            f.properties
                .get("point_count")
                .map_or(1, |v| v.as_i64().unwrap())
        })
        .sum();
    assert_eq!(sites, SITES as i64);
    let persons: i64 = features
        .iter()
        .map(|f| f.properties["persons"].as_i64().unwrap())
        .sum();
    let column = layer.count_column("persons").unwrap();
    let expected: i64 = (0..layer.features.len() as u32)
        .filter_map(|p| layer.count(round, p)?.value(column))
        .sum();
    assert_eq!(persons, expected);
}

/// A tile is cut where it is asked (not handed to the pool) exactly when every layer is
/// points and a count of the points in reach, made here by a scan of every site, is at
/// most the bound: the dense clumps' tiles go to the pool at every zoom, the spread's
/// deep tiles do not.
#[test]
fn a_tile_is_light_when_a_scan_finds_few_points_in_its_reach() {
    use dtmap::tiles::render::{is_light, LIGHT_TILE_POINTS};
    use dtmap::tiles::EXTENT;
    let dir = tempfile::tempdir().unwrap();
    let snapshot = snapshot(dir.path());
    let options = TileOptions::default();
    let prepared = PreparedSnapshot::build(&snapshot, &options);
    let layer = &snapshot.layers[0];
    let request = LayerRequest {
        layer,
        prepared: &prepared.layers[0],
        round: layer.latest_round(),
    };
    let mut rng = SmallRng::seed_from_u64(9);
    let (mut light, mut heavy) = (0, 0);
    for zoom in 0..=14 {
        for tile in tiles_sampled(zoom, 100, &mut rng) {
            let margin =
                f64::from(options.buffer) + f64::from(options.cluster_cell.min(EXTENT)) + 4.0;
            let reach = tile.bounds_lonlat(margin);
            let in_reach = layer
                .features
                .iter()
                .filter(|f| {
                    let geo::Geometry::Point(p) = *f.geometry() else {
                        return false;
                    };
                    let (min, max) = (reach.min(), reach.max());
                    (min.x..=max.x).contains(&p.x()) && (min.y..=max.y).contains(&p.y())
                })
                .count();
            let expected = in_reach <= LIGHT_TILE_POINTS;
            assert_eq!(
                is_light(&[request], tile, &options),
                expected,
                "tile {tile:?}: {in_reach} points in reach"
            );
            if expected {
                light += 1;
            } else {
                heavy += 1;
            }
        }
    }
    assert!(light > 300 && heavy > 40, "{light} light, {heavy} heavy");
    let other = TileOptions {
        buffer: options.buffer + 1,
        ..options
    };
    let tile = TileId {
        z: 14,
        x: 8500,
        y: 7700,
    };
    assert!(
        !is_light(&[request], tile, &other),
        "a layer prepared with other options is not cut in place"
    );
}
