//! Ed25519 (ZIP-215, as ed25519-consensus) and BLS12-381 min-pk (blst), as the reference signs.
//!
//! # Design
//! Every signature covers `union_unique(namespace, msg) = varint(len(namespace)) || namespace || msg`.
//! Ed25519 keys are RFC 8032 seeds; `ed25519_from_seed(n)` draws 32 bytes from
//! `StdRng::seed_from_u64(n)` as the reference's `from_seed` does. Signing uses ed25519-consensus, as
//! the reference does. Verification follows ZIP-215, the rules of ed25519-consensus the reference
//! verifies with, computed here with curve25519-dalek 4 (its AVX2 backend, chosen at run time, is
//! about a third faster than the dalek-ng fork ed25519-consensus builds on); the tests compare every
//! result with ed25519-consensus, edge cases (small-order points, non-canonical encodings) included.
//! BLS keys are 32-byte big-endian scalars from blst's `keygen_v3`
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
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
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

/// Whether `pk` is a key ed25519-consensus accepts: 32 bytes encoding a point of the curve (any
/// encoding of it, canonical or not).
pub fn ed25519_validate(pk: &[u8]) -> bool {
    <[u8; 32]>::try_from(pk).is_ok_and(|a| decompress_key(&a).is_some())
}

/// Slots of the per-thread cache of decoded public keys: a validator set's keys (hundreds to a few
/// thousand) mostly fit; about 1.6 MB per thread that verifies.
const KEY_CACHE_SLOTS: usize = 8192;

thread_local! {
    static KEY_CACHE: std::cell::RefCell<Vec<Option<([u8; 32], Option<EdwardsPoint>)>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The point a public key encodes (None when it encodes none), from a direct-mapped per-thread cache:
/// decoding a key is a square root, about a tenth of a verification, and the same few keys are
/// decoded again for every handshake, peer record and key check. A slot holds the exact 32 bytes it
/// was decoded from, so any encoding (a non-canonical one too) maps to its own result; keys that
/// collide on a slot (chosen to or not) only evict each other.
fn decompress_key(pk: &[u8; 32]) -> Option<EdwardsPoint> {
    let slot = (u16::from_le_bytes([pk[0], pk[1]]) ^ u16::from_le_bytes([pk[29], pk[30]])) as usize % KEY_CACHE_SLOTS;
    KEY_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.is_empty() {
            cache.resize(KEY_CACHE_SLOTS, None);
        }
        if let Some((key, point)) = &cache[slot] {
            if key == pk {
                return *point;
            }
        }
        let point = CompressedEdwardsY(*pk).decompress();
        cache[slot] = Some((*pk, point));
        point
    })
}

pub fn ed25519_verify(namespace: &[u8], msg: &[u8], pk: &[u8], sig: &[u8]) -> bool {
    let (Ok(pk), Ok(sig)) = (<[u8; 32]>::try_from(pk), <[u8; 64]>::try_from(sig)) else { return false };
    zip215_verify(&pk, &sig, &union_unique(namespace, msg))
}

/// ZIP-215 verification of `sig` over `msg` under the key encoded as `pk`, with ed25519-consensus's
/// outcome for every input: `A` (from `pk`) and `R` (the first half of `sig`) may be any encodings of
/// curve points, canonical or not; `s` (the second half) must be below the group order `l`; with
/// `k = SHA-512(R || A || msg) mod l` over the bytes as given, the check is cofactored:
/// `[8](R - ([s]B - [k]A))` is the identity.
fn zip215_verify(pk: &[u8; 32], sig: &[u8; 64], msg: &[u8]) -> bool {
    let Some((a, r, s, k)) = zip215_parts(pk, sig, msg) else { return false };
    let r_prime = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &-a, &s);
    (r - r_prime).mul_by_cofactor().is_identity()
}

