//! Credential rules: passwords hashed with argon2id, API keys as random secrets stored as
//! SHA-256 (a 256-bit random secret needs no slow hash, and a fast one keeps the API fast).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters accepts any password")
        .to_string()
}

pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A password for a first admin: 20 characters from an alphabet without look-alikes.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

/// `bytes` random bytes as hex: session tokens, CSRF tokens, server secrets.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    hex(&buf)
}

/// A freshly generated API key: `token` is shown once; `id` and `secret_hash` are stored.
pub struct NewApiKey {
    pub id: String,
    pub token: String,
    pub secret_hash: String,
}

const KEY_PREFIX: &str = "hark_";

pub fn generate_api_key() -> NewApiKey {
    let mut id = [0u8; 6];
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut id);
    OsRng.fill_bytes(&mut secret);
    let (id, secret) = (hex(&id), hex(&secret));
    NewApiKey { token: format!("{KEY_PREFIX}{id}_{secret}"), secret_hash: hash_secret(&secret), id }
}

/// Splits a presented token into its key id and secret.
pub fn parse_api_key(token: &str) -> Option<(&str, &str)> {
    let (id, secret) = token.strip_prefix(KEY_PREFIX)?.split_once('_')?;
    (id.len() == 12 && secret.len() == 64).then_some((id, secret))
}

pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// The `X-Hark-Signature` of a webhook call: `sha256=` and the hex HMAC-SHA256 of
/// `{timestamp}.{body}` under the webhook's secret (the timestamp guards against replays).
pub fn webhook_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}

/// What a website puts beside a visitor's id so the widget may attach answers to that
/// contact: hex HMAC-SHA256 of the external id under the installation's widget secret.
/// Computed on the website's server, so a visitor cannot claim someone else's id.
pub fn visitor_signature(secret: &str, external_id: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(external_id.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// Compares two hashes without leaking the position of the first difference.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip() {
        let hash = hash_password("correct horse");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("x", "not a hash"));
        assert_eq!(generate_password().len(), 20);
    }

    #[test]
    fn api_key_round_trip() {
        let key = generate_api_key();
        let (id, secret) = parse_api_key(&key.token).unwrap();
        assert_eq!(id, key.id);
        assert!(constant_time_eq(&hash_secret(secret), &key.secret_hash));
        assert!(!key.token.contains(&key.secret_hash));
        assert!(parse_api_key("hark_short_x").is_none());
        assert!(parse_api_key("Bearer x").is_none());
    }
}
