//! The harness of `cargo xtask bench`: the same operations written three ways — with the
//! safe `pkcs11` crate, with direct calls through the `pkcs11-sys` function table (the
//! way a C program calls a module: [`raw`]), and with the `cryptoki` crate — on one
//! module per process ([`Target`]), plus the markdown report ([`report`]).
//!
//! All three bindings share one loaded, initialized module (the dynamic loader hands
//! the same library to each) and one login; each has its own sessions. The objects are
//! made once, through the safe crate, and read by all three.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cryptoki::mechanism::Mechanism as CkMechanism;
use cryptoki::object::{Attribute as CkAttribute, AttributeType as CkType};
use pkcs11::{
    Attribute, AttributeReader, AttributeResult, AttributeType, GcmParams, KeyType, Mechanism,
    MechanismType, ObjectClass, ObjectHandle, Pin, SecretBytes, Session, SessionPool, Slot,
    UserType,
};
use pkcs11_sys as ffi;

pub mod modules;
pub mod raw;
pub mod report;

/// The module a benchmark process runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// SoftHSMv2 from the distribution.
    SoftHsm,
    /// Kryoptic, as `cargo xtask kryoptic` builds it.
    Kryoptic,
    /// The fault module with plan `noop`: crypto calls answered without work.
    Noop,
}

impl Target {
    /// Every target, in report order.
    pub const ALL: [Target; 3] = [Target::SoftHsm, Target::Kryoptic, Target::Noop];

    /// The short name used on command lines and in file names.
    pub fn key(self) -> &'static str {
        match self {
            Target::SoftHsm => "softhsm",
            Target::Kryoptic => "kryoptic",
            Target::Noop => "noop",
        }
    }

    /// A display name.
    pub fn name(self) -> &'static str {
        match self {
            Target::SoftHsm => "SoftHSMv2",
            Target::Kryoptic => "Kryoptic",
            Target::Noop => "fault module, plan noop",
        }
    }

    /// The target named `key`.
    pub fn from_key(key: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.key() == key)
    }

    /// The target of this process: `$PKCS11_BENCH_MODULE` (default: noop).
    ///
    /// # Panics
    /// On an unknown name.
    pub fn from_env() -> Target {
        match std::env::var("PKCS11_BENCH_MODULE") {
            Ok(key) => Target::from_key(&key).unwrap_or_else(|| {
                panic!("PKCS11_BENCH_MODULE={key}: expected softhsm, kryoptic or noop")
            }),
            Err(_) => Target::Noop,
        }
    }
}

/// The benchmarked operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `C_GenerateRandom`, 32 bytes.
    Random32,
    /// SHA-256 of 64 bytes (`C_DigestInit` + `C_Digest`).
    Sha256,
    /// AES-256-GCM encryption of 1 KiB (`C_EncryptInit` + `C_Encrypt`).
    AesGcm,
    /// ECDSA P-256 signature of a 32-byte hash (`C_SignInit` + `C_Sign`).
    Ecdsa,
    /// HMAC-SHA-256 of 64 bytes (`C_SignInit` + `C_Sign`).
    Hmac,
    /// Search by label among 1,000 objects.
    Find1k,
    /// Search by label among 10,000 objects.
    Find10k,
    /// `CKA_CLASS`, `CKA_LABEL`, `CKA_ID` of one object.
    Read3,
    /// Every public attribute of 1,000 data objects.
    ReadAll1k,
    /// `C_OpenSession` + `C_CloseSession`.
    OpenClose,
    /// Two threads, each digesting on its own session.
    Threads2Own,
    /// Two threads digesting on one shared session.
    Threads2Shared,
}

impl Op {
    /// Every operation, in report order.
    pub const ALL: [Op; 12] = [
        Op::Random32,
        Op::Sha256,
        Op::AesGcm,
        Op::Ecdsa,
        Op::Hmac,
        Op::Find1k,
        Op::Find10k,
        Op::Read3,
        Op::ReadAll1k,
        Op::OpenClose,
        Op::Threads2Own,
        Op::Threads2Shared,
    ];

