//! Fuzzing every state kind's decoders in `cargo test`: arbitrary bytes, and valid encodings
//! mutated (bit flips, truncations, huge length fields, swapped kinds, overwritten words, mutated
//! JSON). Whatever the input, decoding never panics and either fails with a typed error or gives a
//! state that passes validation and round-trips bit for bit. The number of cases is bounded; the
//! Makefile fixes the seed.

mod common;

use cx_metrics::state::HEADER_LEN;
use cx_metrics::{Accumulator, Error, StateKind};
use proptest::prelude::*;

/// Decode `bytes` as `S`: a typed error, or a valid state that re-encodes to the same bytes (in
/// the kind's current format version; one of an earlier version re-encodes to the same state).
fn decode_bytes<S: Accumulator + std::fmt::Debug>(bytes: &[u8]) {
    match S::from_bytes(bytes) {
        Ok(s) => {
            s.validate().unwrap();
            if u16::from_le_bytes([bytes[6], bytes[7]]) == S::VERSION {
                assert_eq!(s.to_bytes(), bytes);
            } else {
                assert_eq!(S::from_bytes(&s.to_bytes()).unwrap(), s);
            }
            assert_eq!(S::from_json(&s.to_json()).unwrap(), s);
        }
        Err(e) => assert!(
            matches!(e, Error::InvalidState { .. }),
            "{}: unexpected error {e:?}",
            S::KIND.name()
        ),
    }
}

/// Decode `text` as `S`: a typed error, or a valid state that round-trips.
fn decode_json<S: Accumulator + std::fmt::Debug>(text: &str) {
    if let Ok(s) = S::from_json(text) {
        s.validate().unwrap();
        assert_eq!(S::from_bytes(&s.to_bytes()).unwrap(), s);
        assert_eq!(S::from_json(&s.to_json()).unwrap(), s);
    }
}

/// A mutation of a valid encoding.
#[derive(Debug, Clone)]
enum Mutation {
    FlipBits(Vec<(usize, u8)>),
    Truncate(usize),
    Append(Vec<u8>),
    PayloadLength(u64),
    Kind(u16),
    Version(u16),
    Word(usize, u64),
    Double(usize, f64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        prop::collection::vec((any::<usize>(), 0u8..8), 1..4).prop_map(Mutation::FlipBits),
        any::<usize>().prop_map(Mutation::Truncate),
        prop::collection::vec(any::<u8>(), 1..16).prop_map(Mutation::Append),
        prop_oneof![
            Just(u64::MAX),
            Just(u64::MAX / 8),
            Just(1u64 << 40),
            any::<u64>()
        ]
        .prop_map(Mutation::PayloadLength),
        (0u16..12).prop_map(Mutation::Kind),
        any::<u16>().prop_map(Mutation::Version),
        (
            any::<usize>(),
            prop_oneof![
                Just(u64::MAX),
                Just(0u64),
                Just(u32::MAX as u64),
                any::<u64>()
            ]
        )
            .prop_map(|(i, v)| Mutation::Word(i, v)),
        (
            any::<usize>(),
            prop_oneof![
                Just(f64::NAN),
                Just(-1.0),
                Just(f64::INFINITY),
                Just(1e300),
                Just(-0.0),
                any::<f64>()
            ]
        )
            .prop_map(|(i, v)| Mutation::Double(i, v)),
    ]
}

