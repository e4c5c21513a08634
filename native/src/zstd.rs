//! zstd compression with an output cap, as the reference's channels use it.
//!
//! # Design
//! `compress` is `zstd::bulk::compress` (one frame, content size in the header). `decompress` mirrors
//! `zstd::bulk::decompress(data, capacity)`: all frames of the input must decode into at most `max`
//! bytes. A frame header that declares more than `max` is refused before any allocation, and a message
//! that declares its size gets a buffer of that size, not of the cap.
//!
//! # Not provided
//! Protection against compress-then-encrypt length leaks (CRIME/BREACH): compression is opt-in per channel.
//!
//! # Example
//! ```
//! let packed = quorumnet_native::zstd::compress(b"hello hello hello", 3).unwrap();
//! assert_eq!(quorumnet_native::zstd::decompress(&packed, 17).unwrap(), b"hello hello hello");
//! assert!(quorumnet_native::zstd::decompress(&packed, 16).is_none());
//! ```

pub fn level_range() -> std::ops::RangeInclusive<i32> {
    zstd::compression_level_range()
}

pub fn compress(data: &[u8], level: i32) -> Result<Vec<u8>, String> {
    if !level_range().contains(&level) {
        let r = level_range();
        return Err(format!("zstd level must be an integer in {}..{}, got {level}", r.start(), r.end()));
    }
    zstd::bulk::compress(data, level).map_err(|e| e.to_string())
}

/// The content size the first frame declares: Ok(None) when it does not say, Err for invalid data.
pub fn declared_size(data: &[u8]) -> Result<Option<u64>, ()> {
    zstd::zstd_safe::get_frame_content_size(data).map_err(|_| ())
}

/// Compress into `out` (at least `compress_bound(data.len())` bytes); returns the compressed length.
pub fn compress_into(data: &[u8], level: i32, out: &mut [u8]) -> Result<usize, String> {
    if !level_range().contains(&level) {
        let r = level_range();
        return Err(format!("zstd level must be an integer in {}..{}, got {level}", r.start(), r.end()));
    }
    zstd::bulk::compress_to_buffer(data, out, level).map_err(|e| e.to_string())
}

/// Decompress all frames of `data` into `out`; None if invalid or if the output does not fit.
pub fn decompress_into(data: &[u8], out: &mut [u8]) -> Option<usize> {
    zstd::bulk::decompress_to_buffer(data, out).ok()
}

pub fn decompress(data: &[u8], max: usize) -> Option<Vec<u8>> {
    let declared = match zstd::zstd_safe::get_frame_content_size(data) {
        Ok(Some(n)) => Some(n),
        Ok(None) => None,
        Err(_) => return None,
    };
    if let Some(n) = declared {
        if n > max as u64 {
            return None;
        }
        // More frames may follow the first: its size is a first guess, the cap the second.
        if let Ok(out) = zstd::bulk::decompress(data, n as usize) {
            return Some(out);
        }
    }
    zstd::bulk::decompress(data, max).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_is_inclusive() {
        let data = vec![7u8; 1000];
        let packed = compress(&data, 3).unwrap();
        assert_eq!(decompress(&packed, 1000).unwrap(), data);
        assert!(decompress(&packed, 999).is_none());
        assert!(decompress(b"not zstd", 1000).is_none());
    }

    #[test]
    fn concatenated_frames_decode_like_the_reference() {
        let mut both = compress(b"abc", 3).unwrap();
        both.extend(compress(b"def", 1).unwrap());
        assert_eq!(decompress(&both, 6).unwrap(), b"abcdef");
        assert!(decompress(&both, 5).is_none());
    }

    #[test]
    fn level_zero_is_the_default_and_bad_levels_are_refused() {
        assert_eq!(compress(b"x", 0).unwrap(), compress(b"x", 3).unwrap());
        assert!(compress(b"x", 1000).is_err());
    }
}