    /// The criterion group name (file-name safe).
    pub fn key(self) -> &'static str {
        match self {
            Op::Random32 => "random_32",
            Op::Sha256 => "sha256_64",
            Op::AesGcm => "aes256_gcm_encrypt_1k",
            Op::Ecdsa => "ecdsa_p256_sign",
            Op::Hmac => "hmac_sha256_64",
            Op::Find1k => "find_label_in_1000",
            Op::Find10k => "find_label_in_10000",
            Op::Read3 => "read_class_label_id",
            Op::ReadAll1k => "read_public_attrs_1000_objects",
            Op::OpenClose => "open_close_session",
            Op::Threads2Own => "threads2_own_sessions_sha256",
            Op::Threads2Shared => "threads2_shared_session_sha256",
        }
    }

    /// The row title in the report.
    pub fn title(self) -> &'static str {
        match self {
            Op::Random32 => "random 32 B",
            Op::Sha256 => "SHA-256 of 64 B (init + single part)",
            Op::AesGcm => "AES-256-GCM encrypt 1 KiB",
            Op::Ecdsa => "ECDSA P-256 sign",
            Op::Hmac => "HMAC-SHA-256 of 64 B",
            Op::Find1k => "find by label among 1,000 objects",
            Op::Find10k => "find by label among 10,000 objects",
            Op::Read3 => "read CLASS + LABEL + ID of one object",
            Op::ReadAll1k => "read all public attributes of 1,000 objects",
            Op::OpenClose => "open + close session",
            Op::Threads2Own => "2 threads, own sessions (SHA-256 64 B each)",
            Op::Threads2Shared => "2 threads, one shared session (SHA-256 64 B each)",
        }
    }

    /// Whether the operation has an allocating safe variant measured as well (the
    /// attribute reads: `get_attributes`, against the reused [`AttributeReader`]).
    pub fn has_vec_variant(self) -> bool {
        matches!(
            self,
            Op::Sha256 | Op::AesGcm | Op::Ecdsa | Op::Hmac | Op::Read3 | Op::ReadAll1k
        )
    }

    /// Whether one iteration is slow (milliseconds): measured with fewer samples.
    pub fn is_slow(self) -> bool {
        matches!(self, Op::Find10k | Op::ReadAll1k)
    }
}

/// The ways an operation is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Api {
    /// The safe crate, output into the caller's buffer where it has such a form.
    Safe,
    /// The safe crate, the form that returns a fresh `Vec` (like cryptoki's).
    SafeVec,
    /// Direct calls through the `pkcs11-sys` table ([`raw`]).
    Raw,
    /// The `cryptoki` crate.
    Cryptoki,
}

impl Api {
    /// The criterion function name.
    pub fn key(self) -> &'static str {
        match self {
            Api::Safe => "safe",
            Api::SafeVec => "safe_vec",
            Api::Raw => "raw",
            Api::Cryptoki => "cryptoki",
        }
    }
}

/// How the pool benchmark shares sessions between threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sharing {
    /// A [`SessionPool`] of as many sessions as threads; each operation borrows one.
    Pool,
    /// One [`Session`] for every thread.
    Shared,
    /// One session per thread, opened beforehand.
    PerThread,
}

impl Sharing {
    /// Every way, in report order.
    pub const ALL: [Sharing; 3] = [Sharing::Pool, Sharing::Shared, Sharing::PerThread];

    /// The criterion function name.
    pub fn key(self) -> &'static str {
        match self {
            Sharing::Pool => "pool",
            Sharing::Shared => "one_shared_session",
            Sharing::PerThread => "per_thread_sessions",
        }
    }
}

/// The thread counts of the pool benchmark.
pub const POOL_THREADS: [usize; 4] = [1, 2, 4, 8];

/// The attributes read from each data object (all of them public).
pub const DATA_ATTRIBUTES: [AttributeType; 7] = [
    AttributeType::Class,
    AttributeType::Token,
    AttributeType::Private,
    AttributeType::Modifiable,
    AttributeType::Label,
    AttributeType::Application,
    AttributeType::Value,
];

/// The attributes of the CLASS + LABEL + ID benchmark.
pub const READ3_ATTRIBUTES: [AttributeType; 3] = [
    AttributeType::Class,
    AttributeType::Label,
    AttributeType::Id,
];

const CK_DATA_ATTRIBUTES: [CkType; 7] = [
    CkType::Class,
    CkType::Token,
    CkType::Private,
    CkType::Modifiable,
    CkType::Label,
    CkType::Application,
    CkType::Value,
];

/// The input of the digest and HMAC benchmarks.
pub static DATA_64: [u8; 64] = [0x5a; 64];
/// The input of the AES-GCM benchmark.
pub static DATA_1K: [u8; 1024] = [0xa5; 1024];
/// The "hash" the ECDSA benchmark signs.
pub static HASH_32: [u8; 32] = [0x3c; 32];
/// The GCM IV (benchmarks only: a real application never reuses one).
pub static GCM_IV: [u8; 12] = [7; 12];

/// The label the searches look for (object 500 of the first 1,000).
pub const FIND_LABEL: &str = "bench-obj-0500";

