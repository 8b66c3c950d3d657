//! Installs what the tasks need: Debian packages through apt-get when running as root on
//! Debian, otherwise a precise message naming what to install.

use std::path::Path;
use std::process::Command;

use crate::{run_cmd, Result};

/// What the dependencies are needed for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// `cargo xtask demo`: SoftHSM only.
    Demo,
    /// `cargo xtask kryoptic`: what building Kryoptic (and its static OpenSSL) needs.
    Kryoptic,
    /// `cargo xtask test`: everything the test command uses.
    Test,
}

/// One requirement: how to tell it is present, and the Debian package providing it.
struct Need {
    what: &'static str,
    package: &'static str,
    present: fn() -> bool,
    /// The tasks that need it besides `test` (which needs everything).
    used_by: &'static [Purpose],
}

const NEEDS: &[Need] = &[
    Need {
        what: "SoftHSMv2 module and softhsm2-util",
        package: "softhsm2",
        present: || crate::softhsm::module_path().is_some() && on_path("softhsm2-util"),
        used_by: &[Purpose::Demo],
    },
    Need {
        what: "OpenSC pkcs11-tool",
        package: "opensc",
        present: || on_path("pkcs11-tool"),
        used_by: &[],
    },
    Need {
        what: "GnuTLS p11tool and certtool (PKCS #11 URI interoperability tests)",
        package: "gnutls-bin",
        present: || on_path("p11tool") && on_path("certtool"),
        used_by: &[],
    },
    Need {
        what: "OpenSSL command line (certificates and keys in the format tests)",
        package: "openssl",
        present: || on_path("openssl"),
        used_by: &[],
    },
    Need {
        what: "p11-kit's pkcs11.h (ABI conformance reference)",
        package: "libp11-kit-dev",
        present: || Path::new("/usr/include/p11-kit-1/p11-kit/pkcs11.h").is_file(),
        used_by: &[],
    },
    Need {
        what: "libclang (for `cargo xtask bindgen --check` and Kryoptic's OpenSSL bindings)",
        package: "libclang-dev",
        present: has_libclang,
        used_by: &[Purpose::Kryoptic],
    },
    Need {
        what: "a C compiler (ABI conformance reference program, OpenSSL for Kryoptic)",
        package: "gcc",
        present: || on_path("cc"),
        used_by: &[Purpose::Kryoptic],
    },
    Need {
        what: "valgrind (memcheck, for `cargo xtask valgrind`)",
        package: "valgrind",
        present: || on_path("valgrind"),
        used_by: &[],
    },
    Need {
        what: "make (builds OpenSSL for Kryoptic)",
        package: "make",
        present: || on_path("make"),
        used_by: &[Purpose::Kryoptic],
    },
    Need {
        what: "perl (OpenSSL's Configure, for Kryoptic)",
        package: "perl",
        present: || on_path("perl"),
        used_by: &[Purpose::Kryoptic],
    },
    Need {
        what: "pkg-config (finds SQLite for Kryoptic)",
        package: "pkg-config",
        present: || on_path("pkg-config"),
        used_by: &[Purpose::Kryoptic],
    },
    Need {
        what: "SQLite headers and library (Kryoptic's token store; runtime: libsqlite3-0)",
        package: "libsqlite3-dev",
        present: || {
            Command::new("pkg-config")
                .args(["--exists", "sqlite3"])
                .status()
                .is_ok_and(|status| status.success())
        },
        used_by: &[Purpose::Kryoptic],
    },
];

/// Cross targets that `cargo xtask test` type-checks `pkcs11-sys` for: one 32-bit target
/// (`CK_ULONG` is 32 bits) and one Windows target (32-bit `CK_ULONG`, packed structs).
pub(crate) const CROSS_TARGETS: &[&str] = &["i686-unknown-linux-gnu", "x86_64-pc-windows-gnu"];

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

fn has_libclang() -> bool {
    if let Some(dir) = std::env::var_os("LIBCLANG_PATH") {
        if Path::new(&dir).is_dir() {
            return true;
        }
    }
    let Ok(entries) = std::fs::read_dir("/usr/lib") else {
        return false;
    };
    // Debian: /usr/lib/llvm-NN/lib/libclang.so
    entries.flatten().any(|entry| {
        entry.file_name().to_string_lossy().starts_with("llvm-")
            && entry.path().join("lib/libclang.so").exists()
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Makes sure everything `purpose` needs is installed, installing it when possible.
pub(crate) fn ensure(purpose: Purpose) -> Result {
    let missing: Vec<&Need> = NEEDS
        .iter()
        .filter(|need| {
            (purpose == Purpose::Test || need.used_by.contains(&purpose)) && !(need.present)()
        })
        .collect();
    if !missing.is_empty() {
        let packages: Vec<&str> = missing.iter().map(|need| need.package).collect();
        let list = missing
            .iter()
            .map(|need| format!("  {} (Debian package {})", need.what, need.package))
            .collect::<Vec<_>>()
            .join("\n");
        if !(Path::new("/etc/debian_version").is_file() && is_root() && on_path("apt-get")) {
            return Err(format!(
                "missing:\n{list}\ninstall them, e.g. `sudo apt-get install -y {}`, and rerun",
                packages.join(" ")
            ));
        }
        eprintln!("xtask: installing missing packages:\n{list}");
        run_cmd(Command::new("apt-get").args(["update", "-q"]))?;
        run_cmd(
            Command::new("apt-get")
                .args(["install", "-y", "-q", "--no-install-recommends"])
                .args(&packages)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )?;
        if let Some(still) = NEEDS
            .iter()
            .find(|n| missing.iter().any(|m| m.package == n.package) && !(n.present)())
        {
            return Err(format!(
                "{} is still missing after installing {}",
                still.what, still.package
            ));
        }
    }
    if purpose == Purpose::Test {
        ensure_cross_targets()?;
    }
    Ok(())
}

fn ensure_cross_targets() -> Result {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| {
            format!(
                "cannot run rustup ({e}); install the targets {} for the cross-target ABI check",
                CROSS_TARGETS.join(", ")
            )
        })?;
    let installed = String::from_utf8_lossy(&installed.stdout);
    let missing: Vec<&str> = CROSS_TARGETS
        .iter()
        .copied()
        .filter(|target| !installed.lines().any(|line| line.trim() == *target))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    run_cmd(
        Command::new("rustup")
            .args(["target", "add"])
            .args(&missing),
    )
}
