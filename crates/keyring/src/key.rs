//! Keys and the keyring: ids (fingerprints), the current key, lookup by id,
//! and loading from what rotor delivers.

use std::fmt;

use aws_lc_rs::digest;
use zeroize::Zeroizing;

use crate::KeyringError;

/// A key's public name: the first 16 hex digits of SHA-256 of its value (of
/// the public key's DER for key pairs), exactly as rotor prints it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    /// The id of raw bytes.
    pub fn of(bytes: &[u8]) -> KeyId {
        let d = digest::digest(&digest::SHA256, bytes);
        KeyId(hex::encode(&d.as_ref()[..8]))
    }

    /// An id as read from a token or ciphertext (not checked further).
    pub fn from_str_unchecked(s: &str) -> KeyId {
        KeyId(s.to_owned())
    }

    /// The 16 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.0)
    }
}

/// One symmetric key: its id and its bytes (the value exactly as delivered;
/// applications use the variable's text as the key). Wiped on drop; `Debug`
/// shows only the id.
pub struct Key {
    id: KeyId,
    secret: Zeroizing<Vec<u8>>,
}

impl Key {
    /// A key from its value.
    pub fn new(value: &[u8]) -> Key {
        Key {
            id: KeyId::of(value),
            secret: Zeroizing::new(value.to_vec()),
        }
    }