/// DER of the P-256 curve OID (1.2.840.10045.3.1.7), for `CKA_EC_PARAMS`.
const P256_OID: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// A module, opened through the three bindings, with keys and objects to work on.
pub struct Env {
    /// The module.
    pub target: Target,
    /// Its library.
    pub path: PathBuf,
    /// The token's slot (safe crate).
    pub slot: Slot,
    /// Owns the session objects: open for the whole process.
    owner: Session,
    /// The safe crate's benchmark session.
    pub session: Session,
    /// The safe crate's sessions for the two-thread benchmark.
    pub thread_sessions: [Session; 2],
    /// Direct calls; its `session` is the raw benchmark session.
    pub raw: raw::Raw,
    raw_thread_sessions: [ffi::CK_SESSION_HANDLE; 2],
    raw_shared: Mutex<()>,
    /// cryptoki's context (not initialized by it: the safe crate did).
    pub ck: cryptoki::context::Pkcs11,
    ck_slot: cryptoki::slot::Slot,
    /// cryptoki's benchmark session (behind a mutex for the shared-session benchmark:
    /// a cryptoki `Session` is not `Sync`).
    ck_session: Mutex<cryptoki::session::Session>,
    ck_thread_sessions: [Mutex<cryptoki::session::Session>; 2],
    keys: Keys,
    /// The first 1,000 data objects.
    data: Vec<ffi::CK_OBJECT_HANDLE>,
    /// How many data objects exist.
    populated: usize,
    /// Whether objects are token objects (where session objects are not visible in the
    /// other bindings' sessions).
    token_objects: bool,
    mechanisms: Vec<MechanismType>,
    safe_gcm: Mechanism<'static>,
    ck_gcm: CkMechanism<'static>,
    find_template: Vec<Attribute>,
    ck_find_template: Vec<CkAttribute>,
    /// The safe crate's reader for CLASS + LABEL + ID: made once, reused by every
    /// iteration, with the direct calls' [`raw::VALUE_ROOM`] bytes for each value
    /// (behind a mutex only because the environment is shared by the threaded
    /// benchmarks: an application keeps its reader in its own state).
    read3: Mutex<AttributeReader>,
    /// The safe crate's reader for the public attributes of a data object.
    read_all: Mutex<AttributeReader>,
    _scratch: Option<modules::Scratch>,
}

/// The keys, as raw handles (valid in every session of the process).
#[derive(Clone, Copy, Debug, Default)]
struct Keys {
    aes: ffi::CK_OBJECT_HANDLE,
    hmac: ffi::CK_OBJECT_HANDLE,
    ec: ffi::CK_OBJECT_HANDLE,
}

/// Why a cell is not measured.
pub type Skip = String;

fn ck_handle(h: ffi::CK_OBJECT_HANDLE) -> cryptoki::object::ObjectHandle {
    // SAFETY: `h` is a handle of the same module and application, from the safe crate.
    unsafe { cryptoki::object::ObjectHandle::new_from_raw(h) }
}

impl Env {
    /// Opens `target` through the three bindings and makes the keys (no data objects
    /// yet: [`Env::populate`]).
    ///
    /// # Panics
    /// If a module is missing or setup fails (with what to do).
    pub fn new(target: Target) -> Env {
        let opened = match target {
            Target::SoftHsm => modules::softhsm(),
            Target::Kryoptic => modules::kryoptic(),
            Target::Noop => modules::noop(),
        };
        let modules::Opened {
            path,
            slot,
            pin,
            scratch,
        } = opened;
        let open = || {
            let session = slot.open_rw_session().expect("open a session");
            session
                .ensure_logged_in(UserType::User, &Pin::from(pin))
                .expect("user login");
            session
        };
        let owner = open();
        let session = open();
        let thread_sessions = [open(), open()];
        let mechanisms = slot.mechanisms().expect("mechanism list");

        let raw = raw::Raw::new(&path, slot.id());
        let raw_thread_sessions = [raw.open_session(), raw.open_session()];

        let ck = cryptoki::context::Pkcs11::new(&path).expect("cryptoki: load the module");
        // The safe crate initialized the module: cryptoki's C_Initialize answers
        // CKR_CRYPTOKI_ALREADY_INITIALIZED, which leaves cryptoki usable (and it will
        // not finalize the module when dropped).
        let _ = ck.initialize(cryptoki::context::CInitializeArgs::new(
            cryptoki::context::CInitializeFlags::OS_LOCKING_OK,
        ));
        let ck_slot = cryptoki::slot::Slot::try_from(slot.id()).expect("cryptoki slot");
        let ck_open = || {
            Mutex::new(
                ck.open_rw_session(ck_slot)
                    .expect("cryptoki: open a session"),
            )
        };
        let ck_session = ck_open();
        let ck_thread_sessions = [ck_open(), ck_open()];

        let iv: &'static mut [u8] = Box::leak(Box::new(GCM_IV));
        let ck_gcm = CkMechanism::AesGcm(
            cryptoki::mechanism::aead::GcmParams::new(iv, &[], 128.into()).expect("GCM params"),
        );
        let safe_gcm = Mechanism::AesGcm(GcmParams::new(&GCM_IV, &[], 128).expect("GCM params"));

        let mut env = Env {
            target,
            path,
            slot,
            owner,
            session,
            thread_sessions,
            raw,
            raw_thread_sessions,
            raw_shared: Mutex::new(()),
            ck,
            ck_slot,
            ck_session,
            ck_thread_sessions,
            keys: Keys::default(),
            data: Vec::new(),
            populated: 0,
            token_objects: false,
            mechanisms,
            safe_gcm,
            ck_gcm,
            find_template: vec![Attribute::Label(FIND_LABEL.into())],
            ck_find_template: vec![CkAttribute::Label(FIND_LABEL.as_bytes().to_vec())],
            read3: Mutex::new(
                AttributeReader::new(&READ3_ATTRIBUTES, raw::VALUE_ROOM).expect("a reader"),
            ),
            read_all: Mutex::new(
                AttributeReader::new(&DATA_ATTRIBUTES, raw::VALUE_ROOM).expect("a reader"),
            ),
            _scratch: scratch,
        };
        env.make_keys();
        env
    }

