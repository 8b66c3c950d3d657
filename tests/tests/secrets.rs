//! Secrets (RELIABILITY rules 33 and 34; issue 5, item 7): PINs, secret key values and
//! decrypted data never remain in memory the process gives back, on success, error and
//! retry paths; `Debug`, `Display` and the crate's own log lines never show them.
//!
//! # How freed memory is checked
//!
//! This binary's global allocator ([`Scanner`]) wraps the system allocator. Every block
//! it hands out is zeroed first (so every byte it later reads was written by someone),
//! and every block given back — by `dealloc`, and by `realloc`, which here always moves
//! the block — is scanned for the sentinels below before it is released. A hit is
//! counted in an atomic counter (with the size of the first block that held one); the
//! allocator never allocates. The scenarios run against SoftHSMv2 with secrets that are
//! sentinels, drop everything, and assert that the counter did not move. A positive
//! control shows the scanner does see an unwiped copy, so the checks can fail.
//!
//! What is covered: every heap block the Rust code of this process frees (the pkcs11
//! crates, std, the test itself). Not covered: the module's own memory (SoftHSM
//! allocates with `malloc` directly, and wipes its secure memory itself), stack copies,
//! and blocks never freed.
//!
//! The tests share one SoftHSM token and take turns (SoftHSM is one instance per
//! process); each test counts the hits during its own turn.

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

use pkcs11::{
    ffi, Attribute, AttributeResult, AttributeType, Error, KeyType, Mechanism, ObjectClass,
    ObjectHandle, Pin, Pkcs11, Rv, SecretBytes, Session, UserType,
};
use pkcs11_tests::{shared_softhsm_token, softhsm_module, take_turn, SoftHsmToken};

// ---------------------------------------------------------------------------------------
// The sentinels: distinctive byte strings that appear nowhere else.

/// The user PIN the token gets (16 bytes).
const USER_PIN: &str = "PIN.SENTINEL.7f3";
/// The PIN `set_pin` changes it to and back from (16 bytes).
const NEW_PIN: &str = "PIN.SENTINEL.n42";
/// A wrong PIN: a user's typo of their PIN is as secret as the PIN.
const WRONG_PIN: &str = "PIN.SENTINEL.bad";
/// The value of the secret key (an AES-256 key, 32 bytes).
const KEY_VALUE: &[u8; 32] = b"KEY.SENTINEL.aes256.value.0x5eed";
/// The plaintext that is encrypted, then decrypted (two AES blocks, 32 bytes).
const PLAINTEXT: &[u8; 32] = b"TXT.SENTINEL.plaintext.block.end";

/// Every sentinel, with its name.
const SENTINELS: &[(&str, &[u8])] = &[
    ("USER_PIN", USER_PIN.as_bytes()),
    ("NEW_PIN", NEW_PIN.as_bytes()),
    ("WRONG_PIN", WRONG_PIN.as_bytes()),
    ("KEY_VALUE", KEY_VALUE),
    ("PLAINTEXT", PLAINTEXT),
];

/// The scanner looks for every 8-byte piece of every sentinel (at offsets 0, 8, 16, 24),
/// so a partial copy (a truncated buffer, a secret split over two blocks) is seen too.
const PIECE: usize = 8;
/// The pieces, as native-endian words: (word, index into [`SENTINELS`]).
const PIECES: [(u64, usize); 14] = pieces();

const fn word(bytes: &[u8], at: usize) -> u64 {
    let mut piece = [0u8; PIECE];
    let mut i = 0;
    while i < PIECE {
        piece[i] = bytes[at + i];
        i += 1;
    }
    u64::from_ne_bytes(piece)
}

const fn pieces() -> [(u64, usize); 14] {
    let mut out = [(0u64, 0usize); 14];
    let mut n = 0;
    let mut s = 0;
    while s < SENTINELS.len() {
        let bytes = SENTINELS[s].1;
        let mut at = 0;
        while at + PIECE <= bytes.len() {
            out[n] = (word(bytes, at), s);
            n += 1;
            at += PIECE;
        }
        s += 1;
    }
    assert!(
        n == 14,
        "PIECES has one entry per 8-byte piece of the sentinels"
    );
    out
}

// ---------------------------------------------------------------------------------------
// The scanning allocator.

/// Blocks freed that held a piece of a sentinel.
static HITS: AtomicUsize = AtomicUsize::new(0);
/// The size of the first such block since the count began (see [`hits_during`]).
static FIRST_HIT_SIZE: AtomicUsize = AtomicUsize::new(0);
/// Which sentinel the first hit held (an index into [`SENTINELS`], plus one; 0: none).
static FIRST_HIT_WHICH: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, zeroing what it hands out and scanning what it gets back.
struct Scanner;

