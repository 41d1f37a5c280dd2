//! Signed public tokens: a survey link, an invitation link, a response being finished.
//! A token is `{kind}{id}.{mac}`, the MAC being HMAC-SHA256 over kind and id under the
//! server's secret, cut to 128 bits. Nothing is stored, and a tampered token is refused.

use hmac::{Hmac, Mac};
use sha2::Sha256;

const MAC_BYTES: usize = 16;

/// What a token opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// The anonymous link of a survey.
    Survey,
    /// One invitation sent to one contact.
    Invitation,
    /// One stored response whose follow-up is being answered (it can change the answer).
    Response,
    /// A promoter's referral link to share: counts a click and redirects, changes nothing.
    Referral,
    /// A shared view of the figures or a wallboard: shows, changes nothing, can be revoked.
    Shared,
}

impl TokenKind {
    fn letter(self) -> char {
        match self {
            Self::Survey => 'a',
            Self::Invitation => 'i',
            Self::Response => 'r',
            Self::Referral => 'f',
            Self::Shared => 's',
        }
    }

    fn from_letter(c: char) -> Option<Self> {
        [Self::Survey, Self::Invitation, Self::Response, Self::Referral, Self::Shared]
            .into_iter()
            .find(|k| k.letter() == c)
    }
}

#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

impl Signer {
    pub fn new(secret: &[u8]) -> Self {
        Self { key: secret.to_vec() }
    }

    fn mac(&self, kind: TokenKind, id: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(&[kind.letter() as u8, b':']);
        mac.update(id.as_bytes());
        mac
    }

    pub fn sign(&self, kind: TokenKind, id: &str) -> String {
        let tag = self.mac(kind, id).finalize().into_bytes();
        format!("{}{id}.{}", kind.letter(), crate::auth::hex(&tag[..MAC_BYTES]))
    }

    /// The kind and id of a token this server signed; `None` for anything else.
    pub fn verify(&self, token: &str) -> Option<(TokenKind, String)> {
        let (head, mac_hex) = token.rsplit_once('.')?;
        let mut chars = head.chars();
        let kind = TokenKind::from_letter(chars.next()?)?;
        let id = chars.as_str();
        let given = unhex(mac_hex)?;
        (given.len() == MAC_BYTES && self.mac(kind, id).verify_truncated_left(&given).is_ok())
            .then(|| (kind, id.to_owned()))
    }

    /// The id inside a token of the expected kind.
    pub fn verify_kind(&self, token: &str, kind: TokenKind) -> Option<String> {
        self.verify(token).filter(|(k, _)| *k == kind).map(|(_, id)| id)
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_tokens_verify_and_tampered_ones_do_not() {
        let signer = Signer::new(b"secret one");
        let token = signer.sign(TokenKind::Invitation, "0190-abc");
        assert_eq!(signer.verify(&token), Some((TokenKind::Invitation, "0190-abc".into())));
        assert_eq!(signer.verify_kind(&token, TokenKind::Response), None);
        let other_id = token.replacen("abc", "abd", 1);
        let other_kind = token.replacen('i', "r", 1);
        let mut flipped = token.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == '0' { '1' } else { '0' });
        for bad in
            [other_id, other_kind, flipped, "".into(), "i.".into(), "x1.00".into(), token[..token.len() - 2].into()]
        {
            assert_eq!(signer.verify(&bad), None, "{bad}");
        }
        assert_eq!(Signer::new(b"secret two").verify(&token), None);
    }
}