    fn has(&self, mechanism: ffi::CK_MECHANISM_TYPE) -> bool {
        self.mechanisms.contains(&MechanismType(mechanism))
    }

    /// Whether objects made in the owner session are visible from the raw session.
    fn visible_elsewhere(&self, object: ObjectHandle) -> bool {
        self.raw.find_by_label(self.raw.session, b"bench-probe").0 == 1
            && self
                .session
                .get_attribute(object, AttributeType::Class)
                .is_ok()
    }

    fn make_keys(&mut self) {
        // Session objects are cheaper to make and search; use them if the module lets
        // every session of the application see them (PKCS #11 says it does).
        let probe = self
            .owner
            .create_object(&[
                Attribute::Class(ObjectClass::Data),
                Attribute::Token(false),
                Attribute::Label("bench-probe".into()),
            ])
            .expect("create a probe data object");
        self.token_objects = !self.visible_elsewhere(probe);
        self.owner.destroy_object(probe).expect("destroy the probe");
        let token = self.token_objects;

        let aes = self
            .owner
            .generate_key(
                &Mechanism::AesKeyGen,
                &[
                    Attribute::Token(token),
                    Attribute::ValueLen(32),
                    Attribute::Encrypt(true),
                    Attribute::Decrypt(true),
                    Attribute::Label("bench-aes".into()),
                    Attribute::Id(vec![1, 2, 3, 4]),
                ],
            )
            .expect("generate the AES key");
        self.keys.aes = aes.raw();
        let hmac = self
            .owner
            .generate_key(
                &Mechanism::plain(ffi::CKM_GENERIC_SECRET_KEY_GEN),
                &[
                    Attribute::Token(token),
                    Attribute::KeyType(KeyType::GenericSecret),
                    Attribute::ValueLen(32),
                    Attribute::Sign(true),
                    Attribute::Verify(true),
                    Attribute::Label("bench-hmac".into()),
                ],
            )
            .expect("generate the HMAC key");
        self.keys.hmac = hmac.raw();
        self.keys.ec = if self.has(ffi::CKM_EC_KEY_PAIR_GEN) {
            let (_, private) = self
                .owner
                .generate_key_pair(
                    &Mechanism::EcKeyPairGen,
                    &[
                        Attribute::Token(token),
                        Attribute::Verify(true),
                        Attribute::EcParams(P256_OID.to_vec()),
                        Attribute::Label("bench-ec".into()),
                    ],
                    &[
                        Attribute::Token(token),
                        Attribute::Private(true),
                        Attribute::Sensitive(true),
                        Attribute::Sign(true),
                        Attribute::Label("bench-ec".into()),
                    ],
                )
                .expect("generate the P-256 key pair");
            private.raw()
        } else {
            // The noop module signs without looking at the key.
            self.keys.aes
        };
    }

    /// Whether objects are token objects (see [`Env::new`]).
    pub fn uses_token_objects(&self) -> bool {
        self.token_objects
    }

    /// Makes data objects until there are `n`: `bench-obj-NNNN` for the first 1,000,
    /// `bench-more-NNNNN` after. Each has a label, an application and a 16-byte value.
    ///
    /// # Panics
    /// If the module refuses to create one.
    pub fn populate(&mut self, n: usize) {
        let start = Instant::now();
        for i in self.populated..n {
            let label = if i < 1000 {
                format!("bench-obj-{i:04}")
            } else {
                format!("bench-more-{i:05}")
            };
            let object = self
                .owner
                .create_object(&[
                    Attribute::Class(ObjectClass::Data),
                    Attribute::Token(self.token_objects),
                    Attribute::Private(false),
                    Attribute::Modifiable(true),
                    Attribute::Label(label),
                    Attribute::Application("pkcs11-bench".into()),
                    Attribute::Value(SecretBytes::new(vec![i as u8; 16])),
                ])
                .unwrap_or_else(|e| panic!("create data object {i}: {e}"));
            if i < 1000 {
                self.data.push(object.raw());
            }
        }
        if n > self.populated {
            eprintln!(
                "bench: {} has {n} data objects ({} made in {:.1?})",
                self.target.name(),
                n - self.populated,
                start.elapsed()
            );
        }
        self.populated = self.populated.max(n);
    }

    /// Why `op` cannot run on this module, if it cannot.
    pub fn skip(&self, op: Op) -> Option<Skip> {
        if self.target == Target::Noop {
            return None; // the noop plan answers every crypto call
        }
        let needed: &[(ffi::CK_MECHANISM_TYPE, &str)] = match op {
            Op::AesGcm => &[(ffi::CKM_AES_GCM, "CKM_AES_GCM")],
            Op::Ecdsa => &[
                (ffi::CKM_ECDSA, "CKM_ECDSA"),
                (ffi::CKM_EC_KEY_PAIR_GEN, "CKM_EC_KEY_PAIR_GEN"),
            ],
            Op::Hmac => &[(ffi::CKM_SHA256_HMAC, "CKM_SHA256_HMAC")],
            Op::Sha256 | Op::Threads2Own | Op::Threads2Shared => &[(ffi::CKM_SHA256, "CKM_SHA256")],
            _ => &[],
        };
        needed
            .iter()
            .find(|(m, _)| !self.has(*m))
            .map(|(_, name)| format!("no {name}"))
    }

