//! X25519 ephemeral keys from caller-supplied randomness.
//!
//! # Design
//! RFC 7748 (x25519-dalek 2.0.1, as the reference): the secret is clamped when used, and the raw
//! 32-byte output is returned without a contributory check, so a low-order peer key gives all zeros
//! exactly as in the reference. Randomness comes from the caller so a seeded runtime stays deterministic.
//! A shared secret with a peer key on the curve is computed on the Edwards form (curve25519-dalek's
//! AVX2 backend when the CPU has it: about a quarter faster than the Montgomery ladder here), with
//! the ladder's result for every input; a key on the twist takes the ladder (the tests compare both).
//!
//! # Not provided
//! Rejection of low-order points (the protocol's 0.0.25 behaviour accepts them).
//!
//! # Example
//! ```
//! use quorumnet_native::dh::*;
//! let (a, b) = ([1u8; 32], [2u8; 32]);
//! assert_eq!(shared_secret(&a, &public_key(&b)), shared_secret(&b, &public_key(&a)));
//! ```

use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::scalar::Scalar;
use x25519_dalek::{PublicKey, StaticSecret};

pub fn public_key(secret: &[u8; 32]) -> [u8; 32] {
    PublicKey::from(&StaticSecret::from(*secret)).to_bytes()
}

pub fn shared_secret(secret: &[u8; 32], peer: &[u8; 32]) -> [u8; 32] {
    // The clamped secret is 8k' with k' = clamped >> 3 < 2^252 < l, so k' is a canonical scalar and
    // [clamped]P = [k']([8]P): the u of that Edwards point is the ladder's output (the point's sign
    // does not change its u; [8] removes any small-order part the ladder's multiple of 8 removes).
    // u = -1 and the twist have no Edwards point: the ladder. Both paths are constant-time in the secret.
    let mut clamped = *secret;
    clamped[0] &= 248;
    clamped[31] &= 127;
    clamped[31] |= 64;
    let mut k = [0u8; 32];
    for i in 0..32 {
        k[i] = (clamped[i] >> 3) | clamped.get(i + 1).map_or(0, |next| next << 5);
    }
    let k = Option::<Scalar>::from(Scalar::from_canonical_bytes(k)).expect("below 2^252, so below l");
    match MontgomeryPoint(*peer).to_edwards(0) {
        Some(p) => (p.mul_by_cofactor() * k).to_montgomery().to_bytes(),
        None => StaticSecret::from(*secret).diffie_hellman(&PublicKey::from(*peer)).to_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7748_known_answer() {
        // RFC 7748 section 6.1 (Alice's private key and public key).
        let alice: [u8; 32] = hex32("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        assert_eq!(public_key(&alice), hex32("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
        let bob_pub = hex32("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
        assert_eq!(shared_secret(&alice, &bob_pub), hex32("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"));
    }

    #[test]
    fn all_zero_peer_gives_all_zero_secret() {
        assert_eq!(shared_secret(&[5u8; 32], &[0u8; 32]), [0u8; 32]);
    }

    #[test]
    fn edwards_path_gives_the_ladders_secret_for_every_kind_of_peer_key() {
        use rand::{RngCore, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7748);
        // Small-order u (their Edwards points' u), u = 0, 1, -1, p, p + 1 (non-canonical), high bit set.
        let mut peers: Vec<[u8; 32]> = crate::sign::tests::small_order_points().iter().map(|t| t.to_montgomery().to_bytes()).collect();
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        let mut minus_one = p;
        minus_one[0] -= 1;
        let mut p_plus_one = p;
        p_plus_one[0] += 1;
        let mut one = [0u8; 32];
        one[0] = 1;
        peers.extend([[0u8; 32], one, minus_one, p, p_plus_one, [0xff; 32]]);
        for _ in 0..100 {
            let mut u = [0u8; 32];
            rng.fill_bytes(&mut u);
            peers.push(u);
            let mut s = [0u8; 32];
            rng.fill_bytes(&mut s);
            peers.push(public_key(&s));
        }
        for u in peers.clone() {
            let mut high = u;
            high[31] |= 0x80;
            peers.push(high);
        }
        let on_curve = peers.iter().filter(|u| MontgomeryPoint(**u).to_edwards(0).is_some()).count();
        assert!(on_curve > 100 && on_curve < peers.len() - 50, "{on_curve} of {} peer keys on the curve", peers.len());
        let mut secrets = vec![[0u8; 32], [0xff; 32]];
        for _ in 0..4 {
            let mut s = [0u8; 32];
            rng.fill_bytes(&mut s);
            secrets.push(s);
        }
        for s in &secrets {
            for u in &peers {
                assert_eq!(shared_secret(s, u), x25519_dalek::x25519(*s, *u), "secret {s:02x?} peer {u:02x?}");
            }
        }
    }

    fn hex32(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for i in 0..32 {
            out[i] = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }
}
