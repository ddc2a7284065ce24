//! Picking up a rotation without a restart: a [`Reloadable`] holds the
//! current keyring (or anything built from one, such as a [`crate::Jwt`])
//! and swaps in a freshly loaded one on [`Reloadable::reload`], which an
//! application calls on SIGHUP (rotor's restart hook can be `kill -HUP`) or
//! on a timer. A failed reload keeps the keys in use.
//!
//! ```
//! use rotor_keyring::{Keyring, Reloadable};
//!
//! let keys = Reloadable::new(|| Keyring::from_pair("current-key-0123456789abcdef", None))?;
//! let ring = keys.get();            // cheap: an Arc clone
//! assert_eq!(ring.len(), 1);
//! keys.reload()?;                   // after rotor delivered new values
//! # Ok::<(), rotor_keyring::KeyringError>(())
//! ```

use std::sync::{Arc, RwLock};

use crate::KeyringError;

type Loader<T> = Box<dyn Fn() -> Result<T, KeyringError> + Send + Sync>;

/// A value rebuilt from its source on demand, shared between threads.
pub struct Reloadable<T> {
    load: Loader<T>,
    current: RwLock<Arc<T>>,
}

impl<T> Reloadable<T> {
    /// Loads once now; `load` is kept for later reloads.
    pub fn new(
        load: impl Fn() -> Result<T, KeyringError> + Send + Sync + 'static,
    ) -> Result<Reloadable<T>, KeyringError> {
        let first = load()?;
        Ok(Reloadable {
            load: Box::new(load),
            current: RwLock::new(Arc::new(first)),
        })
    }

    /// The value in use.
    pub fn get(&self) -> Arc<T> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Loads again and swaps the result in. On error nothing changes and
    /// the error says why.
    pub fn reload(&self) -> Result<(), KeyringError> {
        let fresh = Arc::new((self.load)()?);
        match self.current.write() {
            Ok(mut guard) => *guard = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(())
    }
}

impl<T> std::fmt::Debug for Reloadable<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloadable").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Keyring;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn reload_swaps_and_a_failed_reload_keeps_the_old_keys() {
        let n = Arc::new(AtomicUsize::new(0));
        let counter = n.clone();
        let keys = Reloadable::new(move || match counter.fetch_add(1, Ordering::SeqCst) {
            0 => Keyring::from_pair("first-key-0123456789abcdef", None),
            1 => Keyring::from_pair(
                "second-key-0123456789abcdef",
                Some("first-key-0123456789abcdef"),
            ),
            _ => Keyring::from_pair("", None),
        })
        .expect("first load");
        let first = keys.get().current().id().clone();
        keys.reload().expect("second load");
        assert_eq!(keys.get().len(), 2);
        assert_ne!(keys.get().current().id(), &first);
        assert!(keys.reload().is_err(), "an empty value is refused");
        assert_eq!(
            keys.get().len(),
            2,
            "the failed reload kept the keys in use"
        );
    }
}