impl Scanner {
    /// Counts a hit if the `size` bytes at `ptr` hold a piece of a sentinel.
    ///
    /// # Safety
    /// `ptr` is valid for reads of `size` bytes (a live block; every block is zeroed
    /// when it is handed out).
    unsafe fn scan(ptr: *const u8, size: usize) {
        if size < PIECE {
            return;
        }
        for at in 0..=size - PIECE {
            let window = ptr.wrapping_add(at).cast::<[u8; PIECE]>();
            // SAFETY: `at + 8 <= size`: inside the block; `[u8; 8]` needs no alignment.
            // The block was zeroed when it was handed out, but a typed write may leave
            // struct padding uninitialized: the read is volatile (an opaque load the
            // compiler cannot reason about) and the value is only compared.
            let value = u64::from_ne_bytes(unsafe { window.read_volatile() });
            if let Some(&(_, which)) = PIECES.iter().find(|(piece, _)| *piece == value) {
                HITS.fetch_add(1, Ordering::SeqCst);
                let first = FIRST_HIT_WHICH.compare_exchange(
                    0,
                    which + 1,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                );
                if first.is_ok() {
                    FIRST_HIT_SIZE.store(size, Ordering::SeqCst);
                }
                return;
            }
        }
    }
}

// SAFETY: every method forwards to `System` with the caller's layout; blocks are zeroed
// when allocated and only read (never written) before they are released; `realloc`
// allocates the new block, copies `min(old, new)` bytes and releases the old block, as
// the `GlobalAlloc` contract allows.
unsafe impl GlobalAlloc for Scanner {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's (non-zero-sized) layout.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` is a live block of `layout.size()` initialized bytes.
        unsafe {
            Self::scan(ptr, layout.size());
            System.dealloc(ptr, layout);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Always move, so that the old block is scanned like any freed block: growing a
        // buffer that holds a secret without wiping it first is a finding whether or not
        // the system allocator would have grown it in place.
        // SAFETY: the caller guarantees `new_size` with `layout.align()` is a valid layout.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: a non-zero-sized layout (the caller's contract).
        let new = unsafe { System.alloc_zeroed(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are live and distinct, each at least `min` bytes long;
            // the old one is then scanned and released as in `dealloc`.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                Self::scan(ptr, layout.size());
                System.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Scanner = Scanner;

/// The hits counted while `scenario` runs (the caller holds the turn, so no other test
/// of this binary runs meanwhile).
fn hits_during(scenario: impl FnOnce()) -> usize {
    FIRST_HIT_WHICH.store(0, Ordering::SeqCst);
    FIRST_HIT_SIZE.store(0, Ordering::SeqCst);
    let before = HITS.load(Ordering::SeqCst);
    scenario();
    HITS.load(Ordering::SeqCst) - before
}

/// Runs `scenario` and fails if any freed block held a piece of a sentinel.
fn assert_no_secret_freed(what: &str, scenario: impl FnOnce()) {
    let hits = hits_during(scenario);
    let which = FIRST_HIT_WHICH.load(Ordering::SeqCst);
    assert_eq!(
        hits,
        0,
        "{what}: {hits} freed blocks still held secret bytes (the first: {} in a {}-byte \
         block)",
        which
            .checked_sub(1)
            .and_then(|i| SENTINELS.get(i))
            .map_or("?", |(name, _)| name),
        FIRST_HIT_SIZE.load(Ordering::SeqCst)
    );
}

// ---------------------------------------------------------------------------------------
// Helpers.

/// A test-side buffer that is wiped before it is freed (the caller's share of rule 34:
/// the library cannot wipe a buffer it was lent).
struct Wiped(Vec<u8>);

impl Wiped {
    fn zeroed(len: usize) -> Wiped {
        Wiped(vec![0; len])
    }
}

impl Drop for Wiped {
    fn drop(&mut self) {
        for byte in self.0.iter_mut() {
            // SAFETY: `byte` is a valid, aligned `&mut u8`.
            unsafe { std::ptr::write_volatile(byte, 0) };
        }
        std::sync::atomic::compiler_fence(Ordering::SeqCst);
    }
}

/// The sentinel that `text` shows, in any of the forms `Debug` could give it: the text
/// itself, a `[u8]` list (`[80, 73, ...]`) or lowercase hex.
fn shown_secret(text: &str) -> Option<&'static str> {
    SENTINELS.iter().find_map(|&(name, bytes)| {
        let raw = std::str::from_utf8(&bytes[..PIECE]).unwrap_or_default();
        let list = format!("{:?}", &bytes[..PIECE]);
        let list = list.trim_end_matches(']');
        let hex: String = bytes[..PIECE].iter().map(|b| format!("{b:02x}")).collect();
        (text.contains(raw) || text.contains(list) || text.contains(&hex)).then_some(name)
    })
}

/// Fails if `Debug` or `Display` of `value` shows a sentinel.
fn assert_not_shown(
    what: &str,
    debug: &dyn std::fmt::Debug,
    display: Option<&dyn std::fmt::Display>,
) {
    let texts = [
        format!("{debug:?}"),
        format!("{debug:#?}"),
        display.map(|d| d.to_string()).unwrap_or_default(),
    ];
    for text in texts {
        if let Some(name) = shown_secret(&text) {
            panic!("{what} shows {name}");
        }
    }
}

fn assert_error_hides_secrets(what: &str, error: &Error) {
    assert_not_shown(what, error, Some(error));
}

/// The token of this binary, its user PIN set to [`USER_PIN`].
fn token() -> &'static SoftHsmToken {
    static SENTINEL_PIN: Once = Once::new();
    let token = shared_softhsm_token("secrets");
    SENTINEL_PIN.call_once(|| {
        let p11 = Pkcs11::open(softhsm_module()).expect("open SoftHSM");
        let session = p11
            .token_by_label(token.label())
            .expect("the token")
            .open_rw_session()
            .expect("a session");
        session
            .set_pin(&Pin::from(token.user_pin), &Pin::from(USER_PIN))
            .expect("set the sentinel PIN");
    });
    token
}

/// A read-write session on this binary's token.
fn open_session() -> Session {
    let token = token();
    let p11 = Pkcs11::open(softhsm_module()).expect("open SoftHSM");
    p11.token_by_label(token.label())
        .expect("the token")
        .open_rw_session()
        .expect("a session")
}

/// A session object: an AES-256 key whose value is [`KEY_VALUE`], readable unless
/// `sensitive`.
fn create_key(session: &Session, sensitive: bool) -> ObjectHandle {
    let template = [
        Attribute::Class(ObjectClass::SecretKey),
        Attribute::KeyType(KeyType::Aes),
        Attribute::Token(false),
        Attribute::Sensitive(sensitive),
        Attribute::Extractable(true),
        Attribute::Encrypt(true),
        Attribute::Decrypt(true),
        Attribute::Value(SecretBytes::new(KEY_VALUE.to_vec())),
    ];
    session.create_object(&template).expect("create the key")
}

const IV: [u8; 16] = *b"iv-iv-iv-iv-iv-!";

fn cbc() -> Mechanism<'static> {
    Mechanism::AesCbcPad { iv: IV }
}

/// The length a "buffer too small" error asks for.
fn needed(error: &Error) -> usize {
    let text = error.to_string();
    text.split(": ")
        .last()
        .and_then(|tail| tail.split(" bytes needed").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a `too small` error: {text}"))
}

// ---------------------------------------------------------------------------------------
// The scenarios.

#[test]
fn positive_control_the_scanner_sees_an_unwiped_secret_and_not_a_wiped_one() {
    let _turn = take_turn();
    // A plain Vec is freed without being wiped: the scanner must see it.
    let hits = hits_during(|| {
        let copy: Vec<u8> = PLAINTEXT.to_vec();
        std::hint::black_box(&copy);
        drop(copy);
    });
    assert!(
        hits >= 1,
        "the scanner missed an unwiped copy: the checks would pass vacuously"
    );

    // Half a PIN, at an odd offset: pieces are found anywhere.
    let hits = hits_during(|| {
        let mut copy = vec![b'x'; 3];
        copy.extend_from_slice(&USER_PIN.as_bytes()[..PIECE]);
        std::hint::black_box(&copy);
    });
    assert!(hits >= 1, "the scanner missed a partial copy");

    // A Vec grown while it holds a secret leaves the old block behind, even if it is
    // wiped afterwards: the scanner sees the old block.
    let hits = hits_during(|| {
        let mut copy = Wiped(Vec::with_capacity(KEY_VALUE.len()));
        copy.0.extend_from_slice(KEY_VALUE);
        copy.0.push(0); // grows: the old block, secret inside, is freed
        std::hint::black_box(&copy.0);
    });
    assert!(
        hits >= 1,
        "the scanner missed a secret left behind by a growing Vec"
    );

    // The same bytes in wiping containers leave nothing.
    assert_no_secret_freed("a wiped buffer", || {
        let secret = SecretBytes::new(PLAINTEXT.to_vec());
        std::hint::black_box(&secret);
        drop(secret);
        let pin = Pin::from(USER_PIN);
        std::hint::black_box(&pin);
        let mut buffer = Wiped::zeroed(PLAINTEXT.len());
        buffer.0.copy_from_slice(PLAINTEXT);
        std::hint::black_box(&buffer.0);
    });
}

#[test]
fn rule_33_login_success_and_wrong_pin_leave_no_pin_behind() {
    let _turn = take_turn();
    assert_no_secret_freed("login", || {
        let session = open_session();

        // Wrong PIN, from a String and from a &str: an error that does not show it.
        for wrong in [Pin::from(String::from(WRONG_PIN)), Pin::from(WRONG_PIN)] {
            let error = session.login(UserType::User, &wrong).unwrap_err();
            assert_eq!(error.rv(), Some(Rv::PinIncorrect), "{error}");
            assert_error_hides_secrets("the wrong-PIN error", &error);
            assert_not_shown("a wrong Pin", &wrong, None);
        }

        // The right PIN, from a String, a &str, bytes and a clone.
        let pins = [
            Pin::from(String::from(USER_PIN)),
            Pin::from(USER_PIN),
            Pin::from_bytes(USER_PIN.as_bytes()),
            Pin::from(USER_PIN).clone(),
        ];
        for pin in &pins {
            session.login(UserType::User, pin).expect("login");
            session
                .ensure_logged_in(UserType::User, pin)
                .expect("already logged in is fine");
            let again = session.login(UserType::User, pin).unwrap_err();
            assert_eq!(again.rv(), Some(Rv::UserAlreadyLoggedIn), "{again}");
            assert_error_hides_secrets("the already-logged-in error", &again);
            assert_not_shown("a Pin", pin, None);
            session.logout().expect("logout");
        }
        drop(pins);
        drop(session);
    });
}

#[test]
fn rule_33_set_pin_leaves_no_pin_behind() {
    let _turn = take_turn();
    assert_no_secret_freed("set_pin", || {
        let session = open_session();
        let (old, new, wrong) = (
            Pin::from(USER_PIN),
            Pin::from(NEW_PIN),
            Pin::from(WRONG_PIN),
        );

        let error = session.set_pin(&wrong, &new).unwrap_err();
        assert_eq!(error.rv(), Some(Rv::PinIncorrect), "{error}");
        assert_error_hides_secrets("the set_pin error", &error);

        session.set_pin(&old, &new).expect("change the PIN");
        session
            .login(UserType::User, &new)
            .expect("login with the new PIN");
        session.logout().expect("logout");
        session
            .set_pin(
                &Pin::from(String::from(NEW_PIN)),
                &Pin::from(String::from(USER_PIN)),
            )
            .expect("change it back");
        session
            .login(UserType::User, &old)
            .expect("login with the old PIN");
        session.logout().expect("logout");

        // The security officer sets the user PIN (to the same sentinel).
        session
            .login(UserType::So, &Pin::from(token().so_pin))
            .expect("SO login");
        session.init_pin(&old).expect("init_pin");
        session.logout().expect("logout");
    });
}

#[test]
fn rule_34_a_secret_key_value_read_back_leaves_no_copy() {
    let _turn = take_turn();
    assert_no_secret_freed("reading CKA_VALUE", || {
        let session = open_session();
        session
            .login(UserType::User, &Pin::from(USER_PIN))
            .expect("login");

        let key = create_key(&session, false);
        let results = session
            .get_attributes(
                key,
                &[
                    AttributeType::Label,
                    AttributeType::Value,
                    AttributeType::ValueLen,
                    AttributeType::Sensitive,
                ],
            )
            .expect("read the key");
        let value = results[1].value().and_then(Attribute::as_bytes);
        assert_eq!(value, Some(&KEY_VALUE[..]), "the value read back");
        assert_not_shown("the attributes read back", &results, None);
        drop(results);

        let value = session
            .get_attribute(key, AttributeType::Value)
            .expect("read CKA_VALUE alone");
        assert_eq!(value.as_bytes(), Some(&KEY_VALUE[..]));
        assert_not_shown("Attribute::Value", &value, None);
        let copy = value.clone();
        drop(value);
        drop(copy);

        // A sensitive key: the value is refused, and the error shows nothing.
        let hidden = create_key(&session, true);
        let results = session
            .get_attributes(hidden, &[AttributeType::Value])
            .expect("read the sensitive key");
        assert!(
            matches!(results[0], AttributeResult::Sensitive),
            "{results:?}"
        );
        let error = session
            .get_attribute(hidden, AttributeType::Value)
            .unwrap_err();
        assert_error_hides_secrets("the sensitive-attribute error", &error);

        session.destroy_object(key).expect("destroy");
        session.destroy_object(hidden).expect("destroy");
        session.logout().expect("logout");
    });
}

#[test]
fn rule_34_decrypted_data_leaves_no_copy_on_success_error_and_retry() {
    let _turn = take_turn();
    assert_no_secret_freed("decrypting", || {
        let session = open_session();
        session
            .login(UserType::User, &Pin::from(USER_PIN))
            .expect("login");
        let key = create_key(&session, false);
        let mechanism = cbc();
        let ciphertext = session
            .encrypt(&mechanism, key, PLAINTEXT)
            .expect("encrypt");
        assert_eq!(ciphertext.len(), 48, "two blocks and a block of padding");

        // Single-part: the module's length query gives 48, the result is 32.
        let plain = session
            .decrypt(&mechanism, key, &ciphertext)
            .expect("decrypt");
        assert_eq!(&*plain, PLAINTEXT);
        assert_not_shown("the plaintext", &plain, None);
        drop(plain);

        // Into a buffer that is too small, then one of the size asked for.
        let mut small = Wiped::zeroed(8);
        let error = session
            .decrypt_into(&mechanism, key, &ciphertext, &mut small.0)
            .unwrap_err();
        assert!(matches!(error, Error::InvalidInput { .. }), "{error}");
        assert_error_hides_secrets("the too-small error", &error);
        assert_eq!(small.0, [0; 8], "no partial plaintext in the small buffer");
        let mut exact = Wiped::zeroed(needed(&error));
        let len = session
            .decrypt_into(&mechanism, key, &ciphertext, &mut exact.0)
            .expect("decrypt into a large enough buffer");
        assert_eq!(&exact.0[..len], PLAINTEXT);
        drop((small, exact));

        // A stream: update, update, finish.
        let mut stream = session.decrypt_stream(&mechanism, key).expect("stream");
        let parts = [
            stream.update(&ciphertext[..16]).expect("update"),
            stream.update(&ciphertext[16..]).expect("update"),
            stream.finish().expect("finish"),
        ];
        let mut joined = Wiped(Vec::with_capacity(ciphertext.len()));
        for part in &parts {
            joined.0.extend_from_slice(part);
        }
        assert_eq!(joined.0, PLAINTEXT);
        drop((parts, joined));

        // A stream into the caller's buffers, with a retry after "too small".
        let mut stream = session.decrypt_stream(&mechanism, key).expect("stream");
        let mut out = Wiped::zeroed(48);
        let mut written = stream
            .update_into(&ciphertext, &mut out.0)
            .expect("update_into");
        let mut tiny = Wiped::zeroed(0);
        let error = stream
            .finish_into(&mut tiny.0)
            .expect_err("an empty buffer is too small for C_DecryptFinal");
        assert_error_hides_secrets("the too-small finish error", &error);
        written += stream
            .finish_into(&mut out.0[written..])
            .expect("finish_into");
        assert_eq!(&out.0[..written], PLAINTEXT);
        drop(stream);
        drop((out, tiny));

        // A stream dropped half-way: the operation is ended into a wiped scratch buffer.
        let mut stream = session.decrypt_stream(&mechanism, key).expect("stream");
        let part = stream.update(&ciphertext[..32]).expect("update");
        drop(part);
        drop(stream);

        // Errors: bad padding in the last block.
        let mut corrupt = ciphertext.clone();
        corrupt[47] ^= 0x5a;
        let error = session
            .decrypt(&mechanism, key, &corrupt)
            .expect_err("bad padding");
        assert_error_hides_secrets("the decrypt error", &error);
        let mut out = Wiped::zeroed(48);
        let error = session
            .decrypt_into(&mechanism, key, &corrupt, &mut out.0)
            .expect_err("bad padding");
        assert_error_hides_secrets("the decrypt_into error", &error);
        assert_eq!(out.0, [0; 48], "no partial plaintext after an error");
        drop(out);
        let mut stream = session.decrypt_stream(&mechanism, key).expect("stream");
        let part = stream.update(&corrupt).expect("update releases two blocks");
        drop(part);
        let error = stream.finish().expect_err("bad padding");
        assert_error_hides_secrets("the finish error", &error);

        session.destroy_object(key).expect("destroy");
        session.logout().expect("logout");
    });
}

#[test]
fn rule_33_34_debug_never_shows_a_secret() {
    let _turn = take_turn();
    let pin = Pin::from(USER_PIN);
    assert_eq!(format!("{pin:?}"), "Pin(<redacted>)");
    assert_not_shown("Pin", &pin, None);
    let secret = SecretBytes::new(KEY_VALUE.to_vec());
    assert_eq!(format!("{secret:?}"), "SecretBytes(<32 bytes redacted>)");
    let value = Attribute::Value(secret.clone());
    assert_not_shown("Attribute::Value", &value, None);
    assert_not_shown(
        "Attribute::Raw",
        &Attribute::raw(ffi::CKA_VALUE, PLAINTEXT.to_vec()),
        None,
    );
    assert_not_shown(
        "AttributeResult",
        &AttributeResult::Value(Attribute::PrivateExponent(secret)),
        None,
    );
    // Composite values: a template, an error list.
    let template = vec![value, Attribute::Label("label".into())];
    assert_not_shown("a template", &template, None);
    // The test's own checks must work: a plain byte list does show a sentinel.
    assert_eq!(
        shown_secret(&format!("{:?}", PLAINTEXT.to_vec())),
        Some("PLAINTEXT")
    );
}

/// Run by [`rule_33_34_destructor_logs_never_show_a_secret`] in a child process, with
/// stderr captured (`--nocapture`): secret operations, then destructors that fail and
/// log (`pkcs11: ...`).
#[test]
#[ignore = "the child process of rule_33_34_destructor_logs_never_show_a_secret"]
fn child_secret_operations_then_failing_destructors() {
    let token = SoftHsmToken::new("secrets-child");
    token.export();
    let p11 = Pkcs11::open(softhsm_module()).expect("open SoftHSM");
    let slot = p11.token_by_label(token.label()).expect("the token");
    let session = slot.open_rw_session().expect("a session");
    session
        .set_pin(&Pin::from(token.user_pin), &Pin::from(USER_PIN))
        .expect("set the sentinel PIN");
    let _ = session.login(UserType::User, &Pin::from(WRONG_PIN));
    session
        .login(UserType::User, &Pin::from(USER_PIN))
        .expect("login");
    let key = create_key(&session, false);
    let mechanism = cbc();
    let ciphertext = session
        .encrypt(&mechanism, key, PLAINTEXT)
        .expect("encrypt");
    drop(
        session
            .decrypt(&mechanism, key, &ciphertext)
            .expect("decrypt"),
    );
    drop(
        session
            .get_attribute(key, AttributeType::Value)
            .expect("value"),
    );

    // Pull the sessions from under the guards: every destructor below fails and logs.
    let find_session = slot.open_rw_session().expect("a session");
    let finder = find_session.find(&[]).expect("find");
    let other_session = slot.open_rw_session().expect("a session");
    let mut stream = session.decrypt_stream(&mechanism, key).expect("stream");
    drop(stream.update(&ciphertext[..16]).expect("update"));
    let close_all = p11
        .raw_module()
        .functions()
        .C_CloseAllSessions
        .expect("C_CloseAllSessions");
    // SAFETY: a plain call with a slot id; the sessions it closes are only used through
    // the safe crate afterwards, which sees the module's errors.
    let rv = unsafe { close_all(slot.id()) };
    assert_eq!(rv, ffi::CKR_OK);
    drop(stream);
    drop(finder);
    drop(find_session);
    drop(other_session);
    drop(session);
    drop(slot);
    drop(p11);
    assert_eq!(
        HITS.load(Ordering::SeqCst),
        0,
        "secret bytes freed in the child"
    );
}

#[test]
fn rule_33_34_destructor_logs_never_show_a_secret() {
    let _turn = take_turn();
    let output = Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "--ignored",
            "--exact",
            "child_secret_operations_then_failing_destructors",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("PKCS11_RS_QUIET")
        .env_remove("SOFTHSM2_CONF")
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the child failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stderr.matches("pkcs11: ").count() >= 2,
        "the child's destructors did not log: the check would pass vacuously\n{stderr}"
    );
    for (stream, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        if let Some(name) = shown_secret(text) {
            panic!("the child's {stream} shows {name}");
        }
    }
}
