//! Loading a module at run time and negotiating its function tables.
//!
//! The order follows the standard and the lessons of other bindings: the interface list
//! (`C_GetInterfaceList`) first, picking the highest "PKCS 11" version; then the default
//! interface (`C_GetInterface`); then `C_GetFunctionList`, whose table is a 2.x table
//! whatever its version field says. Every entry point is looked up in the module itself,
//! and every "OK" answer is checked for a NULL out-pointer.

use core::ffi::c_void;
use core::fmt;
use core::ptr;
use std::path::{Path, PathBuf};
use std::string::String;
use std::sync::Arc;
use std::vec::Vec;

use crate::{
    ckr_name, CK_C_GetFunctionList, CK_C_GetInterface, CK_C_GetInterfaceList, CKR_BUFFER_TOO_SMALL,
    CKR_OK, CK_FUNCTION_LIST, CK_FUNCTION_LIST_3_0, CK_FUNCTION_LIST_3_2, CK_FUNCTION_LIST_PTR,
    CK_INTERFACE, CK_INTERFACE_PTR, CK_RV, CK_ULONG, CK_VERSION, PKCS11_INTERFACE_NAME,
};

/// More interfaces than any module offers: a larger count is a lie, not an allocation.
const MAX_INTERFACES: usize = 256;
/// Attempts at reading the interface list while the module keeps changing its count.
const MAX_LIST_ATTEMPTS: usize = 4;
/// The longest interface name read from a module (names are short ASCII strings).
const MAX_INTERFACE_NAME: usize = 256;

/// Why a module could not be loaded. Every variant names the module's path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// There is no file at the path.
    #[error("cannot load PKCS #11 module {path}: no such file")]
    NotFound {
        /// The path given to [`Module::load`].
        path: PathBuf,
    },
    /// The file exists but the dynamic loader refused it (not a shared object, wrong
    /// architecture, missing dependency, ...).
    #[error("cannot load PKCS #11 module {path}: not a loadable shared library ({reason})")]
    NotASharedObject {
        /// The path given to [`Module::load`].
        path: PathBuf,
        /// The dynamic loader's explanation.
        reason: String,
    },
    /// The library exports none of `C_GetInterfaceList`, `C_GetInterface`,
    /// `C_GetFunctionList`.
    #[error(
        "{path} is not a PKCS #11 module: it exports none of C_GetInterfaceList, \
         C_GetInterface, C_GetFunctionList"
    )]
    NotAModule {
        /// The path given to [`Module::load`].
        path: PathBuf,
    },
    /// An entry point returned an error code.
    #[error("PKCS #11 module {path}: {function} failed: {} (0x{rv:08X})", ckr_name(*.rv).unwrap_or("unknown CKR value"))]
    EntryPointFailed {
        /// The path given to [`Module::load`].
        path: PathBuf,
        /// The entry point, e.g. `"C_GetFunctionList"`.
        function: &'static str,
        /// The value it returned.
        rv: CK_RV,
    },
    /// An entry point returned `CKR_OK` without a function table.
    #[error("PKCS #11 module {path}: {function} returned CKR_OK but a NULL function table")]
    NullTable {
        /// The path given to [`Module::load`].
        path: PathBuf,
        /// The entry point, e.g. `"C_GetFunctionList"`.
        function: &'static str,
    },
}

/// How the function tables of a [`Module`] were obtained.
///
/// The loader tries, in order: the interface list (`C_GetInterfaceList`, picking the
/// highest "PKCS 11" version, 3.2 before 3.0 before 2.x); the module's default interface
/// (`C_GetInterface`); `C_GetFunctionList`, whose table is taken as 2.x whatever its
/// version field says. It moves on when an entry point is missing, fails, or answers
/// `CKR_OK` with a NULL pointer; [`Module::notes`] records why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Negotiation {
    /// Chosen from `C_GetInterfaceList` (the highest "PKCS 11" version offered).
    InterfaceList,
    /// The module's default interface from `C_GetInterface`.
    DefaultInterface,
    /// `C_GetFunctionList`: a 2.x table.
    FunctionList,
}

