//! Glance's checksums (MD5 `checksum`, SHA-512 `os_hash_value`), computed
//! incrementally over streamed uploads with the RustCrypto `md-5` and `sha2` crates.

use md5::Digest as _;

use crate::util::hex;

/// Incremental MD5.
pub(crate) struct Md5(md5::Md5);

impl Md5 {
    /// An empty digest.
    pub(crate) fn new() -> Self {
        Md5(md5::Md5::new())
    }

    /// Feeds `data`.
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The digest as lower-case hex.
    pub(crate) fn finish_hex(self) -> String {
        hex(&self.0.finalize())
    }
}

/// Incremental SHA-512.
pub(crate) struct Sha512(sha2::Sha512);

impl Sha512 {
    /// An empty digest.
    pub(crate) fn new() -> Self {
        Sha512(sha2::Sha512::new())
    }

    /// Feeds `data`.
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The digest as lower-case hex.
    pub(crate) fn finish_hex(self) -> String {
        hex(&self.0.finalize())
    }
}

/// MD5 of `data` as lower-case hex.
pub(crate) fn md5_hex(data: &[u8]) -> String {
    let mut m = Md5::new();
    m.update(data);
    m.finish_hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_vectors() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        let long: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let mut h = Md5::new();
        for c in long.chunks(7) {
            h.update(c);
        }
        assert_eq!(h.finish_hex(), md5_hex(&long));
        assert_eq!(
            md5_hex(b"The quick brown fox jumps over the lazy dog"),
            "9e107d9d372bb6826bd81d3542a419d6"
        );
    }

    #[test]
    fn sha512_vectors() {
        let mut h = Sha512::new();
        h.update(b"abc");
        assert_eq!(
            h.finish_hex(),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
        let h = Sha512::new();
        assert_eq!(
            h.finish_hex(),
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce\
             47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
        );
    }
}