    /// Its id.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// Its bytes, for the primitives in this crate. Never log them.
    pub fn secret(&self) -> &[u8] {
        &self.secret
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The live keys of one secret, newest first: the first is current (signs,
/// encrypts), all of them verify and decrypt.
#[derive(Debug)]
pub struct Keyring {
    keys: Vec<Key>,
}

/// Shortest key accepted (rotor never generates shorter).
const MIN_KEY_LEN: usize = 16;

/// Why a dotenv file could not be read, in words that never quote a line
/// of it (dotenvy's parse error holds the line, which holds keys).
fn env_file_reason(e: &dotenvy::Error) -> String {
    match e {
        dotenvy::Error::Io(io) => format!("cannot read it: {}", io.kind()),
        dotenvy::Error::LineParse(_, at) => {
            format!("a line does not parse as KEY=value (at character {at}); fix its quoting")
        }
        _ => "cannot parse it".to_owned(),
    }
}

/// A PEM block or a JWK is key material meant for key pairs: used as an
/// HMAC secret, anyone holding the (public) key could sign.
fn looks_public(v: &str) -> bool {
    v.starts_with("-----BEGIN") || (v.starts_with('{') && v.contains("\"kty\""))
}

impl Keyring {
    /// A ring from values, newest first. Empty values are skipped (an
    /// emptied `NAME_PREVIOUS` after a retire).
    pub fn from_values<'a>(
        source_name: &str,
        values: impl IntoIterator<Item = &'a str>,
    ) -> Result<Keyring, KeyringError> {
        let mut keys: Vec<Key> = Vec::new();
        for v in values.into_iter().map(str::trim).filter(|v| !v.is_empty()) {
            let key = Key::new(v.as_bytes());
            if looks_public(v) {
                return Err(KeyringError::NotASecret {
                    source_name: source_name.to_owned(),
                    id: key.id.to_string(),
                });
            }
            if v.len() < MIN_KEY_LEN {
                return Err(KeyringError::TooShort {
                    source_name: source_name.to_owned(),
                    id: key.id.to_string(),
                    len: v.len(),
                });
            }
            if keys.iter().any(|k| k.id == key.id) {
                return Err(KeyringError::Duplicate(key.id.to_string()));
            }
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(KeyringError::NoKey(source_name.to_owned()));
        }
        Ok(Keyring { keys })
    }

    /// `NAME` + `NAME_PREVIOUS` as rotor delivers them in the pair layout.
    pub fn from_pair(current: &str, previous: Option<&str>) -> Result<Keyring, KeyringError> {
        Keyring::from_values("the given values", std::iter::once(current).chain(previous))
    }

    /// One comma-separated list, newest first (rotor's `format = "list"`).
    pub fn from_list(source_name: &str, list: &str) -> Result<Keyring, KeyringError> {
        Keyring::from_values(source_name, list.split(','))
    }

    /// From a lookup function (the environment, a map): `NAME` may be a
    /// list, and `NAME_PREVIOUS`, when set, follows it.
    pub fn from_lookup(
        name: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Keyring, KeyringError> {
        let current = Zeroizing::new(lookup(name).unwrap_or_default());
        let previous = Zeroizing::new(lookup(&format!("{name}_PREVIOUS")).unwrap_or_default());
        let values: Vec<&str> = current.split(',').chain(previous.split(',')).collect();
        Keyring::from_values(name, values)
    }

    /// From the process environment: `NAME` (or `NAME=NEW,OLD`) and
    /// `NAME_PREVIOUS`. A process's environment never changes from
    /// outside, so reloading from it after a rotation finds the old keys;
    /// to reload on SIGHUP, use [`Keyring::from_env_file`].
    pub fn from_env(name: &str) -> Result<Keyring, KeyringError> {
        Keyring::from_lookup(name, |k| std::env::var(k).ok())
    }

    /// From a dotenv file, read afresh on every call (what rotor's dotenv
    /// target writes): `NAME` (or `NAME=NEW,OLD`) and `NAME_PREVIOUS`. This
    /// is the loader for [`crate::Reloadable`]: after rotor delivers new
    /// values and sends SIGHUP, a reload sees them. The file is parsed as
    /// dotenvy parses it (the syntax rotor writes); when a variable appears
    /// twice the last line wins. The process environment is not changed.
    pub fn from_env_file(
        path: impl AsRef<std::path::Path>,
        name: &str,
    ) -> Result<Keyring, KeyringError> {
        let path = path.as_ref();
        let bad = |e: dotenvy::Error| KeyringError::EnvFile {
            path: path.display().to_string(),
            reason: env_file_reason(&e),
        };
        let previous_name = format!("{name}_PREVIOUS");
        let mut current = Zeroizing::new(String::new());
        let mut previous = Zeroizing::new(String::new());
        for item in dotenvy::from_path_iter(path).map_err(bad)? {
            let (key, value) = item.map_err(bad)?;
            let value = Zeroizing::new(value);
            if key == name {
                current = value;
            } else if key == previous_name {
                previous = value;
            }
        }
        let source = format!("{name} in {}", path.display());
        let values: Vec<&str> = current.split(',').chain(previous.split(',')).collect();
        Keyring::from_values(&source, values)
    }

    /// The current key.
    pub fn current(&self) -> &Key {
        // `from_values` never builds an empty ring.
        &self.keys[0]
    }

    /// The key with this id, if it is on the ring.
    pub fn get(&self, id: &KeyId) -> Option<&Key> {
        self.keys.iter().find(|k| &k.id == id)
    }

    /// Every key, newest first.
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.keys.iter()
    }

    /// How many keys are live.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always false: a ring has at least its current key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_rotor_fingerprints() {
        // sha256("abc") = ba7816bf8f01cfea…
        assert_eq!(KeyId::of(b"abc").as_str(), "ba7816bf8f01cfea");
    }

    #[test]
    fn pair_list_and_lookup_agree() {
        let a = "new-key-0123456789abcdef";
        let b = "old-key-0123456789abcdef";
        let pair = Keyring::from_pair(a, Some(b)).expect("pair");
        let list = Keyring::from_list("K", &format!("{a},{b}")).expect("list");
        let env = Keyring::from_lookup("K", |k| match k {
            "K" => Some(a.to_owned()),
            "K_PREVIOUS" => Some(b.to_owned()),
            _ => None,
        })
        .expect("lookup");
        for ring in [&pair, &list, &env] {
            assert_eq!(ring.len(), 2);
            assert_eq!(ring.current().id(), &KeyId::of(a.as_bytes()));
            assert!(ring.get(&KeyId::of(b.as_bytes())).is_some());
        }
        // an emptied previous (after rotor retires it) leaves one key
        let one = Keyring::from_lookup("K", |k| (k == "K").then(|| a.to_owned())).expect("one");
        assert_eq!(one.len(), 1);
    }

    #[test]
    fn bad_rings_are_refused() {
        assert!(matches!(
            Keyring::from_list("K", " , "),
            Err(KeyringError::NoKey(_))
        ));
        assert!(matches!(
            Keyring::from_pair("short", None),
            Err(KeyringError::TooShort { .. })
        ));
        let k = "same-key-0123456789abcdef";
        assert!(matches!(
            Keyring::from_pair(k, Some(k)),
            Err(KeyringError::Duplicate(_))
        ));
    }

    #[test]
    fn from_env_file_reads_the_file_afresh_so_a_reload_sees_the_rotation() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(".env");
        let old = "old-signing-key-0123456789abcdef";
        let new = "new-signing-key-0123456789abcdef";
        std::fs::write(&path, format!("# app\nOTHER=x\nK={old}\n")).expect("write");
        let keys = crate::Reloadable::new({
            let path = path.clone();
            move || Keyring::from_env_file(&path, "K")
        })
        .expect("first load");
        assert_eq!(keys.get().len(), 1);
        // What rotor's dotenv target writes during an overlap; the process
        // environment is not involved at all.
        std::fs::write(
            &path,
            format!("# app\nOTHER=x\nK='{new}'\nK_PREVIOUS={old}\n"),
        )
        .expect("write");
        assert!(std::env::var("K").is_err());
        keys.reload().expect("reload");
        let ring = keys.get();
        assert_eq!(ring.len(), 2);
        assert_eq!(ring.current().id(), &KeyId::of(new.as_bytes()));
        assert!(ring.get(&KeyId::of(old.as_bytes())).is_some());
        // The list layout, and the last line of a repeated variable wins.
        std::fs::write(&path, format!("K=x\nK={new},{old}\n")).expect("write");
        assert_eq!(Keyring::from_env_file(&path, "K").expect("list").len(), 2);
    }