/// One interface a module offers in `C_GetInterfaceList`.
#[derive(Clone, Debug)]
pub struct Interface {
    /// The interface name (`"PKCS 11"` for the standard tables; vendors add others).
    pub name: String,
    /// The version in the interface's function table, if it has one (NULL tables do not).
    pub version: Option<CK_VERSION>,
    /// The interface flags (`CKF_INTERFACE_FORK_SAFE`).
    pub flags: crate::CK_FLAGS,
}

/// A copy of one of a module's function tables, which keeps the module loaded.
///
/// Dereferences to the table (`CK_FUNCTION_LIST`, `CK_FUNCTION_LIST_3_0` or
/// `CK_FUNCTION_LIST_3_2`). Any slot may be `None`: the module does not support that
/// function. Clones share the loaded library, which is unloaded when the [`Module`] and
/// every `Functions` made from it are gone.
#[derive(Clone)]
pub struct Functions<T> {
    table: T,
    _library: Arc<libloading::Library>,
}

impl<T> core::ops::Deref for Functions<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.table
    }
}

impl<T: fmt::Debug> fmt::Debug for Functions<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.table.fmt(f)
    }
}

/// A loaded PKCS #11 module and its negotiated function tables.
///
/// Loading does not call `C_Initialize`: that, and everything after it, is the caller's
/// (or the safe `pkcs11` crate's) business.
pub struct Module {
    path: PathBuf,
    negotiation: Negotiation,
    version: CK_VERSION,
    interfaces: Vec<Interface>,
    notes: Vec<String>,
    v2: Functions<CK_FUNCTION_LIST>,
    v3_0: Option<Functions<CK_FUNCTION_LIST_3_0>>,
    v3_2: Option<Functions<CK_FUNCTION_LIST_3_2>>,
}

impl fmt::Debug for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Module")
            .field("path", &self.path)
            .field("negotiation", &self.negotiation)
            .field(
                "version",
                &format_args!("{}.{}", self.version.major, self.version.minor),
            )
            .field("interfaces", &self.interfaces)
            .finish_non_exhaustive()
    }
}

impl Module {
    /// Opens the module at `path` and negotiates its function tables.
    ///
    /// `path` is a file path (a bare file name is searched for the way the platform's
    /// dynamic loader does). [`Negotiation`] describes the order in which tables are sought.
    ///
    /// # Errors
    /// [`LoadError`], naming the path and what failed.
    pub fn load(path: impl AsRef<Path>) -> Result<Module, LoadError> {
        let path = path.as_ref();
        let (library, owner) = open(path)?;
        let library = Arc::new(library);
        let mut notes = Vec::new();
        let mut failure = None;
        let entry = EntryPoints::resolve(&library, &owner, &mut notes);
        if entry.is_empty() {
            return Err(LoadError::NotAModule {
                path: path.to_path_buf(),
            });
        }

        let mut interfaces = Vec::new();
        let mut chosen = None;
        if let Some(list) = entry.get_interface_list {
            let listed = read_interface_list(list, path, &mut notes, &mut failure);
            chosen = best_interface(&listed).map(|i| (Negotiation::InterfaceList, i));
            if chosen.is_none() && !listed.is_empty() {
                notes.push("C_GetInterfaceList offers no usable \"PKCS 11\" interface".into());
            }
            interfaces = listed.into_iter().map(|(interface, _)| interface).collect();
        }
        if chosen.is_none() {
            if let Some(get) = entry.get_interface {
                chosen = default_interface(get, path, &mut notes, &mut failure)
                    .map(|i| (Negotiation::DefaultInterface, i));
            }
        }
        let (negotiation, version, tables) = match chosen {
            Some((how, found)) => {
                // SAFETY: `found.table` is the non-NULL function list of a "PKCS 11"
                // interface whose version field says `found.version`, so it is at least
                // as large as the struct of that version.
                let tables = unsafe { Tables::read(found.table, found.version) };
                (how, found.version, tables)
            }
            None => {
                let Some(get) = entry.get_function_list else {
                    return Err(failure.unwrap_or(LoadError::NotAModule {
                        path: path.to_path_buf(),
                    }));
                };
                let table = function_list(get, path)?;
                // SAFETY: `table` is the non-NULL result of C_GetFunctionList, which
                // points to (at least) a 2.x CK_FUNCTION_LIST.
                let v2 = unsafe { ptr::read_unaligned(table) };
                let claimed = v2.version;
                // A C_GetFunctionList table is a 2.x table, whatever it claims.
                let version = if claimed.major >= 3 {
                    notes.push(format!(
                        "C_GetFunctionList table claims version {}.{}; used as 2.40",
                        claimed.major, claimed.minor
                    ));
                    CK_VERSION {
                        major: 2,
                        minor: 40,
                    }
                } else {
                    claimed
                };
                let tables = Tables {
                    v2,
                    v3_0: None,
                    v3_2: None,
                };
                (Negotiation::FunctionList, version, tables)
            }
        };
        let wrap = |table| Functions {
            table,
            _library: Arc::clone(&library),
        };
        Ok(Module {
            path: path.to_path_buf(),
            negotiation,
            version,
            interfaces,
            notes,
            v2: wrap(tables.v2),
            v3_0: tables.v3_0.map(|table| Functions {
                table,
                _library: Arc::clone(&library),
            }),
            v3_2: tables.v3_2.map(|table| Functions {
                table,
                _library: Arc::clone(&library),
            }),
        })
    }

