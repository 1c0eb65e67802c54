//! The server's VAPID identity (RFC 8292): one P-256 key pair, generated on first start and
//! kept in the data directory (`vapid.key`, mode 0600, never rotated — rotating it would
//! silently invalidate every browser's subscription), and the ES256-signed JWT that proves
//! to a push service that a push comes from the holder of the key a subscription was made
//! for.

use base64ct::{Base64UrlUnpadded, Encoding};
use p256::SecretKey;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use std::io::Write;
use std::path::Path;

/// The key's file in the data directory; `mychat backup` copies it.
pub const KEY_FILE: &str = "vapid.key";
/// How long a signed token is valid; RFC 8292 allows at most 24 hours.
const TOKEN_LIFETIME_SECS: u64 = 12 * 3600;

pub struct Vapid {
    key: SigningKey,
    /// The uncompressed public key, base64url: what browsers pass to `subscribe()` as the
    /// application server key, and the `k=` of every Authorization header.
    public: String,
}

/// A fresh random P-256 secret key from the operating system's generator.
pub(crate) fn random_secret() -> Option<SecretKey> {
    // A random 256-bit string is a valid scalar except with probability ~2^-32.
    for _ in 0..8 {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).ok()?;
        if let Ok(key) = SecretKey::from_slice(&bytes) {
            return Some(key);
        }
    }
    None
}

impl Vapid {
    fn from_secret(secret: &SecretKey) -> Vapid {
        let public = Base64UrlUnpadded::encode_string(&secret.public_key().to_sec1_bytes());
        Vapid { key: SigningKey::from(secret), public }
    }

    /// Reads the key from `dir`, or makes one and writes it there (readable by its owner
    /// only) if there is none yet.
    pub fn load_or_create(dir: &Path) -> Result<Vapid, String> {
        let path = dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let bytes = Base64UrlUnpadded::decode_vec(text.trim())
                    .map_err(|_| format!("{}: not a base64url key", path.display()))?;
                let secret = SecretKey::from_slice(&bytes)
                    .map_err(|_| format!("{}: not a P-256 private key", path.display()))?;
                Ok(Vapid::from_secret(&secret))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let secret = random_secret().ok_or("no random numbers from the operating system")?;
                write_private(&path, &Base64UrlUnpadded::encode_string(&secret.to_bytes()))
                    .map_err(|e| format!("writing {}: {e}", path.display()))?;
                log::info!("generated the Web Push (VAPID) key in {}", path.display());
                Ok(Vapid::from_secret(&secret))
            }
            Err(e) => Err(format!("reading {}: {e}", path.display())),
        }
    }

    /// A key pair that lives in memory only (the hub's unit tests).
    pub fn ephemeral() -> Option<Vapid> {
        random_secret().map(|s| Vapid::from_secret(&s))
    }

    /// The public key, base64url (65 bytes, uncompressed).
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The `Authorization` header for a push to a service at `audience` (the endpoint's
    /// origin), from `subject` (a `mailto:` or `https:` contact), signed now.
    pub fn authorization(&self, audience: &str, subject: &str, now_unix: u64) -> String {
        let header = Base64UrlUnpadded::encode_string(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({ "aud": audience, "exp": now_unix + TOKEN_LIFETIME_SECS, "sub": subject });
        let claims = Base64UrlUnpadded::encode_string(claims.to_string().as_bytes());
        let signing_input = format!("{header}.{claims}");
        let signature: Signature = self.key.sign(signing_input.as_bytes());
        let signature = Base64UrlUnpadded::encode_string(&signature.to_bytes());
        format!("vapid t={signing_input}.{signature}, k={}", self.public)
    }
}

/// Creates `path` readable and writable by its owner only, and writes `text` to it.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// Copies the key file to `dest` with the same restrictive mode (for `mychat backup`);
/// `Ok(false)` if there is no key yet.
pub fn copy_key(from_dir: &Path, dest_dir: &Path) -> std::io::Result<bool> {
    let source = from_dir.join(KEY_FILE);
    let text = match std::fs::read_to_string(&source) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    write_private(&dest_dir.join(KEY_FILE), text.trim())?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier;

    #[test]
    fn signs_a_token_the_public_key_verifies() {
        let vapid = Vapid::ephemeral().unwrap();
        let header = vapid.authorization("https://push.example.net", "mailto:admin@example.org", 1_000);
        let (token, key) = header.strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
        assert_eq!(key, vapid.public_key());
        let (input, signature) = token.rsplit_once('.').unwrap();
        let claims = input.split('.').nth(1).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&Base64UrlUnpadded::decode_vec(claims).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example.net");
        assert_eq!(claims["exp"], 1_000 + TOKEN_LIFETIME_SECS);
        let verifying = VerifyingKey::from_sec1_bytes(&Base64UrlUnpadded::decode_vec(key).unwrap()).unwrap();
        let signature = Signature::from_slice(&Base64UrlUnpadded::decode_vec(signature).unwrap()).unwrap();
        verifying.verify(input.as_bytes(), &signature).unwrap();
    }

    #[test]
    fn the_key_is_kept_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("mychat-vapid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = Vapid::load_or_create(&dir).unwrap();
        let again = Vapid::load_or_create(&dir).unwrap();
        assert_eq!(first.public_key(), again.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