fn apply(bytes: &[u8], m: &Mutation) -> Vec<u8> {
    let mut b = bytes.to_vec();
    match m {
        Mutation::FlipBits(flips) => {
            for (i, bit) in flips {
                let i = i % b.len();
                b[i] ^= 1 << bit;
            }
        }
        Mutation::Truncate(n) => b.truncate(n % b.len()),
        Mutation::Append(extra) => b.extend_from_slice(extra),
        Mutation::PayloadLength(_) | Mutation::Kind(_) | Mutation::Version(_)
            if b.len() < HEADER_LEN => {}
        Mutation::PayloadLength(len) => b[12..20].copy_from_slice(&len.to_le_bytes()),
        Mutation::Kind(k) => b[4..6].copy_from_slice(&k.to_le_bytes()),
        Mutation::Version(v) => b[6..8].copy_from_slice(&v.to_le_bytes()),
        Mutation::Word(..) | Mutation::Double(..) if b.len() < HEADER_LEN + 8 => {}
        Mutation::Word(i, v) => {
            let at = HEADER_LEN + i % (b.len() - HEADER_LEN - 7);
            b[at..at + 8].copy_from_slice(&v.to_le_bytes());
        }
        Mutation::Double(i, v) => {
            let at = HEADER_LEN + i % (b.len() - HEADER_LEN - 7);
            b[at..at + 8].copy_from_slice(&v.to_le_bytes());
        }
    }
    b
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

macro_rules! fuzz_kind {
    ($name:ident, $ty:ty, $sample:expr) => {
        mod $name {
            use super::*;

            proptest! {
                #![proptest_config(config())]

                #[test]
                fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
                    decode_bytes::<$ty>(&bytes);
                }

                                #[test]
                fn arbitrary_bytes_behind_a_valid_header(
                    payload in prop::collection::vec(any::<u8>(), 0..400),
                    version in 1..=<$ty as Accumulator>::VERSION,
                ) {
                    let mut b = b"CXST".to_vec();
                    b.extend_from_slice(&<$ty as Accumulator>::KIND.code().to_le_bytes());
                    b.extend_from_slice(&version.to_le_bytes());
                    b.extend_from_slice(&0u32.to_le_bytes());
                    b.extend_from_slice(&(payload.len() as u64).to_le_bytes());
                    b.extend_from_slice(&payload);
                    decode_bytes::<$ty>(&b);
                }

                                /// The last four bytes of a tally's payload are its weight exponent (format
                /// version 2): any value decodes to a valid state or a typed error; so does any
                /// in the JSON.
                #[test]
                fn any_weight_exponent(e in prop_oneof![any::<i32>(), -1100i32..1100]) {
                    let mut b = $sample.to_bytes();
                    let at = b.len() - 4;
                    b[at..].copy_from_slice(&e.to_le_bytes());
                    decode_bytes::<$ty>(&b);
                    let json = $sample.to_json();
                    if let Some(i) = json.find("\"exponent\":") {
                        let rest = &json[i + 11..];
                        let end = rest.find(|c: char| c != '-' && !c.is_ascii_digit()).unwrap_or(rest.len());
                        let text = format!("{}{e}{}", &json[..i + 11], &rest[end..]);
                        decode_json::<$ty>(&text);
                    }
                }

                #[test]
                fn mutated_encodings(ms in prop::collection::vec(mutation(), 1..4)) {
                    let mut b = $sample.to_bytes();
                    for m in &ms {
                        if b.is_empty() {
                            break;
                        }
                        b = apply(&b, m);
                    }
                    decode_bytes::<$ty>(&b);
                }

                #[test]
                fn mutated_json(
                    edits in prop::collection::vec((any::<usize>(), any::<char>()), 1..4),
                    cut in any::<usize>(),
                    legacy in any::<bool>(),
                ) {
                    let s = $sample;
                    let text = if legacy {
                        serde_json::to_string(&s).unwrap()
                    } else {
                        s.to_json()
                    };
                    let mut chars: Vec<char> = text.chars().collect();
                    for (i, c) in &edits {
                        let i = i % chars.len();
                        chars[i] = *c;
                    }
                    let text: String = chars.into_iter().collect();
                    decode_json::<$ty>(&text);
                    decode_json::<$ty>(&text[..text.char_indices().nth(cut % text.chars().count()).map_or(0, |(i, _)| i)]);
                }
            }

            #[test]
            fn every_truncation_and_every_other_kind_is_a_typed_error() {
                let b = $sample.to_bytes();
                for n in 0..b.len() {
                    assert!(matches!(
                        <$ty>::from_bytes(&b[..n]),
                        Err(Error::InvalidState { .. })
                    ));
                }
                for kind in StateKind::ALL {
                    if kind == <$ty as Accumulator>::KIND {
                        continue;
                    }
                    let mut other = b.clone();
                    other[4..6].copy_from_slice(&kind.code().to_le_bytes());
                    let e = <$ty>::from_bytes(&other).unwrap_err();
                    assert!(e.to_string().contains(kind.name()), "{e}");
                }
            }
        }
    };
}

common::states::for_each_state!(fuzz_kind);