    /// The path the module was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How the tables were obtained.
    pub fn negotiation(&self) -> Negotiation {
        self.negotiation
    }

    /// The version of the interface in use: 3.2, 3.0, 3.1 from an interface, or the 2.x
    /// version of a `C_GetFunctionList` table (at most 2.40).
    pub fn version(&self) -> CK_VERSION {
        self.version
    }

    /// Every interface the module lists in `C_GetInterfaceList` (empty when it has none).
    pub fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    /// What negotiation skipped and why (a missing entry point, an error code, a NULL
    /// table), for diagnostics.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The 2.x function table: always present, since every version's table begins with
    /// the 2.x functions.
    pub fn functions(&self) -> &Functions<CK_FUNCTION_LIST> {
        &self.v2
    }

    /// The 3.0 table (also for 3.1 and 3.2 modules), if the module offers a 3.x interface.
    pub fn functions_3_0(&self) -> Option<&Functions<CK_FUNCTION_LIST_3_0>> {
        self.v3_0.as_ref()
    }

    /// The 3.2 table, if the module offers a 3.2 (or later 3.x) interface.
    pub fn functions_3_2(&self) -> Option<&Functions<CK_FUNCTION_LIST_3_2>> {
        self.v3_2.as_ref()
    }
}

/// The copies of the tables of one negotiated interface.
struct Tables {
    v2: CK_FUNCTION_LIST,
    v3_0: Option<CK_FUNCTION_LIST_3_0>,
    v3_2: Option<CK_FUNCTION_LIST_3_2>,
}

impl Tables {
    /// Copies exactly the structs that `version` guarantees.
    ///
    /// # Safety
    /// `table` points to a readable function table of at least `version`'s size
    /// (2.x, 3.0/3.1, or 3.2 and later 3.x).
    unsafe fn read(table: *const c_void, version: CK_VERSION) -> Tables {
        let is_3 = version.major == 3;
        let is_3_2 = is_3 && version.minor >= 2;
        // SAFETY: every version's table begins with the 2.x layout.
        let v2 = unsafe { ptr::read_unaligned(table.cast::<CK_FUNCTION_LIST>()) };
        // SAFETY: a 3.x table begins with the 3.0 layout (the caller vouches for 3.x).
        let v3_0 = is_3.then(|| unsafe { ptr::read_unaligned(table.cast()) });
        // SAFETY: a 3.2 table has the 3.2 layout (the caller vouches for 3.2 or later 3.x).
        let v3_2 = is_3_2.then(|| unsafe { ptr::read_unaligned(table.cast()) });
        Tables { v2, v3_0, v3_2 }
    }
}

/// The entry points found in the module itself.
struct EntryPoints {
    get_interface_list: Option<unsafe extern "C" fn(CK_INTERFACE_PTR, *mut CK_ULONG) -> CK_RV>,
    get_interface: CK_C_GetInterface,
    get_function_list: CK_C_GetFunctionList,
}