    #[test]
    fn from_env_file_errors_name_the_file_never_a_value() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(".env");
        let missing = Keyring::from_env_file(&path, "K").expect_err("missing file");
        assert!(
            matches!(&missing, KeyringError::EnvFile { path: p, .. } if p.ends_with(".env")),
            "{missing}"
        );
        let secret = "unterminated-secret-0123456789abcdef";
        std::fs::write(&path, format!("K='{secret}\n")).expect("write");
        let bad = Keyring::from_env_file(&path, "K").expect_err("bad line");
        let shown = format!("{bad} {bad:?}");
        assert!(shown.contains(".env") && !shown.contains(secret), "{shown}");
        std::fs::write(&path, "OTHER=1\n").expect("write");
        let none = Keyring::from_env_file(&path, "K").expect_err("no K");
        assert!(
            matches!(&none, KeyringError::NoKey(s) if s.contains(".env")),
            "{none}"
        );
        // A failed reload keeps the keys in use.
        std::fs::write(&path, "K=a-good-key-0123456789abcdef\n").expect("write");
        let keys = crate::Reloadable::new({
            let path = path.clone();
            move || Keyring::from_env_file(&path, "K")
        })
        .expect("load");
        std::fs::write(&path, format!("K='{secret}\n")).expect("write");
        assert!(keys.reload().is_err());
        assert_eq!(keys.get().len(), 1);
    }

    #[test]
    fn debug_shows_ids_only() {
        let ring = Keyring::from_pair("secret-value-0123456789", None).expect("ring");
        let shown = format!("{ring:?}");
        assert!(!shown.contains("secret-value"), "{shown}");
    }
}
