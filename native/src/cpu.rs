//! The CPU features that the addon's libraries pick their code paths by, as detected at run time.
//!
//! # Design
//! ring (ChaCha20-Poly1305 frames), blst (BLS12-381) and libzstd each check the CPU once and choose
//! an assembly or intrinsics path; this lists the features they look at and whether this CPU has them,
//! so `quorumnet doctor` can say which paths are in use. Detection uses the standard library's
//! `is_x86_feature_detected!` / `is_aarch64_feature_detected!`, the same CPUID / HWCAP sources.
//!
//! # Not provided
//! The exact path each library took (they do not expose it); a feature listed as detected is one the
//! library can use, not proof that it did.
//!
//! # Example
//! ```
//! for f in quorumnet_native::cpu::features() { println!("{} {} ({})", f.name, f.detected, f.used_by) }
//! ```

/// One CPU feature, whether this CPU has it, and which library's fast path needs it.
pub struct Feature {
    pub name: &'static str,
    pub detected: bool,
    pub used_by: &'static str,
}

/// The features the addon's libraries dispatch on for this architecture (empty on others).
pub fn features() -> Vec<Feature> {
    #[allow(unused_mut)]
    let mut out = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        let f = |name, detected, used_by| Feature { name, detected, used_by };
        out.push(f("ssse3", std::is_x86_feature_detected!("ssse3"), "ring ChaCha20"));
        out.push(f("sse4.1", std::is_x86_feature_detected!("sse4.1"), "ring ChaCha20-Poly1305"));
        out.push(f("avx2", std::is_x86_feature_detected!("avx2"), "ring ChaCha20-Poly1305"));
        out.push(f("bmi2", std::is_x86_feature_detected!("bmi2"), "ring ChaCha20-Poly1305, blst, zstd"));
        out.push(f("adx", std::is_x86_feature_detected!("adx"), "blst BLS12-381"));
    }
    #[cfg(target_arch = "aarch64")]
    {
        let f = |name, detected, used_by| Feature { name, detected, used_by };
        out.push(f("neon", std::arch::is_aarch64_feature_detected!("neon"), "ring ChaCha20-Poly1305"));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn lists_the_features_of_this_architecture() {
        let names: Vec<_> = super::features().iter().map(|f| f.name).collect();
        if cfg!(target_arch = "x86_64") {
            assert!(names.contains(&"avx2") && names.contains(&"adx"));
        }
        if cfg!(target_arch = "aarch64") {
            assert_eq!(names, ["neon"]);
        }
    }
}
