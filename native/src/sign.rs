//! Ed25519 (ed25519-consensus, ZIP-215) and BLS12-381 min-pk (blst), as the reference signs.
//!
//! # Design
//! Every signature covers `union_unique(namespace, msg) = varint(len(namespace)) || namespace || msg`.
//! Ed25519 keys are RFC 8032 seeds; `ed25519_from_seed(n)` draws 32 bytes from
//! `StdRng::seed_from_u64(n)` as the reference's `from_seed` does. Verification follows ZIP-215 (the
//! reference uses the same crate). BLS keys are 32-byte big-endian scalars from blst's `keygen_v3`
//! over 64 bytes of the seeded generator; public keys are compressed G1, signatures compressed G2,
//! hashed with the `_NUL_` DST; decoding rejects infinity and points outside the subgroup.
//!
//! # Not provided
//! BLS aggregation (no proof of possession is offered, so aggregates over untrusted keys are unsafe).
//!
//! # Example
//! ```
//! use quorumnet_native::sign::*;
//! let sk = ed25519_from_seed(0);
//! let sig = ed25519_sign(&sk, b"ns", b"msg").unwrap();
//! assert!(ed25519_verify(b"ns", b"msg", &ed25519_public_key(&sk).unwrap(), &sig));
//! ```

use blst::min_pk::{PublicKey as BlsPublic, SecretKey as BlsSecret, Signature as BlsSignature};
use blst::BLST_ERROR;
use rand::{RngCore, SeedableRng};

pub const BLS_DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_";

/// Failures caused by the caller (wrong key length, invalid scalar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidArgument(pub String);

/// `varint(len(namespace)) || namespace || msg`.
pub fn union_unique(namespace: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(10 + namespace.len() + msg.len());
    let mut n = namespace.len() as u64;
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out.extend_from_slice(namespace);
    out.extend_from_slice(msg);
    out
}

fn array32(b: &[u8], what: &str) -> Result<[u8; 32], InvalidArgument> {
    b.try_into().map_err(|_| InvalidArgument(format!("{what} must be 32 bytes, got {}", b.len())))
}

pub fn ed25519_from_seed(seed: u64) -> [u8; 32] {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut sk = [0u8; 32];
    rng.fill_bytes(&mut sk);
    sk
}

pub fn ed25519_public_key(sk: &[u8]) -> Result<[u8; 32], InvalidArgument> {
    let sk = ed25519_consensus::SigningKey::from(array32(sk, "ed25519 private key")?);
    Ok(sk.verification_key().to_bytes())
}

pub fn ed25519_sign(sk: &[u8], namespace: &[u8], msg: &[u8]) -> Result<[u8; 64], InvalidArgument> {
    let sk = ed25519_consensus::SigningKey::from(array32(sk, "ed25519 private key")?);
    Ok(sk.sign(&union_unique(namespace, msg)).to_bytes())
}

/// A signing key expanded once (hash of the seed, its public key), for a signer that signs many
/// times: `ed25519_sign` derives both again per call, which is half its cost.
pub struct Ed25519Signer(ed25519_consensus::SigningKey);

impl Ed25519Signer {
    pub fn new(sk: &[u8]) -> Result<Self, InvalidArgument> {
        Ok(Self(ed25519_consensus::SigningKey::from(array32(sk, "ed25519 private key")?)))
    }

    /// The same signature `ed25519_sign` gives for this key.
    pub fn sign(&self, namespace: &[u8], msg: &[u8]) -> [u8; 64] {
        self.0.sign(&union_unique(namespace, msg)).to_bytes()
    }
}

pub fn ed25519_validate(pk: &[u8]) -> bool {
    ed25519_consensus::VerificationKey::try_from(pk).is_ok()
}

pub fn ed25519_verify(namespace: &[u8], msg: &[u8], pk: &[u8], sig: &[u8]) -> bool {
    let Ok(vk) = ed25519_consensus::VerificationKey::try_from(pk) else { return false };
    let Ok(sig) = <[u8; 64]>::try_from(sig) else { return false };
    vk.verify(&ed25519_consensus::Signature::from(sig), &union_unique(namespace, msg)).is_ok()
}

/// Verify many at once; result `i` tells whether item `i` verifies. A batch that passes as a whole
/// costs one multiscalar multiplication; a failing batch falls back to checking each item.
pub fn ed25519_verify_batch(namespaces: &[&[u8]], msgs: &[&[u8]], pks: &[&[u8]], sigs: &[&[u8]]) -> Vec<bool> {
    let n = namespaces.len();
    let mut verifier = ed25519_consensus::batch::Verifier::new();
    let mut payloads = Vec::with_capacity(n);
    let mut well_formed = true;
    for i in 0..n {
        let (Ok(pk), Ok(sig)) = (<[u8; 32]>::try_from(pks[i]), <[u8; 64]>::try_from(sigs[i])) else {
            well_formed = false;
            break;
        };
        if !ed25519_validate(&pk) {
            well_formed = false;
            break;
        }
        payloads.push((pk, sig, union_unique(namespaces[i], msgs[i])));
    }
    if well_formed {
        for (pk, sig, payload) in &payloads {
            verifier.queue((ed25519_consensus::VerificationKeyBytes::from(*pk), ed25519_consensus::Signature::from(*sig), payload));
        }
        if verifier.verify(rand::rngs::OsRng).is_ok() {
            return vec![true; n];
        }
    }
    (0..n).map(|i| ed25519_verify(namespaces[i], msgs[i], pks[i], sigs[i])).collect()
}