impl EntryPoints {
    fn resolve(
        library: &libloading::Library,
        owner: &own_symbol::Owner,
        notes: &mut Vec<String>,
    ) -> EntryPoints {
        let list = symbol(library, owner, "C_GetInterfaceList", notes);
        let get = symbol(library, owner, "C_GetInterface", notes);
        let functions = symbol(library, owner, "C_GetFunctionList", notes);
        // SAFETY: each pointer is the non-NULL address of the module's own export of that
        // name, whose C type is the standard's signature; `Option<fn>` has the layout of a
        // nullable pointer.
        unsafe {
            EntryPoints {
                get_interface_list: core::mem::transmute::<*mut c_void, CK_C_GetInterfaceList>(
                    list,
                ),
                get_interface: core::mem::transmute::<*mut c_void, CK_C_GetInterface>(get),
                get_function_list: core::mem::transmute::<*mut c_void, CK_C_GetFunctionList>(
                    functions,
                ),
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.get_interface_list.is_none()
            && self.get_interface.is_none()
            && self.get_function_list.is_none()
    }
}

/// Opens `path` with the platform's dynamic loader; also returns what identifies the
/// library to [`own_symbol::Owner::owns`].
fn open(path: &Path) -> Result<(libloading::Library, own_symbol::Owner), LoadError> {
    let has_dir = path.components().count() > 1;
    if has_dir && !path.exists() {
        return Err(LoadError::NotFound {
            path: path.to_path_buf(),
        });
    }
    let refused = |e: libloading::Error| {
        let reason = std::error::Error::source(&e)
            .map_or_else(|| e.to_string(), |source| source.to_string());
        if !has_dir && reason.contains("No such file") {
            LoadError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            LoadError::NotASharedObject {
                path: path.to_path_buf(),
                reason,
            }
        }
    };
    #[cfg(unix)]
    {
        use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
        // SAFETY: loading runs the library's initializers; loading a PKCS #11 module is
        // this function's documented purpose and the caller chose the path.
        let library =
            unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL) }.map_err(refused)?;
        let handle = library.into_raw();
        let owner = own_symbol::Owner::of(handle);
        // SAFETY: `handle` came from `into_raw` just above and is owned again from here on.
        let library = unsafe { Library::from_raw(handle) };
        Ok((library.into(), owner))
    }
    #[cfg(not(unix))]
    {
        // SAFETY: as above.
        let library = unsafe { libloading::Library::new(path) }.map_err(refused)?;
        Ok((library, own_symbol::Owner))
    }
}

/// The address of the module's own export `name`, or NULL (noting why).
fn symbol(
    library: &libloading::Library,
    owner: &own_symbol::Owner,
    name: &str,
    notes: &mut Vec<String>,
) -> *mut c_void {
    // SAFETY: the symbol is read as a plain address, never dereferenced or called here.
    let found = unsafe { library.get::<*mut c_void>(name.as_bytes()) };
    let Ok(found) = found else {
        notes.push(format!("{name}: not exported"));
        return ptr::null_mut();
    };
    let address = *found;
    if address.is_null() {
        notes.push(format!("{name}: exported as NULL"));
        return ptr::null_mut();
    }
    if !owner.owns(address) {
        notes.push(format!(
            "{name}: found only in a library the module links against; ignored"
        ));
        return ptr::null_mut();
    }
    address
}

