//! What each endpoint accepts in its query string, taken from the serde types the handlers
//! deserialize: [`fields_of`] reads a struct's parameter names (serde names, renames
//! included) from its `Deserialize` impl, so the OpenAPI document lists exactly what is
//! accepted, and [`Query::check`] refuses, with a 400 naming it, any parameter the type
//! does not know. The route table ([`super::routes`]) pairs every route with its type.

use serde::de::{self, DeserializeOwned, Visitor};
use serde::Deserialize;

/// The query parameters a route accepts: their names, and the check that refuses others.
#[derive(Clone, Copy)]
pub struct Query {
    /// The parameter names, in declaration order.
    pub fields: fn() -> Vec<&'static str>,
    /// `Err(reason)` when the query string names a parameter the route does not know.
    pub check: fn(&str) -> Result<(), String>,
}

impl Query {
    /// The parameters of the struct `T` (deserialized with `deny_unknown_fields`).
    pub const fn of<T: DeserializeOwned + 'static>() -> Query {
        Query {
            fields: fields_of::<T>,
            check: check::<T>,
        }
    }

    /// The named parameters of `T`, which also takes any other name (checked by the
    /// handler, e.g. property filters on items).
    pub const fn open<T: DeserializeOwned + 'static>() -> Query {
        Query {
            fields: fields_of::<T>,
            check: accept_any,
        }
    }
}

fn accept_any(_: &str) -> Result<(), String> {
    Ok(())
}

/// Parses `query` as `T`; on failure, names the first parameter `T` does not know.
fn check<T: DeserializeOwned>(query: &str) -> Result<(), String> {
    let Err(error) = serde_urlencoded::from_str::<T>(query) else {
        return Ok(());
    };
    let known = fields_of::<T>();
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    if let Some((name, _)) = pairs.iter().find(|(k, _)| !known.contains(&k.as_str())) {
        return Err(if known.is_empty() {
            format!("unknown parameter {name:?}: this endpoint takes no query parameters")
        } else {
            format!(
                "unknown parameter {name:?}: this endpoint's parameters are {}",
                known.join(", ")
            )
        });
    }
    Err(format!("bad query string: {error}"))
}

/// The field names `T`'s derived `Deserialize` asks for (empty for a type that is not a
/// plain struct, e.g. one with a flattened map).
pub fn fields_of<T: DeserializeOwned>() -> Vec<&'static str> {
    let mut fields = Vec::new();
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

/// A deserializer that only records the field list a struct's `Deserialize` passes.
struct FieldNames<'a>(&'a mut Vec<&'static str>);

#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("field names read")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Stop
    }
}

impl<'de> de::Deserializer<'de> for FieldNames<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Stop> {
        self.0.extend_from_slice(fields);
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
        identifier ignored_any
    }
}

/// No query parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// Only the output format.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormatParams {
    /// Output format.
    pub f: Option<String>,
}

/// `/datasets`: the format, and the language of the page browsers get.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetsParams {
    /// Output format.
    pub f: Option<String>,
    /// Language of the HTML page.
    pub lang: Option<String>,
}

/// `/`: the format, and for the map page (browsers) what it shows.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootParams {
    /// Output format.
    pub f: Option<String>,
    /// Language of the map page.
    pub lang: Option<String>,
    /// Round shown on the map page.
    pub round: Option<String>,
    /// Count column the map page colours by.
    pub metric: Option<String>,
    /// Layers the map page shows.
    pub layers: Option<String>,
}

/// `/embed`: read by the page itself.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbedParams {
    /// Layers to show.
    pub layers: Option<String>,
    /// Round shown.
    pub round: Option<String>,
    /// Language.
    pub lang: Option<String>,
    /// Count column the map colours by.
    pub metric: Option<String>,
}

/// `/dashboard`: read by the page itself, except `embed`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardPageParams {
    /// Round shown.
    pub round: Option<String>,
    /// Area shown.
    pub area: Option<String>,
    /// Language.
    pub lang: Option<String>,
    /// `1` for the embeddable variant.
    pub embed: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        a: Option<String>,
        #[serde(rename = "b-c")]
        b: Option<String>,
    }

    #[test]
    fn field_names_come_from_serde_with_renames() {
        assert_eq!(fields_of::<Sample>(), ["a", "b-c"]);
        assert!(fields_of::<NoParams>().is_empty());
        assert_eq!(fields_of::<FormatParams>(), ["f"]);
    }

    #[test]
    fn unknown_parameters_are_named() {
        let query = Query::of::<Sample>();
        assert!((query.check)("a=1&b-c=2").is_ok());
        assert!((query.check)("").is_ok());
        let why = (query.check)("a=1&zz=2").unwrap_err();
        assert!(why.contains("\"zz\"") && why.contains("a, b-c"), "{why}");
        let none = (Query::of::<NoParams>().check)("x=1").unwrap_err();
        assert!(none.contains("takes no query parameters"), "{none}");
        assert!((Query::open::<Sample>().check)("zz=1").is_ok());
    }
}
