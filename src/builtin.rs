//! The built-in Iraq dataset, compiled into the binary so that `dtmap` serves a map from any
//! folder with no files beside it. The files are the ones in `geodata/iraq/`, built by
//! `scripts/build-geodata` (see `geodata/README.md` for their sources and licences).

/// The built-in configuration (`geodata/iraq/dtmap.toml`).
pub const BUILTIN_CONFIG: &str = include_str!("../geodata/iraq/dtmap.toml");

/// Every built-in file by the name the built-in config uses for it.
const FILES: &[(&str, &[u8])] = &[
    (
        "governorates.geojson",
        include_bytes!("../geodata/iraq/governorates.geojson"),
    ),
    (
        "sites.geojson",
        include_bytes!("../geodata/iraq/sites.geojson"),
    ),
    (
        "governorate_counts.csv",
        include_bytes!("../geodata/iraq/governorate_counts.csv"),
    ),
    (
        "site_counts.csv",
        include_bytes!("../geodata/iraq/site_counts.csv"),
    ),
    (
        "countries.geojson",
        include_bytes!("../geodata/iraq/countries.geojson"),
    ),
    (
        "rivers.geojson",
        include_bytes!("../geodata/iraq/rivers.geojson"),
    ),
    (
        "published_dtm_figures.csv",
        include_bytes!("../geodata/iraq/published_dtm_figures.csv"),
    ),
];

/// A built-in file by name.
pub fn file(name: &str) -> Option<&'static [u8]> {
    FILES
        .iter()
        .find(|(file_name, _)| *file_name == name)
        .map(|(_, bytes)| *bytes)
}