    /// Runs `op` once with `api` (single-threaded operations only).
    ///
    /// # Panics
    /// On any error, or for a threaded operation.
    #[inline]
    pub fn run(&self, op: Op, api: Api) {
        match (op, api) {
            (Op::Random32, Api::Safe | Api::SafeVec) => self.safe_random(),
            (Op::Random32, Api::Raw) => self.raw_random(),
            (Op::Random32, Api::Cryptoki) => self.ck_random(),
            (Op::Sha256, Api::Safe) => self.safe_digest(),
            (Op::Sha256, Api::SafeVec) => self.safe_vec_digest(),
            (Op::Sha256, Api::Raw) => self.raw_digest(),
            (Op::Sha256, Api::Cryptoki) => self.ck_digest(),
            (Op::AesGcm, Api::Safe) => self.safe_gcm(),
            (Op::AesGcm, Api::SafeVec) => self.safe_vec_gcm(),
            (Op::AesGcm, Api::Raw) => self.raw_gcm(),
            (Op::AesGcm, Api::Cryptoki) => self.ck_gcm(),
            (Op::Ecdsa, Api::Safe) => self.safe_ecdsa(),
            (Op::Ecdsa, Api::SafeVec) => self.safe_vec_ecdsa(),
            (Op::Ecdsa, Api::Raw) => self.raw_ecdsa(),
            (Op::Ecdsa, Api::Cryptoki) => self.ck_ecdsa(),
            (Op::Hmac, Api::Safe) => self.safe_hmac(),
            (Op::Hmac, Api::SafeVec) => self.safe_vec_hmac(),
            (Op::Hmac, Api::Raw) => self.raw_hmac(),
            (Op::Hmac, Api::Cryptoki) => self.ck_hmac(),
            (Op::Find1k | Op::Find10k, Api::Safe | Api::SafeVec) => self.safe_find(),
            (Op::Find1k | Op::Find10k, Api::Raw) => self.raw_find(),
            (Op::Find1k | Op::Find10k, Api::Cryptoki) => self.ck_find(),
            (Op::Read3, Api::Safe) => self.safe_read3(),
            (Op::Read3, Api::SafeVec) => self.safe_vec_read3(),
            (Op::Read3, Api::Raw) => self.raw_read3(),
            (Op::Read3, Api::Cryptoki) => self.ck_read3(),
            (Op::ReadAll1k, Api::Safe) => self.safe_read_all(),
            (Op::ReadAll1k, Api::SafeVec) => self.safe_vec_read_all(),
            (Op::ReadAll1k, Api::Raw) => self.raw_read_all(),
            (Op::ReadAll1k, Api::Cryptoki) => self.ck_read_all(),
            (Op::OpenClose, Api::Safe | Api::SafeVec) => self.safe_open_close(),
            (Op::OpenClose, Api::Raw) => self.raw_open_close(),
            (Op::OpenClose, Api::Cryptoki) => self.ck_open_close(),
            (Op::Threads2Own | Op::Threads2Shared, _) => {
                panic!("{op:?} runs through Env::threads")
            }
        }
    }

    // --- random -------------------------------------------------------------------

    /// Random 32 B, safe crate (into a stack buffer).
    #[inline]
    pub fn safe_random(&self) {
        let mut out = [0u8; 32];
        self.session.generate_random_into(&mut out).expect("random");
        black_box(&out);
    }

    /// Random 32 B, direct call.
    #[inline]
    pub fn raw_random(&self) {
        let mut out = [0u8; 32];
        self.raw.random(self.raw.session, &mut out);
        black_box(&out);
    }

    /// Random 32 B, cryptoki (into a stack buffer).
    #[inline]
    pub fn ck_random(&self) {
        let mut out = [0u8; 32];
        let session = self.ck_session.lock().unwrap_or_else(|e| e.into_inner());
        session.generate_random_slice(&mut out).expect("random");
        black_box(&out);
    }

    // --- digest -------------------------------------------------------------------

    /// SHA-256 of 64 B, safe crate (into a stack buffer).
    #[inline]
    pub fn safe_digest(&self) {
        safe_digest_on(&self.session);
    }

    /// SHA-256 of 64 B, safe crate (fresh `Vec`).
    #[inline]
    pub fn safe_vec_digest(&self) {
        black_box(
            self.session
                .digest(&Mechanism::Sha256, &DATA_64)
                .expect("digest"),
        );
    }

    /// SHA-256 of 64 B, direct calls.
    #[inline]
    pub fn raw_digest(&self) {
        raw_digest_on(&self.raw, self.raw.session);
    }

    /// SHA-256 of 64 B, cryptoki.
    #[inline]
    pub fn ck_digest(&self) {
        let session = self.ck_session.lock().unwrap_or_else(|e| e.into_inner());
        ck_digest_on(&session);
    }

