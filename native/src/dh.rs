//! X25519 ephemeral keys from caller-supplied randomness.
//!
//! # Design
//! RFC 7748 (x25519-dalek 2.0.1, as the reference): the secret is clamped when used, and the raw
//! 32-byte output is returned without a contributory check, so a low-order peer key gives all zeros
//! exactly as in the reference. Randomness comes from the caller so a seeded runtime stays deterministic.
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

use x25519_dalek::{PublicKey, StaticSecret};

pub fn public_key(secret: &[u8; 32]) -> [u8; 32] {
    PublicKey::from(&StaticSecret::from(*secret)).to_bytes()
}

pub fn shared_secret(secret: &[u8; 32], peer: &[u8; 32]) -> [u8; 32] {
    StaticSecret::from(*secret).diffie_hellman(&PublicKey::from(*peer)).to_bytes()
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

    fn hex32(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for i in 0..32 {
            out[i] = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }
}
