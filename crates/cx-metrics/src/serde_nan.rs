//! Serde for `f64` fields that may be NaN: NaN is written as `null` (in every format, not only JSON)
//! and `null` reads back as NaN, so undefined results round-trip.

use serde::{Deserialize, Deserializer, Serializer};

pub(crate) fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_nan() {
        s.serialize_none()
    } else {
        s.serialize_some(v)
    }
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// The same for a `Vec<f64>`: each NaN element is written as `null` and read back as NaN.
pub(crate) mod vec {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let items: Vec<Option<f64>> = v.iter().map(|x| (!x.is_nan()).then_some(*x)).collect();
        items.serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let items = Vec::<Option<f64>>::deserialize(d)?;
        Ok(items.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())
    }
}
