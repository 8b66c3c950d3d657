//! Slots, and opening sessions on them.

use crate::context::Pkcs11;
use crate::error::{Error, Result};
use crate::raw::{self, Returned};
use crate::secret::Pin;
use crate::session::Session;

/// A slot of a module.
#[derive(Clone, Debug)]
pub struct Slot {
    p11: Pkcs11,
    id: ffi::CK_SLOT_ID,
}

/// Reads a list (slot IDs, mechanism types) with the output helper's two-call idiom:
/// bounded retries while the count changes, absurd counts refused before allocating.
pub(crate) fn read_list<T: Copy + Default>(
    query: impl FnMut(Option<&mut [T]>, &mut ffi::CK_ULONG) -> Result<Returned>,
) -> Result<Vec<T>> {
    crate::output::fetch(query)
}

impl Pkcs11 {
    fn slot_list(&self, token_present: bool) -> Result<Vec<Slot>> {
        let ids = read_list(|list, count| {
            raw::slot::get_slot_list(&self.inner, token_present, list, count)
        })?;
        Ok(ids
            .into_iter()
            .map(|id| Slot {
                p11: self.clone(),
                id,
            })
            .collect())
    }

    /// Every slot of the module.
    #[doc(alias = "C_GetSlotList")]
    pub fn slots(&self) -> Result<Vec<Slot>> {
        self.slot_list(false)
    }

    /// The slots that hold a token.
    #[doc(alias = "C_GetSlotList")]
    pub fn slots_with_token(&self) -> Result<Vec<Slot>> {
        self.slot_list(true)
    }

    /// The slot with this ID (not checked until used).
    pub fn slot(&self, id: ffi::CK_SLOT_ID) -> Slot {
        Slot {
            p11: self.clone(),
            id,
        }
    }
}

impl Slot {
    /// The slot ID.
    pub fn id(&self) -> ffi::CK_SLOT_ID {
        self.id
    }

    /// The module this slot belongs to.
    pub fn pkcs11(&self) -> &Pkcs11 {
        &self.p11
    }

    /// Opens a read-only session.
    #[doc(alias = "C_OpenSession")]
    pub fn open_ro_session(&self) -> Result<Session> {
        Session::open(&self.p11, self.id, 0)
    }

    /// Opens a read-write session.
    #[doc(alias = "C_OpenSession")]
    pub fn open_rw_session(&self) -> Result<Session> {
        Session::open(&self.p11, self.id, ffi::CKF_RW_SESSION)
    }

    /// Closes every session this application has on the slot (`C_CloseAllSessions`),
    /// including sessions opened by other components of the process through the same
    /// module, and ends the login state of the token for this application.
    ///
    /// [`Session`] values still alive afterwards hold closed handles: their next call
    /// fails with `CKR_SESSION_HANDLE_INVALID` (the session is then poisoned and makes no
    /// further calls) and dropping them logs that their handle was already closed.
    /// Prefer dropping sessions; this is for recovering a token from an unknown state.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_CloseAllSessions`, e.g. `CKR_SLOT_ID_INVALID`.
    #[doc(alias = "C_CloseAllSessions")]
    pub fn close_all_sessions(&self) -> Result<()> {
        raw::misc::close_all_sessions(&self.p11.inner, self.id)?.ok()
    }
}

/// Who logs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UserType {
    /// The security officer (`CKU_SO`).
    So,
    /// The normal user (`CKU_USER`).
    User,
    /// Re-authentication for one operation on an `CKA_ALWAYS_AUTHENTICATE` key
    /// (`CKU_CONTEXT_SPECIFIC`).
    ContextSpecific,
    /// A vendor-defined user type.
    Vendor(ffi::CK_USER_TYPE),
}

impl UserType {
    /// The raw `CKU_*` value.
    pub fn raw(self) -> ffi::CK_USER_TYPE {
        match self {
            UserType::So => ffi::CKU_SO,
            UserType::User => ffi::CKU_USER,
            UserType::ContextSpecific => ffi::CKU_CONTEXT_SPECIFIC,
            UserType::Vendor(raw) => raw,
        }
    }
}

