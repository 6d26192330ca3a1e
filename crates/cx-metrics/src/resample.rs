//! Seeded resampling: the one place where random streams are derived, and the one quantile of
//! sorted replicates.
//!
//! # Random streams
//!
//! Every random draw of the crate (bootstrap resamples, sampled orders of entry of a Shapley
//! decomposition) comes from [`stream`]: a ChaCha8 generator chosen by the user's seed, a
//! [`Family`] naming who draws, and an index (the replicate, or the block of orders). A stream
//! depends on nothing else, so results depend on the seed only, never on the number of threads.
//!
//! | family | key of the ChaCha8 generator | stream |
//! | --- | --- | --- |
//! | [`Family::Expanded`] | `seed_from_u64(seed)` (the seed expanded by PCG32) | index |
//! | [`Family::Keyed`]`(tag, stratum)` | 32 bytes: `seed`, `stratum`, `tag`, 0 (u64 little-endian each) | index |
//!
//! Tags in use (keep this table complete; a new consumer takes the next unused tag):
//!
//! | tag | who draws |
//! | --- | --- |
//! | 0 | driver-analysis bootstrap ([`drivers::bootstrap`](crate::drivers::bootstrap)); stratum 0 for one sample, 1 and 2 for the two groups of a segment comparison |
//! | 16 | pain-point bootstrap over customers ([`journey::pain_points`](crate::journey::pain_points)); stratum 0 |
//!
//! [`Family::Expanded`] is what the NPS bootstrap, sampled LMG, sampled logistic Shapley values and
//! the what-if bootstrap draw from; it is kept so that their published figures stay the same. Those
//! four never combine their draws in one computation, so sharing the expanded key costs nothing. A
//! new consumer must not use it: it takes a [`Family::Keyed`] tag of its own, and then cannot share
//! a stream with any other consumer, whatever the seeds (keys with different tags or strata differ,
//! and an expanded key is a PCG output, not a key of that layout except by a 2^-192 chance).
//!
//! # How many resamples
//!
//! Every function that takes a number of resamples checks it with [`check_resamples`]: at least its
//! own minimum, and at most [`MAX_RESAMPLES`] (10^6). The replicates are kept in memory (a few bytes
//! to a few hundred per replicate), so an unchecked count of 2^40 asked for terabytes and aborted the
//! process. A million replicates already put the Monte Carlo error of a 95 % percentile bound at
//! about 0.3 % of the standard error (√(q(1 − q)/B) / φ(z_q) with q = 0.025).
//!
//! # Quantiles
//!
//! [`quantile_sorted`] is the Hyndman–Fan type 7 quantile (linear interpolation between order
//! statistics, numpy's and R's default, and what `scipy.stats.bootstrap` uses for percentile
//! intervals), used for every percentile interval of the crate.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};

/// The largest number of resamples any function takes (see the [module documentation](self)).
pub const MAX_RESAMPLES: usize = 1_000_000;

/// Check a number of resamples: at least `min` (`why` says what that minimum is for), at most
/// [`MAX_RESAMPLES`]; the error names the argument `name`.
pub(crate) fn check_resamples(
    name: &'static str,
    n_resamples: usize,
    min: usize,
    why: &str,
) -> Result<()> {
    if n_resamples < min {
        return Err(Error::invalid(name, format!("{n_resamples}; {why}")));
    }
    if n_resamples > MAX_RESAMPLES {
        return Err(Error::invalid(
            name,
            format!(
                "{n_resamples} is more than the {MAX_RESAMPLES} resamples allowed (the replicates \
                 are kept in memory); 10000 give a stable 95 % interval"
            ),
        ));
    }
    Ok(())
}

/// Who draws from a random stream; see the [module documentation](self) for the table of keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// The seed expanded by `seed_from_u64`: kept for the consumers that have always used it.
    Expanded,
    /// A key of its own: the consumer's tag and a stratum (0 unless a resample is stratified).
    Keyed {
        /// The consumer's tag (see the module table).
        tag: u64,
        /// The stratum (0 for an unstratified resample).
        stratum: u64,
    },
}