    // --- AES-GCM ------------------------------------------------------------------

    /// AES-256-GCM of 1 KiB, safe crate (into a stack buffer).
    #[inline]
    pub fn safe_gcm(&self) {
        let mut out = [0u8; 1024 + 16];
        let key = ObjectHandle(self.keys.aes);
        let n = self
            .session
            .encrypt_into(&self.safe_gcm, key, &DATA_1K, &mut out)
            .expect("encrypt");
        black_box((&out, n));
    }

    /// AES-256-GCM of 1 KiB, safe crate (fresh `Vec`).
    #[inline]
    pub fn safe_vec_gcm(&self) {
        let key = ObjectHandle(self.keys.aes);
        black_box(
            self.session
                .encrypt(&self.safe_gcm, key, &DATA_1K)
                .expect("encrypt"),
        );
    }

    /// AES-256-GCM of 1 KiB, direct calls.
    #[inline]
    pub fn raw_gcm(&self) {
        let mut out = [0u8; 1024 + 16];
        let n = self
            .raw
            .encrypt_gcm(self.raw.session, self.keys.aes, &GCM_IV, &DATA_1K, &mut out);
        black_box((&out, n));
    }

    /// AES-256-GCM of 1 KiB, cryptoki.
    #[inline]
    pub fn ck_gcm(&self) {
        let session = self.ck_session.lock().unwrap_or_else(|e| e.into_inner());
        black_box(
            session
                .encrypt(&self.ck_gcm, ck_handle(self.keys.aes), &DATA_1K)
                .expect("encrypt"),
        );
    }

    // --- sign ---------------------------------------------------------------------

    /// ECDSA P-256, safe crate, into a stack buffer.
    #[inline]
    pub fn safe_ecdsa(&self) {
        self.safe_sign(&Mechanism::Ecdsa, self.keys.ec, &HASH_32);
    }

    /// ECDSA P-256, safe crate, into a fresh `Vec`.
    #[inline]
    pub fn safe_vec_ecdsa(&self) {
        self.safe_vec_sign(&Mechanism::Ecdsa, self.keys.ec, &HASH_32);
    }

    /// ECDSA P-256, direct calls.
    #[inline]
    pub fn raw_ecdsa(&self) {
        self.raw_sign(ffi::CKM_ECDSA, self.keys.ec, &HASH_32);
    }

    /// ECDSA P-256, cryptoki.
    #[inline]
    pub fn ck_ecdsa(&self) {
        self.ck_sign(&CkMechanism::Ecdsa, self.keys.ec, &HASH_32);
    }

    /// HMAC-SHA-256, safe crate, into a stack buffer.
    #[inline]
    pub fn safe_hmac(&self) {
        self.safe_sign(&Mechanism::Sha256Hmac, self.keys.hmac, &DATA_64);
    }

    /// HMAC-SHA-256, safe crate, into a fresh `Vec`.
    #[inline]
    pub fn safe_vec_hmac(&self) {
        self.safe_vec_sign(&Mechanism::Sha256Hmac, self.keys.hmac, &DATA_64);
    }

    /// HMAC-SHA-256, direct calls.
    #[inline]
    pub fn raw_hmac(&self) {
        self.raw_sign(ffi::CKM_SHA256_HMAC, self.keys.hmac, &DATA_64);
    }

    /// HMAC-SHA-256, cryptoki.
    #[inline]
    pub fn ck_hmac(&self) {
        self.ck_sign(&CkMechanism::Sha256Hmac, self.keys.hmac, &DATA_64);
    }

    fn safe_sign(&self, mechanism: &Mechanism<'_>, key: ffi::CK_OBJECT_HANDLE, data: &[u8]) {
        let mut out = [0u8; 72];
        let n = self
            .session
            .sign_into(mechanism, ObjectHandle(key), data, &mut out)
            .expect("sign");
        black_box((&out, n));
    }

    fn safe_vec_sign(&self, mechanism: &Mechanism<'_>, key: ffi::CK_OBJECT_HANDLE, data: &[u8]) {
        black_box(
            self.session
                .sign(mechanism, ObjectHandle(key), data)
                .expect("sign"),
        );
    }

    fn raw_sign(&self, mechanism: ffi::CK_MECHANISM_TYPE, key: ffi::CK_OBJECT_HANDLE, data: &[u8]) {
        let mut out = [0u8; 72];
        let n = self
            .raw
            .sign(self.raw.session, mechanism, key, data, &mut out);
        black_box((&out, n));
    }

    fn ck_sign(&self, mechanism: &CkMechanism<'_>, key: ffi::CK_OBJECT_HANDLE, data: &[u8]) {
        let session = self.ck_session.lock().unwrap_or_else(|e| e.into_inner());
        black_box(session.sign(mechanism, ck_handle(key), data).expect("sign"));
    }

    // --- find ---------------------------------------------------------------------

    /// Find by label, safe crate (`find_all`).
    #[inline]
    pub fn safe_find(&self) {
        let found = self.session.find_all(&self.find_template).expect("find");
        assert_eq!(
            found.len(),
            1,
            "exactly one object is labelled {FIND_LABEL}"
        );
        black_box(found);
    }

