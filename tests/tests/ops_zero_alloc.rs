//! Zero heap allocations per operation on the paths that write into the caller's
//! buffers (issue 6, item 3): `generate_random_into`, the single-part `*_into`
//! operations, `verify`, and the streams' `update` / `update_into` / `finish_into`, on
//! SoftHSMv2, Kryoptic and the fault module in its no-op plan.
//!
//! A counting global allocator counts this thread's allocations (a thread-local counter,
//! so other tests running at once do not interfere). The modules' own allocations are
//! not counted: SoftHSM allocates with C++'s allocator, Kryoptic and the fault module
//! with their own Rust runtime's. Each path runs twice first (first-call costs such as a
//! thread's lazily made state, or the capacity a session's bookkeeping keeps, are not
//! per-operation costs), then [`RUNS`] times counted. A failure lists every path that
//! allocates, with the count per call, on which module.

use pkcs11::{
    Attribute, GcmParams, KeyType, Mechanism, MechanismType, ObjectHandle, Pin, Session, UserType,
};
use pkcs11_sys as ffi;
use pkcs11_tests::alloc::{allocations_so_far, Counting};
use pkcs11_tests::fault::{FaultModule, SLOT, USER_PIN};
use pkcs11_tests::modules::{each_module, TestToken};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Counted runs per path.
const RUNS: u64 = 8;

/// The paths measured on one module, and those that allocated.
struct Report {
    module: &'static str,
    measured: Vec<&'static str>,
    allocating: Vec<(&'static str, f64)>,
}

impl Report {
    fn new(module: &'static str) -> Report {
        Report {
            module,
            measured: Vec::new(),
            allocating: Vec::new(),
        }
    }

    /// Runs `path` twice to warm up, then [`RUNS`] times counting this thread's
    /// allocations. `path` must check its own results (it panics on failure).
    fn check(&mut self, name: &'static str, mut path: impl FnMut()) {
        path();
        path();
        let before = allocations_so_far();
        for _ in 0..RUNS {
            path();
        }
        let count = allocations_so_far() - before;
        self.measured.push(name);
        if count != 0 {
            self.allocating.push((name, count as f64 / RUNS as f64));
        }
    }

    fn assert_none(self) {
        eprintln!(
            "ops_zero_alloc on {}: measured {}",
            self.module,
            self.measured.join(", ")
        );
        let lines: Vec<String> = self
            .allocating
            .iter()
            .map(|(name, per_call)| {
                format!(
                    "  {name} on {}: {per_call} allocations per call",
                    self.module
                )
            })
            .collect();
        assert!(
            lines.is_empty(),
            "ALLOCATES (expected zero heap allocations per call):\n{}",
            lines.join("\n")
        );
    }
}

/// The keys the paths use.
struct Keys {
    aes: ObjectHandle,
    hmac: ObjectHandle,
}

fn make_keys(session: &Session) -> Keys {
    let aes = session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::Token(false),
                Attribute::ValueLen(32),
                Attribute::Encrypt(true),
                Attribute::Decrypt(true),
            ],
        )
        .expect("generate an AES-256 key");
    let hmac = session
        .generate_key(
            &Mechanism::plain(ffi::CKM_GENERIC_SECRET_KEY_GEN),
            &[
                Attribute::Token(false),
                Attribute::KeyType(KeyType::GenericSecret),
                Attribute::ValueLen(32),
                Attribute::Sign(true),
                Attribute::Verify(true),
            ],
        )
        .expect("generate an HMAC key");
    Keys { aes, hmac }
}

/// What the module can do: the real modules list their mechanisms; the no-op plan
/// answers every crypto call without looking at the mechanism.
#[derive(Clone, Copy)]
struct Can {
    gcm: bool,
    cbc_pad: bool,
    hmac: bool,
    /// Outputs are checked against their true lengths (false for the no-op plan).
    real: bool,
}