/// `dlsym` on a library handle also searches the libraries it depends on; a module
/// linked against p11-kit would otherwise answer with p11-kit's `C_GetInterface`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod own_symbol {
    use core::ffi::{c_int, c_void};

    /// glibc's `RTLD_DL_LINKMAP` request for `dladdr1`.
    const RTLD_DL_LINKMAP: c_int = 2;

    /// The loaded library's `link_map` (NULL when glibc could not tell).
    pub(super) struct Owner(*mut c_void);

    impl Owner {
        /// Identifies the library behind the live `dlopen` handle `handle`.
        pub(super) fn of(handle: *mut c_void) -> Owner {
            let mut map: *mut c_void = core::ptr::null_mut();
            // SAFETY: `handle` is a live dlopen handle; RTLD_DI_LINKMAP writes one pointer.
            let rc = unsafe {
                libc::dlinfo(
                    handle,
                    libc::RTLD_DI_LINKMAP,
                    (&raw mut map).cast::<c_void>(),
                )
            };
            Owner(if rc == 0 { map } else { core::ptr::null_mut() })
        }

        /// Whether `address` lies in the library itself rather than in a dependency.
        pub(super) fn owns(&self, address: *mut c_void) -> bool {
            if self.0.is_null() {
                return true; // cannot tell: accept the symbol as dlsym found it
            }
            let mut info = core::mem::MaybeUninit::<libc::Dl_info>::uninit();
            let mut symbol_map: *mut c_void = core::ptr::null_mut();
            // SAFETY: `info` is writable; RTLD_DL_LINKMAP stores one link_map pointer into
            // `symbol_map`.
            let found = unsafe {
                libc::dladdr1(
                    address,
                    info.as_mut_ptr(),
                    (&raw mut symbol_map).cast::<*mut c_void>(),
                    RTLD_DL_LINKMAP,
                )
            };
            found == 0 || symbol_map.is_null() || symbol_map == self.0
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod own_symbol {
    use core::ffi::c_void;

    /// Elsewhere the loader's lookup is trusted (`GetProcAddress` only sees the module's
    /// own exports on Windows).
    pub(super) struct Owner;

    impl Owner {
        /// Nothing to record.
        #[cfg(unix)]
        pub(super) fn of(_handle: *mut c_void) -> Owner {
            Owner
        }

        /// Always true.
        pub(super) fn owns(&self, _address: *mut c_void) -> bool {
            true
        }
    }
}

/// The pointer and claimed version of a usable "PKCS 11" interface.
#[derive(Clone, Copy)]
struct Found {
    table: *const c_void,
    version: CK_VERSION,
}

/// Reads `C_GetInterfaceList` (two calls, retried while the count changes).
fn read_interface_list(
    list: unsafe extern "C" fn(CK_INTERFACE_PTR, *mut CK_ULONG) -> CK_RV,
    path: &Path,
    notes: &mut Vec<String>,
    failure: &mut Option<LoadError>,
) -> Vec<(Interface, Option<Found>)> {
    let mut count: CK_ULONG = 0;
    // SAFETY: a NULL list asks for the count, written to `count`.
    let rv = unsafe { list(ptr::null_mut(), &mut count) };
    if rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL {
        notes.push(format!("C_GetInterfaceList (count): {}", rv_text(rv)));
        *failure = Some(LoadError::EntryPointFailed {
            path: path.to_path_buf(),
            function: "C_GetInterfaceList",
            rv,
        });
        return Vec::new();
    }
    for _ in 0..MAX_LIST_ATTEMPTS {
        let capacity = match usize::try_from(count) {
            Ok(n) if n <= MAX_INTERFACES => n,
            _ => {
                notes.push(format!(
                    "C_GetInterfaceList: absurd interface count {count}; ignored"
                ));
                return Vec::new();
            }
        };
        let mut buffer = std::vec![CK_INTERFACE::default(); capacity];
        let mut written = count;
        // SAFETY: `buffer` holds `written` writable CK_INTERFACE entries.
        let rv = unsafe { list(buffer.as_mut_ptr(), &mut written) };
        if rv == CKR_BUFFER_TOO_SMALL {
            count = written.max(count.saturating_add(1));
            continue;
        }
        if rv != CKR_OK {
            notes.push(format!("C_GetInterfaceList: {}", rv_text(rv)));
            *failure = Some(LoadError::EntryPointFailed {
                path: path.to_path_buf(),
                function: "C_GetInterfaceList",
                rv,
            });
            return Vec::new();
        }
        if written > count {
            notes.push(format!(
                "C_GetInterfaceList: reported {written} interfaces in room for {count}; ignored"
            ));
            return Vec::new();
        }
        buffer.truncate(written as usize);
        return buffer
            .iter()
            // SAFETY: each entry was written by the module in this call.
            .map(|entry| unsafe { describe_interface(entry) })
            .collect();
    }
    notes.push("C_GetInterfaceList: the count never settled; ignored".into());
    Vec::new()
}

/// Describes one interface entry and, if it is a standard one, where its table is.
///
/// # Safety
/// `entry`'s pointers are NULL or point to what the standard says (a NUL-terminated name,
/// a function table beginning with a `CK_VERSION`).
unsafe fn describe_interface(entry: &CK_INTERFACE) -> (Interface, Option<Found>) {
    // SAFETY: forwarded from the caller.
    let name = unsafe { read_name(entry.pInterfaceName.cast_const()) };
    let table = entry.pFunctionList.cast_const();
    let version = (!table.is_null())
        // SAFETY: a non-NULL function table begins with its CK_VERSION.
        .then(|| unsafe { ptr::read_unaligned(table.cast::<CK_VERSION>()) });
    let found = match version {
        Some(version) if name == PKCS11_INTERFACE_NAME && matches!(version.major, 2 | 3) => {
            Some(Found { table, version })
        }
        _ => None,
    };
    let interface = Interface {
        name,
        version,
        flags: entry.flags,
    };
    (interface, found)
}

/// The highest-version standard interface of the list.
fn best_interface(interfaces: &[(Interface, Option<Found>)]) -> Option<Found> {
    interfaces
        .iter()
        .filter_map(|(_, found)| *found)
        .max_by_key(|found| (found.version.major, found.version.minor))
}

/// Asks `C_GetInterface` for the module's default "PKCS 11" interface.
fn default_interface(
    get: unsafe extern "C" fn(
        *mut crate::CK_UTF8CHAR,
        *mut CK_VERSION,
        *mut CK_INTERFACE_PTR,
        crate::CK_FLAGS,
    ) -> CK_RV,
    path: &Path,
    notes: &mut Vec<String>,
    failure: &mut Option<LoadError>,
) -> Option<Found> {
    let mut name = *b"PKCS 11\0";
    let mut interface: CK_INTERFACE_PTR = ptr::null_mut();
    // SAFETY: a NUL-terminated name, NULL version (the default), a writable out-pointer.
    let rv = unsafe { get(name.as_mut_ptr(), ptr::null_mut(), &mut interface, 0) };
    if rv != CKR_OK {
        notes.push(format!("C_GetInterface: {}", rv_text(rv)));
        *failure = Some(LoadError::EntryPointFailed {
            path: path.to_path_buf(),
            function: "C_GetInterface",
            rv,
        });
        return None;
    }
    if interface.is_null() {
        notes.push("C_GetInterface: CKR_OK with a NULL interface".into());
        *failure = Some(LoadError::NullTable {
            path: path.to_path_buf(),
            function: "C_GetInterface",
        });
        return None;
    }
    // SAFETY: a non-NULL interface from C_GetInterface points to a CK_INTERFACE.
    let entry = unsafe { ptr::read_unaligned(interface) };
    // SAFETY: the entry's pointers come from the module, as the standard describes.
    let (described, found) = unsafe { describe_interface(&entry) };
    if found.is_none() {
        notes.push(format!(
            "C_GetInterface: default interface {:?} has no usable table",
            described.name
        ));
        *failure = Some(LoadError::NullTable {
            path: path.to_path_buf(),
            function: "C_GetInterface",
        });
    }
    found
}

/// Calls `C_GetFunctionList`, checking the result for NULL.
fn function_list(
    get: unsafe extern "C" fn(*mut CK_FUNCTION_LIST_PTR) -> CK_RV,
    path: &Path,
) -> Result<*const CK_FUNCTION_LIST, LoadError> {
    let mut table: CK_FUNCTION_LIST_PTR = ptr::null_mut();
    // SAFETY: `table` is a writable out-pointer.
    let rv = unsafe { get(&mut table) };
    if rv != CKR_OK {
        return Err(LoadError::EntryPointFailed {
            path: path.to_path_buf(),
            function: "C_GetFunctionList",
            rv,
        });
    }
    if table.is_null() {
        return Err(LoadError::NullTable {
            path: path.to_path_buf(),
            function: "C_GetFunctionList",
        });
    }
    Ok(table.cast_const())
}

/// Reads a NUL-terminated name of at most [`MAX_INTERFACE_NAME`] bytes, lossily decoded.
///
/// # Safety
/// `name` is NULL or points to a NUL-terminated string.
unsafe fn read_name(name: *const u8) -> String {
    if name.is_null() {
        return String::new();
    }
    let mut bytes = Vec::new();
    for offset in 0..MAX_INTERFACE_NAME {
        // SAFETY: within the string, which ends at its NUL (not read past).
        let byte = unsafe { *name.add(offset) };
        if byte == 0 {
            break;
        }
        bytes.push(byte);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn rv_text(rv: CK_RV) -> String {
    format!(
        "{} (0x{rv:08X})",
        ckr_name(rv).unwrap_or("unknown CKR value")
    )
}
