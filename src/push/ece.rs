//! RFC 8291 message encryption for Web Push: the `aes128gcm` content coding (RFC 8188) with
//! a key agreed between a fresh ephemeral P-256 key and the browser's subscription key, mixed
//! with the subscription's authentication secret. One record: a push message is one record of
//! at most 4096 bytes.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use hkdf::Hkdf;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;

/// The record size written in the header, and the largest body a push service must accept.
pub const RECORD_SIZE: usize = 4096;
/// Header: salt (16), record size (4), key id length (1), key id (the 65-byte public key).
const HEADER_LEN: usize = 16 + 4 + 1 + 65;
/// The AES-GCM tag.
const TAG_LEN: usize = 16;
/// The largest plaintext that fits one record: the rest is header, the padding delimiter and
/// the tag (RFC 8291 section 4: 3993 bytes).
pub const MAX_PLAINTEXT: usize = RECORD_SIZE - HEADER_LEN - 1 - TAG_LEN;

/// Why a message could not be encrypted for a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EceError {
    /// The subscription's `p256dh` is not an uncompressed P-256 point.
    BadKey,
    /// The subscription's `auth` secret is not 16 bytes.
    BadAuth,
    /// The plaintext does not fit one record.
    TooLarge,
    /// The operating system gave no random bytes.
    Random,
}

/// Encrypts `plaintext` for a subscription (`ua_public`: its `p256dh` key, 65 bytes; `auth`:
/// its 16-byte secret) with a fresh ephemeral key and salt: the request body of a push.
pub fn encrypt(plaintext: &[u8], ua_public: &[u8], auth: &[u8]) -> Result<Vec<u8>, EceError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| EceError::Random)?;
    let ephemeral = crate::push::vapid::random_secret().ok_or(EceError::Random)?;
    encrypt_with(plaintext, ua_public, auth, &salt, &ephemeral)
}

/// [`encrypt`] with a given salt and ephemeral key (RFC 8291's test vector fixes both).
pub(crate) fn encrypt_with(
    plaintext: &[u8],
    ua_public: &[u8],
    auth: &[u8],
    salt: &[u8; 16],
    ephemeral: &SecretKey,
) -> Result<Vec<u8>, EceError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(EceError::TooLarge);
    }
    if auth.len() != 16 {
        return Err(EceError::BadAuth);
    }
    if ua_public.len() != 65 {
        return Err(EceError::BadKey);
    }
    let ua_key = PublicKey::from_sec1_bytes(ua_public).map_err(|_| EceError::BadKey)?;
    let as_public = ephemeral.public_key().to_sec1_bytes();
    let shared = ephemeral.diffie_hellman(&ua_key);

    // IKM = HKDF(auth, ecdh_secret, "WebPush: info" || 0x00 || ua_public || as_public, 32)
    let mut key_info = Vec::with_capacity(14 + 65 + 65);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(ua_public);
    key_info.extend_from_slice(&as_public);
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes())
        .expand(&key_info, &mut ikm)
        .map_err(|_| EceError::BadKey)?;

    // RFC 8188: the content-encryption key and the nonce, from the salt and that IKM.
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let mut cek = [0u8; 16];
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek).map_err(|_| EceError::BadKey)?;
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce).map_err(|_| EceError::BadKey)?;

    // The last (and only) record ends with the delimiter 0x02; no further padding.
    let mut record = Vec::with_capacity(plaintext.len() + 1);
    record.extend_from_slice(plaintext);
    record.push(2);
    let cipher = Aes128Gcm::new_from_slice(&cek).map_err(|_| EceError::BadKey)?;
    let sealed = cipher.encrypt(&Nonce::from(nonce), record.as_slice()).map_err(|_| EceError::TooLarge)?;

    let mut body = Vec::with_capacity(HEADER_LEN + sealed.len());
    body.extend_from_slice(salt);
    body.extend_from_slice(&(RECORD_SIZE as u32).to_be_bytes());
    body.push(as_public.len() as u8);
    body.extend_from_slice(&as_public);
    body.extend_from_slice(&sealed);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64ct::{Base64UrlUnpadded, Encoding};

    fn b64(s: &str) -> Vec<u8> {
        Base64UrlUnpadded::decode_vec(s).unwrap()
    }

    /// RFC 8291, Appendix A: the whole body, byte for byte.
    #[test]
    fn matches_the_rfc_8291_example() {
        let plaintext = b"When I grow up, I want to be a watermelon";
        let as_private = SecretKey::from_slice(&b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")).unwrap();
        assert_eq!(
            &*as_private.public_key().to_sec1_bytes(),
            b64("BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8").as_slice()
        );
        let ua_public = b64("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4");
        let auth = b64("BTBZMqHH6r4Tts7J_aSIgg");
        let salt: [u8; 16] = b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
        let body = encrypt_with(plaintext, &ua_public, &auth, &salt, &as_private).unwrap();
        assert_eq!(
            Base64UrlUnpadded::encode_string(&body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8w\
             EqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
        );
    }

    #[test]
    fn refuses_bad_keys_and_oversized_messages() {
        let key = crate::push::vapid::random_secret().unwrap();
        let public = key.public_key().to_sec1_bytes();
        assert_eq!(encrypt(b"x", &public[..64], &[0; 16]), Err(EceError::BadKey));
        assert_eq!(encrypt(b"x", &[4; 65], &[0; 16]), Err(EceError::BadKey));
        assert_eq!(encrypt(b"x", &public, &[0; 15]), Err(EceError::BadAuth));
        assert_eq!(encrypt(&[b'a'; MAX_PLAINTEXT + 1], &public, &[0; 16]), Err(EceError::TooLarge));
        let body = encrypt(&[b'a'; MAX_PLAINTEXT], &public, &[0; 16]).unwrap();
        assert_eq!(body.len(), RECORD_SIZE);
    }
}