impl Session {
    /// Logs `user` in with `pin`. Login state belongs to the token and application:
    /// every session of this process shares it. `CKR_USER_ALREADY_LOGGED_IN` is an
    /// error here so the caller can tell; see [`Session::ensure_logged_in`].
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_Login`, e.g. `CKR_PIN_INCORRECT`; the PIN never
    /// appears in it.
    #[doc(alias = "C_Login")]
    pub fn login(&self, user: UserType, pin: &Pin) -> Result<()> {
        let _lock = self.locked()?;
        self.track_ok(raw::session::login(
            self.inner(),
            self.handle(),
            user.raw(),
            Some(pin.bytes()),
        ))
    }

    /// Logs in unless `user` is already logged in (`CKR_USER_ALREADY_LOGGED_IN` is
    /// benign here).
    ///
    /// # Errors
    /// As [`Session::login`].
    #[doc(alias = "C_Login")]
    pub fn ensure_logged_in(&self, user: UserType, pin: &Pin) -> Result<()> {
        match self.login(user, pin) {
            Err(Error::Module {
                rv: crate::Rv::UserAlreadyLoggedIn,
                ..
            }) => Ok(()),
            other => other,
        }
    }

    /// Logs out (of every session of this process: login state is shared).
    #[doc(alias = "C_Logout")]
    pub fn logout(&self) -> Result<()> {
        let _lock = self.locked()?;
        self.track_ok(raw::session::logout(self.inner(), self.handle()))
    }
}

impl Pkcs11 {
    /// Blocks until a slot event (a token inserted or removed...) and returns its slot.
    ///
    /// The wait is not counted as a call in flight: [`Pkcs11::finalize`] (or the last
    /// handle's drop) does not wait for it; `C_Finalize` wakes it, and it then returns
    /// an error (typically `CKR_CRYPTOKI_NOT_INITIALIZED`). The module stays loaded
    /// while this handle is borrowed.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_WaitForSlotEvent`: `CKR_FUNCTION_NOT_SUPPORTED` from
    /// modules without slot events (SoftHSMv2 among them), `CKR_CRYPTOKI_NOT_INITIALIZED`
    /// when woken by finalization; [`Error::Finalized`] if the module was finalized
    /// before the call.
    #[doc(alias = "C_WaitForSlotEvent")]
    pub fn wait_for_slot_event(&self) -> Result<Slot> {
        let mut id: ffi::CK_SLOT_ID = 0;
        raw::slot::wait_for_slot_event(&self.inner, 0, &mut id)?.ok()?;
        Ok(self.slot(id))
    }

    /// The slot of a pending slot event, if there is one, without blocking
    /// (`CKF_DONT_BLOCK`; `CKR_NO_EVENT` is `Ok(None)`).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_WaitForSlotEvent`, e.g. `CKR_FUNCTION_NOT_SUPPORTED`.
    #[doc(alias = "C_WaitForSlotEvent")]
    pub fn try_slot_event(&self) -> Result<Option<Slot>> {
        let mut id: ffi::CK_SLOT_ID = 0;
        let returned = raw::slot::wait_for_slot_event(&self.inner, ffi::CKF_DONT_BLOCK, &mut id)?;
        match returned.rv {
            ffi::CKR_OK => Ok(Some(self.slot(id))),
            ffi::CKR_NO_EVENT => Ok(None),
            _ => Err(returned.error()),
        }
    }
}

impl Session {
    /// Logs `user` in by name (`C_LoginUser`, PKCS #11 3.0), for tokens with several
    /// users of one type. Login state is shared like [`Session::login`]'s.
    ///
    /// # Errors
    /// [`Error::NotSupported`] naming `C_LoginUser` when the module offers no 3.0
    /// interface (nothing is called); [`Error::Module`] naming `C_LoginUser`, e.g.
    /// `CKR_PIN_INCORRECT`; the PIN never appears in it.
    #[doc(alias = "C_LoginUser")]
    pub fn login_user(&self, user: UserType, pin: &Pin, username: &str) -> Result<()> {
        let _lock = self.locked()?;
        self.track_ok(raw::session::login_user(
            self.inner(),
            self.handle(),
            user.raw(),
            Some(pin.bytes()),
            username.as_bytes(),
        ))
    }

    /// Logs `user` in through the token's protected authentication path (a PIN pad or
    /// biometric reader: `C_Login` with a NULL PIN). Meaningful when the token has
    /// [`TokenFlags::protected_authentication_path`](crate::TokenFlags::protected_authentication_path).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_Login`, e.g. `CKR_ARGUMENTS_BAD` from tokens without
    /// a protected path, `CKR_FUNCTION_CANCELED` if the user cancelled.
    #[doc(alias = "C_Login")]
    pub fn login_protected(&self, user: UserType) -> Result<()> {
        let _lock = self.locked()?;
        self.track_ok(raw::session::login(
            self.inner(),
            self.handle(),
            user.raw(),
            None,
        ))
    }
}
