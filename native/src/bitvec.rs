//! Knowledge bit vectors in the reference's order (bitvec `Lsb0` over bytes).
//!
//! # Design
//! Bit i is byte i >> 3, mask 1 << (i & 7). Missing bytes count as zero. `lacking` returns the indices
//! below n that are set in `ours` and clear in `theirs`: the records the asker does not have.
//!
//! # Example
//! ```
//! assert_eq!(quorumnet_native::bitvec::lacking(&[0b1010], &[0b0010], 4), vec![3]);
//! ```

pub fn lacking(ours: &[u8], theirs: &[u8], n: usize) -> Vec<u32> {
    let mut out = Vec::new();
    for b in 0..n.div_ceil(8) {
        let mut want = ours.get(b).copied().unwrap_or(0) & !theirs.get(b).copied().unwrap_or(0);
        while want != 0 {
            let i = b * 8 + want.trailing_zeros() as usize;
            if i >= n {
                break;
            }
            out.push(i as u32);
            want &= want - 1;
        }
    }
    out
}

pub fn has_extra_bits(bits: &[u8], n: usize) -> bool {
    let full = n / 8;
    bits.iter().enumerate().skip(full).any(|(b, &byte)| {
        let mask = if b == full { 0xffu8 << (n % 8) } else { 0xff };
        byte & mask != 0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_bounds() {
        assert_eq!(lacking(&[0x09, 0x02], &[0x00, 0x00], 10), vec![0, 3, 9]);
        assert_eq!(lacking(&[0xff, 0xff], &[0x0f, 0x00], 10), vec![4, 5, 6, 7, 8, 9]);
        assert!(has_extra_bits(&[0x80], 7));
        assert!(!has_extra_bits(&[0x7f], 7));
        assert!(has_extra_bits(&[0xff, 0x01], 8));
        assert!(!has_extra_bits(&[0xff, 0x00], 8));
    }
}
