//! Random tokens: CSRF tokens, session ids, preview links.

use rand::Rng;

/// `bytes` random bytes as lowercase hex (`16` gives 128 bits).
pub fn random_hex(bytes: usize) -> String {
    let mut rng = rand::rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}