    /// Find by label, direct calls.
    #[inline]
    pub fn raw_find(&self) {
        let (n, first) = self
            .raw
            .find_by_label(self.raw.session, FIND_LABEL.as_bytes());
        assert_eq!(n, 1, "exactly one object is labelled {FIND_LABEL}");
        black_box(first);
    }

    /// Find by label, cryptoki (`find_objects`).
    #[inline]
    pub fn ck_find(&self) {
        let session = self.ck_session.lock().unwrap_or_else(|e| e.into_inner());
        let found = session.find_objects(&self.ck_find_template).expect("find");
        assert_eq!(
            found.len(),
            1,
            "exactly one object is labelled {FIND_LABEL}"
        );
        black_box(found);
    }

    // --- attributes ---------------------------------------------------------------

    /// CLASS + LABEL + ID, safe crate: one read into a reused [`AttributeReader`] (no
    /// allocation), then the class and the two values, as the direct call returns them.
    #[inline]
    pub fn safe_read3(&self) {
        let mut reader = self.read3.lock().unwrap_or_else(|e| e.into_inner());
        self.session
            .read_attributes_into(ObjectHandle(self.keys.aes), &mut reader)
            .expect("read attributes");
        let class = reader.ulong(AttributeType::Class).expect("CKA_CLASS");
        let label = reader.bytes(AttributeType::Label).expect("CKA_LABEL");
        let id = reader.bytes(AttributeType::Id).expect("CKA_ID");
        black_box((class, label.len(), id.len()));
    }

    /// CLASS + LABEL + ID, safe crate, the allocating form (`get_attributes`).
    #[inline]
    pub fn safe_vec_read3(&self) {
        let values = self
            .session
            .get_attributes(ObjectHandle(self.keys.aes), &READ3_ATTRIBUTES)
            .expect("read attributes");
        debug_assert!(values
            .iter()
            .all(|v| matches!(v, AttributeResult::Value(_))));
        black_box(values);
    }

    /// CLASS + LABEL + ID, one direct call.
    #[inline]
    pub fn raw_read3(&self) {
        black_box(self.raw.read3(self.raw.session, self.keys.aes));
    }

    /// CLASS + LABEL + ID, cryptoki (`get_attributes`).
    #[inline]
    pub fn ck_read3(&self) {
        let session = self.ck_session.lock().unwrap_or_else(|e| e.into_inner());
        black_box(
            session
                .get_attributes(
                    ck_handle(self.keys.aes),
                    &[CkType::Class, CkType::Label, CkType::Id],
                )
                .expect("read attributes"),
        );
    }

    /// The public attributes of 1,000 data objects, safe crate: one [`AttributeReader`]
    /// reused for every object (no allocation), the values taken as the direct calls
    /// take them.
    #[inline]
    pub fn safe_read_all(&self) {
        let mut reader = self.read_all.lock().unwrap_or_else(|e| e.into_inner());
        for &object in &self.data {
            self.session
                .read_attributes_into(ObjectHandle(object), &mut reader)
                .expect("read attributes");
            let fixed = (
                reader.ulong(AttributeType::Class).expect("CKA_CLASS"),
                reader.bool(AttributeType::Token).expect("CKA_TOKEN"),
                reader.bool(AttributeType::Private).expect("CKA_PRIVATE"),
                reader
                    .bool(AttributeType::Modifiable)
                    .expect("CKA_MODIFIABLE"),
            );
            black_box(fixed);
            let variable = reader.bytes(AttributeType::Label).expect("CKA_LABEL").len()
                + reader
                    .bytes(AttributeType::Application)
                    .expect("CKA_APPLICATION")
                    .len()
                + reader.bytes(AttributeType::Value).expect("CKA_VALUE").len();
            black_box(variable);
        }
    }

    /// The public attributes of 1,000 data objects, safe crate, the allocating form
    /// (`get_attributes`).
    #[inline]
    pub fn safe_vec_read_all(&self) {
        for &object in &self.data {
            let values = self
                .session
                .get_attributes(ObjectHandle(object), &DATA_ATTRIBUTES)
                .expect("read attributes");
            black_box(values);
        }
    }

    /// The public attributes of 1,000 data objects, direct calls.
    #[inline]
    pub fn raw_read_all(&self) {
        for &object in &self.data {
            black_box(self.raw.read_data_object(self.raw.session, object));
        }
    }

    /// The public attributes of 1,000 data objects, cryptoki.
    #[inline]
    pub fn ck_read_all(&self) {
        let session = self.ck_session.lock().unwrap_or_else(|e| e.into_inner());
        for &object in &self.data {
            black_box(
                session
                    .get_attributes(ck_handle(object), &CK_DATA_ATTRIBUTES)
                    .expect("read attributes"),
            );
        }
    }

    // --- sessions -----------------------------------------------------------------

    /// Open + close a session, safe crate.
    #[inline]
    pub fn safe_open_close(&self) {
        let session = self.slot.open_rw_session().expect("open");
        drop(black_box(session));
    }

