//! Shows a module through the raw tables: library info, slots, tokens and mechanisms.
//!
//! ```text
//! cargo run -p pkcs11-sys --example raw_demo -- /usr/lib/softhsm/libsofthsm2.so
//! ```
//! (`cargo xtask demo` runs it on a throwaway SoftHSM token.)

use std::process::ExitCode;
use std::ptr;

use pkcs11_sys::*;

/// Turns a return value into a `Result` naming the function.
fn check(function: &str, rv: CK_RV) -> Result<(), String> {
    if rv == CKR_OK {
        Ok(())
    } else {
        Err(format!(
            "{function}: {} (0x{rv:08X})",
            ckr_name(rv).unwrap_or("unknown CKR value")
        ))
    }
}

/// A blank-padded PKCS #11 text field, trimmed.
fn text(field: &[u8]) -> String {
    String::from_utf8_lossy(field).trim_end().to_owned()
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: raw_demo MODULE_PATH");
        return ExitCode::FAILURE;
    };
    match run(&path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("raw_demo: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: &str) -> Result<(), String> {
    let module = Module::load(path).map_err(|e| e.to_string())?;
    let version = module.version();
    println!(
        "module {} (interface {}.{} via {:?})",
        module.path().display(),
        version.major,
        version.minor,
        module.negotiation()
    );
    let f = module.functions();
    let missing = |name: &str| format!("{name} is not supported by the module");

    let mut args = CK_C_INITIALIZE_ARGS {
        flags: CKF_OS_LOCKING_OK,
        ..Default::default()
    };
    let initialize = f.C_Initialize.ok_or_else(|| missing("C_Initialize"))?;
    // SAFETY: `args` is a valid CK_C_INITIALIZE_ARGS that outlives the call.
    check("C_Initialize", unsafe {
        initialize(ptr::from_mut(&mut args).cast())
    })?;
    let result = show(f);
    let finalize = f.C_Finalize.ok_or_else(|| missing("C_Finalize"))?;
    // SAFETY: initialized above; this program makes no other call concurrently.
    check("C_Finalize", unsafe { finalize(ptr::null_mut()) })?;
    result
}

fn show(f: &CK_FUNCTION_LIST) -> Result<(), String> {
    let missing = |name: &str| format!("{name} is not supported by the module");
    let mut info = CK_INFO::default();
    let get_info = f.C_GetInfo.ok_or_else(|| missing("C_GetInfo"))?;
    // SAFETY: `info` is writable.
    check("C_GetInfo", unsafe { get_info(&mut info) })?;
    println!(
        "library: {} by {} (library version {}.{}, Cryptoki {}.{})",
        text(&info.libraryDescription),
        text(&info.manufacturerID),
        info.libraryVersion.major,
        info.libraryVersion.minor,
        info.cryptokiVersion.major,
        info.cryptokiVersion.minor
    );

    let get_slots = f.C_GetSlotList.ok_or_else(|| missing("C_GetSlotList"))?;
    let mut count: CK_ULONG = 0;
    // SAFETY: a NULL list asks for the count.
    check("C_GetSlotList", unsafe {
        get_slots(CK_TRUE, ptr::null_mut(), &mut count)
    })?;
    let mut slots = vec![0; count as usize];
    // SAFETY: `slots` has room for `count` slot IDs.
    check("C_GetSlotList", unsafe {
        get_slots(CK_TRUE, slots.as_mut_ptr(), &mut count)
    })?;
    slots.truncate(count as usize);
    println!("slots with a token: {}", slots.len());

    for slot in slots {
        let mut token = CK_TOKEN_INFO::default();
        let get_token = f.C_GetTokenInfo.ok_or_else(|| missing("C_GetTokenInfo"))?;
        // SAFETY: `token` is writable.
        check("C_GetTokenInfo", unsafe { get_token(slot, &mut token) })?;
        println!(
            "slot {slot}: token \"{}\" ({}, model {}, serial {})",
            text(&token.label),
            text(&token.manufacturerID),
            text(&token.model),
            text(&token.serialNumber)
        );
        let get_mechs = f
            .C_GetMechanismList
            .ok_or_else(|| missing("C_GetMechanismList"))?;
        let mut count: CK_ULONG = 0;
        // SAFETY: a NULL list asks for the count.
        check("C_GetMechanismList", unsafe {
            get_mechs(slot, ptr::null_mut(), &mut count)
        })?;
        let mut mechanisms = vec![0; count as usize];
        // SAFETY: `mechanisms` has room for `count` entries.
        check("C_GetMechanismList", unsafe {
            get_mechs(slot, mechanisms.as_mut_ptr(), &mut count)
        })?;
        mechanisms.truncate(count as usize);
        println!("  {} mechanisms:", mechanisms.len());
        for mechanism in mechanisms {
            match ckm_name(mechanism) {
                Some(name) => println!("    {name}"),
                None => println!("    0x{mechanism:08X} (vendor or unknown)"),
            }
        }
    }
    Ok(())
}