pub fn bls_keygen(ikm: &[u8]) -> Result<[u8; 32], InvalidArgument> {
    if ikm.len() < 32 {
        return Err(InvalidArgument("BLS keygen needs at least 32 bytes of input keying material".into()));
    }
    let sk = BlsSecret::key_gen_v3(ikm, &[]).map_err(|e| InvalidArgument(format!("BLS keygen failed: {e:?}")))?;
    Ok(sk.to_bytes())
}

pub fn bls_from_seed(seed: u64) -> [u8; 32] {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut ikm = [0u8; 64];
    rng.fill_bytes(&mut ikm);
    bls_keygen(&ikm).expect("64 bytes of IKM")
}

fn bls_secret(sk: &[u8]) -> Result<BlsSecret, InvalidArgument> {
    array32(sk, "BLS private key")?;
    BlsSecret::from_bytes(sk).map_err(|_| InvalidArgument("BLS private key is not below the group order".into()))
}

pub fn bls_public_key(sk: &[u8]) -> Result<[u8; 48], InvalidArgument> {
    Ok(bls_secret(sk)?.sk_to_pk().compress())
}

pub fn bls_sign(sk: &[u8], namespace: &[u8], msg: &[u8]) -> Result<[u8; 96], InvalidArgument> {
    Ok(bls_secret(sk)?.sign(&union_unique(namespace, msg), BLS_DST, &[]).compress())
}

fn bls_public(pk: &[u8]) -> Option<BlsPublic> {
    // key_validate: decompress, then refuse infinity and points outside the subgroup.
    BlsPublic::key_validate(pk).ok()
}

pub fn bls_validate(pk: &[u8]) -> bool {
    pk.len() == 48 && bls_public(pk).is_some()
}

pub fn bls_verify(namespace: &[u8], msg: &[u8], pk: &[u8], sig: &[u8]) -> bool {
    if pk.len() != 48 || sig.len() != 96 {
        return false;
    }
    let Some(pk) = bls_public(pk) else { return false };
    let Ok(sig) = BlsSignature::sig_validate(sig, true) else { return false };
    sig.verify(true, &union_unique(namespace, msg), BLS_DST, &[], &pk, false) == BLST_ERROR::BLST_SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expanded_signer_signs_as_ed25519_sign() {
        for seed in 0..20u64 {
            let sk = ed25519_from_seed(seed);
            let signer = Ed25519Signer::new(&sk).unwrap();
            let msg = vec![seed as u8; seed as usize * 7];
            assert_eq!(signer.sign(b"ns", &msg), ed25519_sign(&sk, b"ns", &msg).unwrap());
        }
        assert!(Ed25519Signer::new(&[0u8; 31]).is_err());
    }

    #[test]
    fn union_unique_prefixes() {
        for (len, prefix) in [(0usize, vec![0u8]), (9, vec![9]), (127, vec![0x7f]), (128, vec![0x80, 1]), (256, vec![0x80, 2]), (16384, vec![0x80, 0x80, 1])] {
            let out = union_unique(&vec![b'a'; len], b"m");
            assert_eq!(&out[..prefix.len()], &prefix[..]);
            assert_eq!(out.len(), prefix.len() + len + 1);
        }
    }

    #[test]
    fn ed25519_sign_verify_and_namespace_separation() {
        let sk = ed25519_from_seed(1);
        let pk = ed25519_public_key(&sk).unwrap();
        let sig = ed25519_sign(&sk, b"ns", b"msg").unwrap();
        assert!(ed25519_verify(b"ns", b"msg", &pk, &sig));
        assert!(!ed25519_verify(b"n", b"smsg", &pk, &sig));
        assert!(!ed25519_verify(b"ns", b"msg", &pk, &sig[..63]));
        let other = ed25519_sign(&sk, b"ns", b"other").unwrap();
        let batch = ed25519_verify_batch(&[b"ns", b"ns"], &[b"msg", b"msg"], &[&pk, &pk], &[&sig, &other]);
        assert_eq!(batch, vec![true, false]);
        assert_ne!(ed25519_from_seed(0), ed25519_from_seed(1));
    }

    #[test]
    fn bls_sign_verify_and_validation() {
        let sk = bls_from_seed(0);
        let pk = bls_public_key(&sk).unwrap();
        let sig = bls_sign(&sk, b"ns", b"msg").unwrap();
        assert!(bls_verify(b"ns", b"msg", &pk, &sig));
        assert!(!bls_verify(b"ns", b"msG", &pk, &sig));
        assert!(bls_validate(&pk));
        let mut infinity = [0u8; 48];
        infinity[0] = 0xc0;
        assert!(!bls_validate(&infinity));
        assert!(bls_public_key(&[0xff; 32]).is_err());
        assert!(bls_keygen(&[0; 31]).is_err());
    }
}
