//! `cargo xtask softhsm`: throwaway SoftHSMv2 tokens, each with its own configuration file
//! and token directory, so nothing touches the system's tokens.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{run_cmd, workspace_root, Args, Result};

/// Where Debian and other distributions install the SoftHSMv2 module.
const MODULE_CANDIDATES: &[&str] = &[
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
];

/// The SoftHSMv2 module: `$SOFTHSM2_MODULE` if set, else the first standard location.
pub(crate) fn module_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SOFTHSM2_MODULE") {
        return Some(PathBuf::from(path));
    }
    MODULE_CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
}

/// A freshly initialized token in a directory of its own.
pub(crate) struct Token {
    /// The `softhsm2.conf` to export as `SOFTHSM2_CONF`.
    pub(crate) conf: PathBuf,
    /// The module to load.
    pub(crate) module: PathBuf,
}

impl Token {
    /// Wipes `dir`, writes a configuration there and initializes one token in it.
    pub(crate) fn create(dir: &Path, label: &str, so_pin: &str, pin: &str) -> Result<Token> {
        let module = module_path().ok_or(
            "SoftHSMv2 module not found: install Debian's softhsm2 or set SOFTHSM2_MODULE",
        )?;
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
        }
        let tokens = dir.join("tokens");
        std::fs::create_dir_all(&tokens)
            .map_err(|e| format!("cannot create {}: {e}", tokens.display()))?;
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                tokens.display()
            ),
        )
        .map_err(|e| format!("cannot write {}: {e}", conf.display()))?;
        run_cmd(
            Command::new("softhsm2-util")
                .args(["--init-token", "--free", "--label", label])
                .args(["--so-pin", so_pin, "--pin", pin])
                .env("SOFTHSM2_CONF", &conf),
        )?;
        Ok(Token { conf, module })
    }
}

/// `cargo xtask softhsm [--dir DIR] [--label LABEL] [--so-pin PIN] [--pin PIN]`.
pub(crate) fn run(args: &[String]) -> Result {
    let mut dir = workspace_root().join("target/softhsm");
    let mut label = "test-token".to_owned();
    let mut so_pin = "so-pin-1234".to_owned();
    let mut pin = "1234".to_owned();
    let mut args = Args::new(args);
    while let Some(flag) = args.next_flag() {
        match flag {
            "--dir" => dir = PathBuf::from(args.value(flag)?),
            "--label" => args.value(flag)?.clone_into(&mut label),
            "--so-pin" => args.value(flag)?.clone_into(&mut so_pin),
            "--pin" => args.value(flag)?.clone_into(&mut pin),
            other => return Err(format!("softhsm: unknown option `{other}`")),
        }
    }
    crate::deps::ensure(crate::deps::Purpose::Demo)?;
    let dir = std::path::absolute(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let token = Token::create(&dir, &label, &so_pin, &pin)?;
    println!("export SOFTHSM2_CONF={}", token.conf.display());
    println!("export PKCS11_MODULE={}", token.module.display());
    println!("export PKCS11_TOKEN_LABEL={label}");
    println!("export PKCS11_SO_PIN={so_pin}");
    println!("export PKCS11_USER_PIN={pin}");
    Ok(())
}
