//! Shared data generators for the criterion benches (deterministic, no dependencies).

/// A deterministic 0–10 rating stream (splitmix64), shaped like a real NPS survey.
pub fn nps_ratings(n: usize, seed: u64) -> Vec<u8> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            // 0..=10 with more mass on 7..=10, as in typical surveys.
            const CUM: [u64; 11] = [3, 5, 8, 12, 16, 24, 33, 48, 64, 82, 100];
            let u = z % 100;
            CUM.iter().position(|&c| u < c).unwrap_or(10) as u8
        })
        .collect()
}

/// Deterministic positive survey weights in [0.25, 4).
pub fn weights(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed ^ 0xD1B5_4A32_D192_ED03;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            0.25 + 3.75 * ((s >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect()
}