/// `A`, `R`, `s` and `k` of a signature (see `zip215_verify`); None when a point does not decode or
/// `s` is not below `l`.
fn zip215_parts(pk: &[u8; 32], sig: &[u8; 64], msg: &[u8]) -> Option<(EdwardsPoint, EdwardsPoint, Scalar, Scalar)> {
    let (r_bytes, s_bytes) = sig.split_at(32);
    let a = decompress_key(pk)?;
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes.try_into().expect("32 bytes")))?;
    let r = CompressedEdwardsY(r_bytes.try_into().expect("32 bytes")).decompress()?;
    let mut h = ring::digest::Context::new(&ring::digest::SHA512);
    h.update(r_bytes);
    h.update(pk);
    h.update(msg);
    Some((a, r, s, Scalar::from_bytes_mod_order_wide(h.finish().as_ref().try_into().expect("64 bytes"))))
}

/// Verify many at once; result `i` tells whether item `i` verifies (as `ed25519_verify` would). A
/// batch that passes as a whole costs one multiscalar multiplication; a failing batch falls back to
/// checking each item. Batches of fewer than BATCH_FROM are checked item by item (cheaper).
pub fn ed25519_verify_batch(namespaces: &[&[u8]], msgs: &[&[u8]], pks: &[&[u8]], sigs: &[&[u8]]) -> Vec<bool> {
    let n = namespaces.len();
    if n >= BATCH_FROM && zip215_verify_all(namespaces, msgs, pks, sigs) {
        return vec![true; n];
    }
    (0..n).map(|i| ed25519_verify(namespaces[i], msgs[i], pks[i], sigs[i])).collect()
}

/// Smallest batch `ed25519_verify_batch` checks as one: below it, one check per item costs less.
const BATCH_FROM: usize = 4;