fn check_paths(report: &mut Report, session: &Session, keys: &Keys, can: Can) {
    let data = [0x42u8; 64];

    report.check("generate_random_into (32 bytes)", || {
        let mut out = [0u8; 32];
        session.generate_random_into(&mut out).expect("random");
    });

    report.check("digest_into (SHA-256)", || {
        let mut out = [0u8; 32];
        let n = session
            .digest_into(&Mechanism::Sha256, &data, &mut out)
            .expect("digest_into");
        assert_eq!(n, 32);
    });

    report.check("DigestStream update + finish_into (SHA-256)", || {
        let mut out = [0u8; 32];
        let mechanism = Mechanism::Sha256;
        let mut stream = session.digest_stream(&mechanism).expect("digest_stream");
        stream.update(&data[..32]).expect("update");
        stream.update(&data[32..]).expect("update");
        let n = stream.finish_into(&mut out).expect("finish_into");
        assert_eq!(n, 32);
    });

    if can.gcm {
        let iv = [9u8; 12];
        let mut ciphertext = [0u8; 64 + 16];
        let mut len = 0;
        report.check("GcmParams::new + encrypt_into (AES-256-GCM)", || {
            let mechanism = Mechanism::AesGcm(GcmParams::new(&iv, &[], 128).expect("params"));
            len = session
                .encrypt_into(&mechanism, keys.aes, &data, &mut ciphertext)
                .expect("encrypt_into");
            if can.real {
                assert_eq!(len, 64 + 16);
            }
        });
        report.check("GcmParams::new + decrypt_into (AES-256-GCM)", || {
            let mechanism = Mechanism::AesGcm(GcmParams::new(&iv, &[], 128).expect("params"));
            let mut plaintext = [0u8; 96];
            let n = session
                .decrypt_into(&mechanism, keys.aes, &ciphertext[..len], &mut plaintext)
                .expect("decrypt_into");
            if can.real {
                assert_eq!(&plaintext[..n], &data[..]);
            }
        });
    }

    if can.cbc_pad {
        let mechanism = Mechanism::AesCbcPad { iv: [3u8; 16] };
        let mut ciphertext = [0u8; 128];
        let mut len = 0;
        report.check(
            "EncryptStream update_into + finish_into (AES-CBC-PAD)",
            || {
                let mut stream = session
                    .encrypt_stream(&mechanism, keys.aes)
                    .expect("encrypt_stream");
                let mut n = stream
                    .update_into(&data[..40], &mut ciphertext)
                    .expect("update_into");
                n += stream
                    .update_into(&data[40..], &mut ciphertext[n..])
                    .expect("update_into");
                n += stream
                    .finish_into(&mut ciphertext[n..])
                    .expect("finish_into");
                len = n;
                if can.real {
                    assert_eq!(len, 80);
                }
            },
        );
        report.check(
            "DecryptStream update_into + finish_into (AES-CBC-PAD)",
            || {
                let mut plaintext = [0u8; 128];
                let mut stream = session
                    .decrypt_stream(&mechanism, keys.aes)
                    .expect("decrypt_stream");
                let mut n = stream
                    .update_into(&ciphertext[..len], &mut plaintext)
                    .expect("update_into");
                n += stream
                    .finish_into(&mut plaintext[n..])
                    .expect("finish_into");
                if can.real {
                    assert_eq!(&plaintext[..n], &data[..]);
                }
            },
        );
    }

    if can.hmac {
        let mut mac = [0u8; 32];
        report.check("sign_into (HMAC-SHA-256)", || {
            let n = session
                .sign_into(&Mechanism::Sha256Hmac, keys.hmac, &data, &mut mac)
                .expect("sign_into");
            assert_eq!(n, 32);
        });
        report.check("SignStream update + finish_into (HMAC-SHA-256)", || {
            let mechanism = Mechanism::Sha256Hmac;
            let mut out = [0u8; 32];
            let mut stream = session
                .sign_stream(&mechanism, keys.hmac)
                .expect("sign_stream");
            stream.update(&data[..10]).expect("update");
            stream.update(&data[10..]).expect("update");
            let n = stream.finish_into(&mut out).expect("finish_into");
            assert_eq!(n, 32);
            if can.real {
                assert_eq!(out, mac);
            }
        });
        report.check("verify (HMAC-SHA-256)", || {
            let valid = session
                .verify(&Mechanism::Sha256Hmac, keys.hmac, &data, &mac)
                .expect("verify");
            assert!(valid);
        });
    }
}

#[test]
fn into_paths_allocate_nothing_on_real_modules() {
    each_module(
        "into_paths_allocate_nothing_on_real_modules",
        |token: &'static TestToken| {
            let session = token.session();
            let keys = make_keys(&session);
            let can = Can {
                gcm: token.require(
                    "into_paths_allocate_nothing (AES-GCM paths)",
                    &[MechanismType::AES_GCM],
                ),
                cbc_pad: token.require(
                    "into_paths_allocate_nothing (AES-CBC-PAD stream paths)",
                    &[MechanismType(ffi::CKM_AES_CBC_PAD)],
                ),
                hmac: token.require(
                    "into_paths_allocate_nothing (HMAC paths)",
                    &[MechanismType(ffi::CKM_SHA256_HMAC)],
                ),
                real: true,
            };
            let mut report = Report::new(token.module.name());
            check_paths(&mut report, &session, &keys, can);
            report.assert_none();
        },
    );
}

#[test]
fn into_paths_allocate_nothing_on_the_noop_module() {
    let module = FaultModule::with_file_plan("noop", "ops_zero_alloc");
    let p11 = module.open().expect("open the noop fault module");
    let session = p11.slot(SLOT).open_rw_session().expect("open a session");
    session
        .login(UserType::User, &Pin::from(USER_PIN))
        .expect("log in");
    let keys = make_keys(&session);
    let can = Can {
        gcm: true,
        cbc_pad: true,
        hmac: true,
        real: false,
    };
    let mut report = Report::new("the fault module (plan noop)");
    check_paths(&mut report, &session, &keys, can);
    report.assert_none();
}

/// The counter sees this thread's allocations (the test can fail).
#[test]
fn the_counter_counts() {
    let before = allocations_so_far();
    let boxed = std::hint::black_box(Box::new([0u8; 64]));
    drop(boxed);
    assert_eq!(allocations_so_far() - before, 1);
}