    /// Open + close a session, direct calls.
    #[inline]
    pub fn raw_open_close(&self) {
        let h = self.raw.open_session();
        self.raw.close_session(black_box(h));
    }

    /// Open + close a session, cryptoki.
    #[inline]
    pub fn ck_open_close(&self) {
        let session = self.ck.open_rw_session(self.ck_slot).expect("open");
        drop(black_box(session));
    }

    // --- threads ------------------------------------------------------------------

    /// Two threads, each running `iters` SHA-256 digests of 64 bytes, on their own
    /// sessions (`shared` false) or on one session; returns the wall time.
    pub fn threads(&self, api: Api, shared: bool, iters: u64) -> Duration {
        // Only these fields cross to the threads (the whole `Env` is not `Sync`: cryptoki's
        // mechanism and template types hold raw pointers).
        let (safe_shared, safe_own) = (&self.session, &self.thread_sessions);
        let (raw, raw_own, raw_turn) = (&self.raw, &self.raw_thread_sessions, &self.raw_shared);
        let (ck_shared, ck_own) = (&self.ck_session, &self.ck_thread_sessions);
        let start = Instant::now();
        std::thread::scope(|s| {
            for t in 0..2 {
                s.spawn(move || match (api, shared) {
                    (Api::Safe | Api::SafeVec, false) => {
                        for _ in 0..iters {
                            safe_digest_on(&safe_own[t]);
                        }
                    }
                    (Api::Safe | Api::SafeVec, true) => {
                        for _ in 0..iters {
                            safe_digest_on(safe_shared);
                        }
                    }
                    (Api::Raw, false) => {
                        for _ in 0..iters {
                            raw_digest_on(raw, raw_own[t]);
                        }
                    }
                    (Api::Raw, true) => {
                        // What C does to share a session: a mutex around each operation.
                        for _ in 0..iters {
                            let _turn = raw_turn.lock().unwrap_or_else(|e| e.into_inner());
                            raw_digest_on(raw, raw.session);
                        }
                    }
                    (Api::Cryptoki, false) => {
                        // Locked once per thread: the mutex only moves the session in.
                        let session = ck_own[t].lock().unwrap_or_else(|e| e.into_inner());
                        for _ in 0..iters {
                            ck_digest_on(&session);
                        }
                    }
                    (Api::Cryptoki, true) => {
                        // A cryptoki Session is not Sync: sharing takes a mutex.
                        for _ in 0..iters {
                            let session = ck_shared.lock().unwrap_or_else(|e| e.into_inner());
                            ck_digest_on(&session);
                        }
                    }
                });
            }
        });
        start.elapsed()
    }

    /// Sessions for the pool benchmark at `threads` threads.
    pub fn pool_setup(&self, sharing: Sharing, threads: usize) -> PoolSetup {
        match sharing {
            Sharing::Pool => PoolSetup::Pool(
                SessionPool::builder(&self.slot)
                    .max_sessions(threads)
                    .build()
                    .expect("build a session pool"),
            ),
            Sharing::Shared => PoolSetup::Shared,
            Sharing::PerThread => PoolSetup::PerThread(
                (0..threads)
                    .map(|_| self.slot.open_rw_session().expect("open a session"))
                    .collect(),
            ),
        }
    }

    /// `threads` threads each running `iters` SHA-256 digests of 64 bytes, sharing
    /// sessions as `setup` says; returns the wall time.
    pub fn pool_run(&self, setup: &PoolSetup, threads: usize, iters: u64) -> Duration {
        let shared = &self.session;
        let start = Instant::now();
        std::thread::scope(|s| {
            for t in 0..threads {
                s.spawn(move || match setup {
                    PoolSetup::Pool(pool) => {
                        for _ in 0..iters {
                            let session = pool.get().expect("borrow a pooled session");
                            safe_digest_on(&session);
                        }
                    }
                    PoolSetup::Shared => {
                        for _ in 0..iters {
                            safe_digest_on(shared);
                        }
                    }
                    PoolSetup::PerThread(sessions) => {
                        for _ in 0..iters {
                            safe_digest_on(&sessions[t]);
                        }
                    }
                });
            }
        });
        start.elapsed()
    }
}

/// The sessions of one pool benchmark.
pub enum PoolSetup {
    /// A pool of as many sessions as threads.
    Pool(SessionPool),
    /// The environment's one safe session.
    Shared,
    /// One session per thread.
    PerThread(Vec<Session>),
}

#[inline]
fn safe_digest_on(session: &Session) {
    let mut out = [0u8; 32];
    let n = session
        .digest_into(&Mechanism::Sha256, &DATA_64, &mut out)
        .expect("digest");
    black_box((&out, n));
}

#[inline]
fn raw_digest_on(raw: &raw::Raw, h: ffi::CK_SESSION_HANDLE) {
    let mut out = [0u8; 32];
    let n = raw.digest(h, ffi::CKM_SHA256, &DATA_64, &mut out);
    black_box((&out, n));
}

#[inline]
fn ck_digest_on(session: &cryptoki::session::Session) {
    black_box(
        session
            .digest(&CkMechanism::Sha256, &DATA_64)
            .expect("digest"),
    );
}
