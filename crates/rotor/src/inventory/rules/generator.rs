//! Rules for `generator = { … }`: kinds, encodings, alphabets, sizes, entropy.

use toml::Spanned;

use super::*;
use crate::inventory::error::InventoryError;
use crate::inventory::model::*;
use crate::inventory::position::Cx;

/// Random generator defaults and limits.
pub(in crate::inventory) const DEFAULT_BYTES: i64 = 32;
pub(in crate::inventory) const MIN_BYTES: i64 = 16;
pub(in crate::inventory) const MAX_BYTES: i64 = 4096;
/// Password generator defaults and limits.
pub(in crate::inventory) const DEFAULT_LENGTH: i64 = 32;
pub(in crate::inventory) const MAX_LENGTH: i64 = 4096;
pub(in crate::inventory) const MIN_PASSWORD_BITS: f64 = 96.0;

pub(in crate::inventory) fn convert_generator(
    cx: &Cx<'_>,
    secret: &str,
    g: &Spanned<RawGenerator>,
) -> Result<Generator, InventoryError> {
    let raw = g.get_ref();
    match raw.kind.get_ref().as_str() {
        "random" => {
            let hint = "a random generator takes `bytes` and `encoding`";
            not_for_kind(
                cx,
                secret,
                "generator",
                "length",
                raw.length.as_ref(),
                "random",
                hint,
            )?;
            not_for_kind(
                cx,
                secret,
                "generator",
                "alphabet",
                raw.alphabet.as_ref(),
                "random",
                hint,
            )?;
            let bytes = match &raw.bytes {
                Some(b) => {
                    let n = b.get_ref().0;
                    if n < i128::from(MIN_BYTES) {
                        return Err(cx.err(
                            b.span(),
                            Some(secret),
                            format!(
                                "generator bytes = {n} is too small; use at least {MIN_BYTES} ({} bits)",
                                MIN_BYTES * 8
                            ),
                        ));
                    }
                    if n > i128::from(MAX_BYTES) {
                        return Err(cx.err(
                            b.span(),
                            Some(secret),
                            format!("generator bytes = {n} is too large; use at most {MAX_BYTES}"),
                        ));
                    }
                    n
                }
                None => i128::from(DEFAULT_BYTES),
            };
            let encoding = match &raw.encoding {
                Some(e) => match e.get_ref().as_str() {
                    "hex" => Encoding::Hex,
                    "base64" => Encoding::Base64,
                    "base64url" => Encoding::Base64Url,
                    other => {
                        return Err(cx.err(
                            e.span(),
                            Some(secret),
                            format!(
                                "unknown generator encoding \"{other}\"; expected \"hex\", \"base64\" or \"base64url\""
                            ),
                        ))
                    }
                },
                None => Encoding::Base64Url,
            };
            Ok(Generator::Random {
                bytes: usize::try_from(bytes).unwrap_or(DEFAULT_BYTES as usize),
                encoding,
            })
        }
        "password" => {
            let hint = "a password generator takes `length` and `alphabet`";
            not_for_kind(
                cx,
                secret,
                "generator",
                "bytes",
                raw.bytes.as_ref(),
                "password",
                hint,
            )?;
            not_for_kind(
                cx,
                secret,
                "generator",
                "encoding",
                raw.encoding.as_ref(),
                "password",
                hint,
            )?;
            let alphabet = match &raw.alphabet {
                Some(a) => match a.get_ref().as_str() {
                    "alnum" => Alphabet::Alnum,
                    "urlsafe" => Alphabet::UrlSafe,
                    "printable" => Alphabet::Printable,
                    other => {
                        return Err(cx.err(
                            a.span(),
                            Some(secret),
                            format!(
                                "unknown generator alphabet \"{other}\"; expected \"alnum\", \"urlsafe\" or \"printable\""
                            ),
                        ))
                    }
                },
                None => Alphabet::UrlSafe,
            };
            let size = crate::generate::alphabet_chars(alphabet).len() as f64;
            let per_char = size.log2();
            let (length, span) = match &raw.length {
                Some(l) => (l.get_ref().0, l.span()),
                None => (i128::from(DEFAULT_LENGTH), g.span()),
            };
            if length < 1 {
                return Err(cx.err(
                    span,
                    Some(secret),
                    format!("generator length = {length} must be positive"),
                ));
            }
            if length > i128::from(MAX_LENGTH) {
                return Err(cx.err(
                    span,
                    Some(secret),
                    format!("generator length = {length} is too large; use at most {MAX_LENGTH}"),
                ));
            }
            let bits = length as f64 * per_char;
            if bits < MIN_PASSWORD_BITS {
                let needed = (MIN_PASSWORD_BITS / per_char).ceil();
                return Err(cx.err(
                    span,
                    Some(secret),
                    format!(
                        "generator length = {length} with alphabet {} gives only {bits:.1} bits; use at least {needed} characters ({MIN_PASSWORD_BITS} bits)",
                        crate::generate::alphabet_name(alphabet)
                    ),
                ));
            }
            Ok(Generator::Password {
                length: usize::try_from(length).unwrap_or(DEFAULT_LENGTH as usize),
                alphabet,
            })
        }
        other => Err(cx.err(
            raw.kind.span(),
            Some(secret),
            format!("unknown generator kind \"{other}\"; expected \"random\" or \"password\""),
        )),
    }
}