/// Tag of the driver-analysis bootstrap.
pub(crate) const DRIVER_BOOTSTRAP: u64 = 0;

/// The random stream `index` of `family` for the user's `seed`.
pub(crate) fn stream(seed: u64, family: Family, index: u64) -> ChaCha8Rng {
    let mut rng = match family {
        Family::Expanded => ChaCha8Rng::seed_from_u64(seed),
        Family::Keyed { tag, stratum } => {
            let mut key = [0u8; 32];
            key[..8].copy_from_slice(&seed.to_le_bytes());
            key[8..16].copy_from_slice(&stratum.to_le_bytes());
            key[16..24].copy_from_slice(&tag.to_le_bytes());
            ChaCha8Rng::from_seed(key)
        }
    };
    rng.set_stream(index);
    rng
}

/// Quantile `q` of sorted values: Hyndman–Fan type 7, linear interpolation between order
/// statistics (numpy's default). `q` is clamped to [0, 1]; NaN for no values.
///
/// With `h = (n − 1)·q`, the quantile is `x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])`.
pub(crate) fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return f64::NAN;
    };
    let h = last as f64 * q.clamp(0.0, 1.0);
    let lo = (h.floor() as usize).min(last);
    let hi = (lo + 1).min(last);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn resample_counts_are_bounded() {
        assert!(check_resamples("n_resamples", 1, 1, "").is_ok());
        assert!(check_resamples("n_resamples", MAX_RESAMPLES, 2, "").is_ok());
        let e = check_resamples("n_resamples", 1 << 40, 2, "").unwrap_err();
        assert!(e.to_string().contains("n_resamples") && e.to_string().contains("1000000"));
        let e = check_resamples("n_resamples", 1, 2, "at least 2 are needed").unwrap_err();
        assert!(e.to_string().contains("at least 2 are needed"), "{e}");
    }

    #[test]
    fn type7_quantile_matches_numpy() {
        // numpy.quantile([1, 2, 3, 4], [0.025, 0.975]) = [1.075, 3.925]
        let x = [1.0, 2.0, 3.0, 4.0];
        assert!((quantile_sorted(&x, 0.025) - 1.075).abs() < 1e-15);
        assert!((quantile_sorted(&x, 0.975) - 3.925).abs() < 1e-15);
        assert_eq!(quantile_sorted(&x, 0.0), 1.0);
        assert_eq!(quantile_sorted(&x, 1.0), 4.0);
        assert_eq!(quantile_sorted(&[2.5], 0.3), 2.5);
        assert!(quantile_sorted(&[], 0.5).is_nan());
    }

    #[test]
    fn streams_are_those_the_consumers_always_drew() {
        let mut a = stream(7, Family::Expanded, 3);
        let mut b = ChaCha8Rng::seed_from_u64(7);
        b.set_stream(3);
        assert_eq!(a.next_u64(), b.next_u64());

        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&7u64.to_le_bytes());
        key[8..16].copy_from_slice(&2u64.to_le_bytes());
        let mut c = ChaCha8Rng::from_seed(key);
        c.set_stream(3);
        let keyed = Family::Keyed {
            tag: DRIVER_BOOTSTRAP,
            stratum: 2,
        };
        assert_eq!(stream(7, keyed, 3).next_u64(), c.next_u64());
    }

    #[test]
    fn families_tags_and_strata_give_different_streams() {
        let first = |f| stream(1, f, 0).next_u64();
        let draws = [
            first(Family::Expanded),
            first(Family::Keyed { tag: 0, stratum: 0 }),
            first(Family::Keyed { tag: 1, stratum: 0 }),
            first(Family::Keyed { tag: 0, stratum: 1 }),
        ];
        for i in 0..draws.len() {
            for j in 0..i {
                assert_ne!(draws[i], draws[j]);
            }
        }
    }
}