/// Whether every item passes ZIP-215 verification, checked at once: with a random 128-bit `z_i` per
/// item, `[8](sum z_i R_i + sum z_i k_i A_i - (sum z_i s_i) B)` is the identity (ed25519-consensus's
/// batch equation). Passes whenever every item does; when one does not, fails except with
/// probability about 2^-128. False for any malformed item.
fn zip215_verify_all(namespaces: &[&[u8]], msgs: &[&[u8]], pks: &[&[u8]], sigs: &[&[u8]]) -> bool {
    let n = namespaces.len();
    let mut rng = rand::thread_rng();
    let mut scalars = Vec::with_capacity(2 * n + 1);
    let mut points = Vec::with_capacity(2 * n + 1);
    let mut b = Scalar::ZERO;
    for i in 0..n {
        let (Ok(pk), Ok(sig)) = (<[u8; 32]>::try_from(pks[i]), <[u8; 64]>::try_from(sigs[i])) else { return false };
        let Some((a, r, s, k)) = zip215_parts(&pk, &sig, &union_unique(namespaces[i], msgs[i])) else { return false };
        let z = Scalar::from(((rng.next_u64() as u128) << 64) | rng.next_u64() as u128);
        b -= z * s;
        scalars.push(z);
        points.push(r);
        scalars.push(z * k);
        points.push(a);
    }
    scalars.push(b);
    points.push(curve25519_dalek::constants::ED25519_BASEPOINT_POINT);
    EdwardsPoint::vartime_multiscalar_mul(scalars, points).mul_by_cofactor().is_identity()
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
pub(crate) mod tests {
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

    /// ed25519-consensus's verdict: the oracle `ed25519_verify` must agree with on every input.
    fn consensus_verify(pk: &[u8; 32], sig: &[u8; 64], msg: &[u8]) -> bool {
        ed25519_consensus::VerificationKey::try_from(*pk).is_ok_and(|vk| vk.verify(&ed25519_consensus::Signature::from(*sig), msg).is_ok())
    }

    /// The eight points of small order, found as the torsion parts `[l]Q` of points `Q` of the curve
    /// (`[l-1]Q + Q`: a variable-base multiplication takes the scalar `-1` as the integer `l - 1`).
    pub(crate) fn small_order_points() -> Vec<EdwardsPoint> {
        let mut found: Vec<EdwardsPoint> = Vec::new();
        for i in 0u32..10_000 {
            let mut h = ring::digest::Context::new(&ring::digest::SHA256);
            h.update(&i.to_le_bytes());
            let Some(q) = CompressedEdwardsY(h.finish().as_ref().try_into().unwrap()).decompress() else { continue };
            let t = q * -Scalar::ONE + q;
            if !found.contains(&t) {
                found.push(t);
            }
            if found.len() == 8 {
                return found;
            }
        }
        panic!("found {} small-order points", found.len())
    }

    /// Encodings ZIP-215's edge cases are about: the small-order points with either sign bit, and
    /// every non-canonical `y` (`y + p` for `y < 19`) with either sign bit, whether it decodes or not.
    fn edge_encodings() -> Vec<[u8; 32]> {
        let mut out = Vec::new();
        for t in small_order_points() {
            let c = t.compress().to_bytes();
            out.push(c);
            let mut flipped = c;
            flipped[31] ^= 0x80;
            out.push(flipped);
        }
        for y in 0u8..19 {
            let mut e = [0xffu8; 32];
            e[0] = 0xed + y;
            e[31] = 0x7f;
            out.push(e);
            e[31] = 0xff;
            out.push(e);
        }
        out
    }

    #[test]
    fn zip215_verification_agrees_with_ed25519_consensus() {
        let sk = ed25519_from_seed(7);
        let pk = ed25519_public_key(&sk).unwrap();
        let msg = b"zip215";
        let real = ed25519_consensus::SigningKey::from(sk).sign(msg).to_bytes();
        let mut edges = edge_encodings();
        let decoding = edges.iter().filter(|e| CompressedEdwardsY(**e).decompress().is_some()).count();
        // 8 small-order points x 2 signs, plus non-canonical ones that decode (y = 0 and 1 are of small order).
        assert!(decoding >= 16 + 4, "{decoding} edge encodings decode");
        edges.push(pk);
        let mut s_values = vec![[0u8; 32], real[32..].try_into().unwrap()];
        let mut l_plus_s = s_values[1];
        // s + l, the non-canonical form of s (l - 1 is the canonical encoding of the scalar -1).
        let l_minus_one = (-Scalar::ONE).to_bytes();
        let mut carry = 1u16;
        for i in 0..32 {
            let v = l_plus_s[i] as u16 + l_minus_one[i] as u16 + carry;
            l_plus_s[i] = v as u8;
            carry = v >> 8;
        }
        s_values.push(l_plus_s);
        let mut r_values = edges.clone();
        r_values.push(real[..32].try_into().unwrap());
        let (mut accepted, mut rejected) = (0, 0);
        for a in &edges {
            for r in &r_values {
                for s in &s_values {
                    let mut sig = [0u8; 64];
                    sig[..32].copy_from_slice(r);
                    sig[32..].copy_from_slice(s);
                    let want = consensus_verify(a, &sig, msg);
                    assert_eq!(zip215_verify(a, &sig, msg), want, "A {a:02x?} R {r:02x?} s {s:02x?}");
                    if want { accepted += 1 } else { rejected += 1 }
                }
            }
        }
        // Both outcomes occur: small-order A and R with s = 0 pass the cofactored check, the real
        // signature passes, s + l and most mixtures fail.
        assert!(accepted > 100 && rejected > 100, "accepted {accepted}, rejected {rejected}");
        assert!(zip215_verify(&pk, &real, msg));
    }

    #[test]
    fn batches_agree_with_verifying_one_by_one() {
        // Real signatures, and small-order A and R with s = 0 (valid under the cofactored equation).
        type Item = ([u8; 32], [u8; 64], Vec<u8>);
        let torsion: Vec<[u8; 32]> = small_order_points().iter().map(|t| t.compress().to_bytes()).collect();
        let mut items: Vec<Item> = Vec::new();
        for i in 0..6u64 {
            let sk = ed25519_from_seed(50 + i);
            let msg = vec![i as u8; 10];
            items.push((ed25519_public_key(&sk).unwrap(), ed25519_sign(&sk, b"ns", &msg).unwrap(), msg));
        }
        for (i, a) in torsion.iter().enumerate() {
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice(&torsion[(i + 3) % 8]);
            items.push((*a, sig, vec![i as u8]));
        }
        let run = |items: &[Item]| {
            let ns: Vec<&[u8]> = vec![b"ns"; items.len()];
            let msgs: Vec<&[u8]> = items.iter().map(|x| &x.2[..]).collect();
            let pks: Vec<&[u8]> = items.iter().map(|x| &x.0[..]).collect();
            let sigs: Vec<&[u8]> = items.iter().map(|x| &x.1[..]).collect();
            let want: Vec<bool> = items.iter().map(|x| consensus_verify(&x.0, &x.1, &union_unique(b"ns", &x.2))).collect();
            (zip215_verify_all(&ns, &msgs, &pks, &sigs), ed25519_verify_batch(&ns, &msgs, &pks, &sigs), want)
        };
        let (all, each, want) = run(&items);
        assert!(all && want.iter().all(|x| *x));
        assert_eq!(each, want);
        // One item broken (a bit of its s): the batch as a whole fails, every item keeps its own verdict.
        for bad in [0, 7, items.len() - 1] {
            let mut broken = items.clone();
            broken[bad].1[40] ^= 1;
            let (all, each, want) = run(&broken);
            assert!(!all);
            assert_eq!(each, want);
            assert_eq!(want.iter().filter(|x| !**x).count(), 1);
            assert!(!want[bad]);
        }
    }

    #[test]
    fn ed25519_verify_agrees_with_ed25519_consensus_on_random_keys_and_corruptions() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(215);
        for i in 0..40u64 {
            let sk = ed25519_from_seed(1000 + i);
            let pk = ed25519_public_key(&sk).unwrap();
            let mut msg = vec![0u8; i as usize * 5];
            rng.fill_bytes(&mut msg);
            let sig = ed25519_consensus::SigningKey::from(sk).sign(&msg).to_bytes();
            assert!(zip215_verify(&pk, &sig, &msg));
            for _ in 0..4 {
                let (mut p2, mut s2, mut m2) = (pk, sig, msg.clone());
                match rng.next_u32() % 3 {
                    0 => p2[rng.next_u32() as usize % 32] ^= 1 << (rng.next_u32() % 8),
                    1 => s2[rng.next_u32() as usize % 64] ^= 1 << (rng.next_u32() % 8),
                    _ => m2.push(1),
                }
                assert_eq!(zip215_verify(&p2, &s2, &m2), consensus_verify(&p2, &s2, &m2));
                assert_eq!(ed25519_validate(&p2), ed25519_consensus::VerificationKey::try_from(p2).is_ok());
            }
        }
    }

    #[test]
    fn keys_sharing_a_cache_slot_keep_their_own_verdicts() {
        // Flipping the same bits of bytes 0 and 29 keeps a key's cache slot: the keys below all share
        // one, and are checked in turns so that each lookup finds the slot holding another key.
        let mut rng = rand::rngs::StdRng::seed_from_u64(8192);
        for i in 0..30u64 {
            let sk = ed25519_from_seed(5000 + i);
            let pk = ed25519_public_key(&sk).unwrap();
            let sig = ed25519_sign(&sk, b"ns", b"msg").unwrap();
            let flip = 1 + (rng.next_u32() % 255) as u8;
            let mut twin = pk;
            twin[0] ^= flip;
            twin[29] ^= flip;
            let twin_decodes = CompressedEdwardsY(twin).decompress().is_some();
            for _ in 0..3 {
                assert!(ed25519_verify(b"ns", b"msg", &pk, &sig));
                assert_eq!(ed25519_validate(&twin), twin_decodes);
                assert!(!ed25519_verify(b"ns", b"msg", &twin, &sig));
                assert!(ed25519_validate(&pk));
                let (ns, msg, sig): (&[u8], &[u8], &[u8]) = (b"ns", b"msg", &sig);
                assert_eq!(ed25519_verify_batch(&[ns; 4], &[msg; 4], &[&pk, &pk, &twin, &pk], &[sig; 4]), vec![true, true, false, true]);
            }
        }
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
