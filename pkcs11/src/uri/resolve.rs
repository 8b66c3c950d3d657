//! Resolving a [`Pkcs11Uri`]: finding its module file, loading it, matching library,
//! slot and token information, finding its objects; and making the URI of a token or an
//! object.

use std::path::{Path, PathBuf};

use super::{Pkcs11Uri, UriObjectType};
use crate::attribute::{Attribute, AttributeResult, AttributeType, ObjectClass};
use crate::context::Pkcs11;
use crate::error::{Error, Result, Rv};
use crate::info::{ulong, LibraryInfo, SlotInfo};
use crate::object::ObjectHandle;
use crate::secret::Pin;
use crate::session::Session;
use crate::slot::{Slot, UserType};
use crate::token::TokenInfo;

/// Where `module-name` is looked up: p11-kit's module configuration directories, then
/// the module directories.
///
/// RFC 7512 leaves the lookup of a module name to the consumer. This crate follows
/// p11-kit's layout, so that the names p11-kit users know work:
/// 1. a p11-kit module configuration file `<name>.module` in one of the configuration
///    directories (the user's `$XDG_CONFIG_HOME/pkcs11/modules` or
///    `~/.config/pkcs11/modules`, then `/etc/pkcs11/modules`,
///    `/usr/share/p11-kit/modules`): its `module:` line names the file, relative names
///    being taken in the module directories (Debian's `softhsm2.module` says
///    `module: /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so`);
/// 2. else, in each module directory (`/usr/lib/<arch>-linux-gnu/pkcs11`,
///    `/usr/lib64/pkcs11`, `/usr/lib/pkcs11`, `/usr/local/lib/pkcs11` on Linux), the
///    files `<name>.so`, `lib<name>.so` and `<name>` (with the platform's suffix and
///    prefix elsewhere).
///
/// The first file that exists wins. Nothing is loaded by the lookup itself.
#[derive(Clone, Debug)]
pub struct ModuleLocator {
    config_dirs: Vec<PathBuf>,
    module_dirs: Vec<PathBuf>,
}

impl ModuleLocator {
    /// The system's directories, as described on [`ModuleLocator`].
    pub fn system() -> ModuleLocator {
        let mut config_dirs = Vec::new();
        if let Some(config) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
            config_dirs.push(PathBuf::from(config).join("pkcs11/modules"));
        } else if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            config_dirs.push(PathBuf::from(home).join(".config/pkcs11/modules"));
        }
        config_dirs.push(PathBuf::from("/etc/pkcs11/modules"));
        config_dirs.push(PathBuf::from("/usr/share/p11-kit/modules"));
        let mut module_dirs = Vec::new();
        if cfg!(target_os = "linux") {
            module_dirs.push(PathBuf::from(format!(
                "/usr/lib/{}-linux-gnu/pkcs11",
                std::env::consts::ARCH
            )));
        }
        for dir in [
            "/usr/lib64/pkcs11",
            "/usr/lib/pkcs11",
            "/usr/local/lib/pkcs11",
        ] {
            module_dirs.push(PathBuf::from(dir));
        }
        ModuleLocator {
            config_dirs,
            module_dirs,
        }
    }

    /// A locator searching only these directories.
    pub fn new(
        config_dirs: impl IntoIterator<Item = PathBuf>,
        module_dirs: impl IntoIterator<Item = PathBuf>,
    ) -> ModuleLocator {
        ModuleLocator {
            config_dirs: config_dirs.into_iter().collect(),
            module_dirs: module_dirs.into_iter().collect(),
        }
    }

    /// The file of the module called `name`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a name that is empty, `.`/`..` or contains a path
    /// separator or NUL; [`Error::NotFound`] listing where it looked.
    pub fn find(&self, name: &str) -> Result<PathBuf> {
        if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
            return Err(Error::InvalidInput {
                what: format!(
                    "module-name {name:?}: a module name has no directory part \
                     (use module-path for a file)"
                ),
            });
        }
        for dir in &self.config_dirs {
            let config = dir.join(format!("{name}.module"));
            if let Some(module) = read_module_line(&config) {
                let module = PathBuf::from(module);
                if module.is_absolute() {
                    if module.is_file() {
                        return Ok(module);
                    }
                } else if let Some(found) = self
                    .module_dirs
                    .iter()
                    .map(|d| d.join(&module))
                    .find(|p| p.is_file())
                {
                    return Ok(found);
                }
            }
        }
        let (prefix, suffix) = (std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
        let candidates = [
            format!("{name}{suffix}"),
            format!("{prefix}{name}{suffix}"),
            name.to_owned(),
        ];
        for dir in &self.module_dirs {
            for candidate in &candidates {
                let path = dir.join(candidate);
                if path.is_file() {
                    return Ok(path);
                }
            }
        }
        Err(Error::NotFound {
            what: format!(
                "module-name {name:?}: no `{name}.module` in {:?} and no {:?} in {:?}",
                self.config_dirs, candidates, self.module_dirs
            ),
        })
    }
}

/// The value of the `module:` line of a p11-kit module configuration file, if the file
/// exists and has one.
fn read_module_line(config: &Path) -> Option<String> {
    let text = std::fs::read_to_string(config).ok()?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "module")
            .then(|| value.trim().to_owned())
            .filter(|v| !v.is_empty())
    })
}

/// Whether `want` (if given) equals the blank-padded field, padding ignored on both
/// sides.
fn text_matches(want: &Option<String>, field: &[u8]) -> bool {
    want.as_ref()
        .is_none_or(|want| want.trim_end_matches(' ').as_bytes() == field)
}

/// The trimmed text of a padded field, as UTF-8.
fn padded_text(field: &'static str, bytes: &[u8]) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| Error::InvalidInput {
        what: format!("{field} is not UTF-8: a PKCS #11 URI cannot name it"),
    })
}

impl Pkcs11Uri {
    /// The module file the URI names: `module-path` when it is a file; when it is a
    /// directory, `module-name` looked up in it; otherwise `module-name` looked up by
    /// the [system locator](ModuleLocator::system). `None` when the URI names no module.
    ///
    /// # Errors
    /// As [`Pkcs11Uri::module_file_with`].
    pub fn module_file(&self) -> Result<Option<PathBuf>> {
        self.module_file_with(&ModuleLocator::system())
    }

    /// [`Pkcs11Uri::module_file`] with `module-name` looked up by `locator`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a relative `module-path` (RFC 7512 asks for an
    /// absolute one) or a `module-path` directory without a `module-name`;
    /// [`Error::NotFound`] from the lookup of `module-name`.
    pub fn module_file_with(&self, locator: &ModuleLocator) -> Result<Option<PathBuf>> {
        if let Some(path) = &self.module_path {
            let path = PathBuf::from(path);
            if !path.is_absolute() {
                return Err(Error::InvalidInput {
                    what: format!(
                        "module-path {}: RFC 7512 asks for an absolute path",
                        path.display()
                    ),
                });
            }
            if !path.is_dir() {
                return Ok(Some(path));
            }
            let Some(name) = &self.module_name else {
                return Err(Error::InvalidInput {
                    what: format!(
                        "module-path {} is a directory and the URI has no module-name",
                        path.display()
                    ),
                });
            };
            return ModuleLocator::new([path.clone()], [path])
                .find(name)
                .map(Some);
        }
        match &self.module_name {
            Some(name) => locator.find(name).map(Some),
            None => Ok(None),
        }
    }

    /// Whether the library attributes match `info` (absent attributes match anything;
    /// text is compared without the blank padding; `library-version=3` is 3.0).
    pub fn matches_library(&self, info: &LibraryInfo) -> bool {
        text_matches(
            &self.library_manufacturer,
            info.manufacturer().trimmed_bytes(),
        ) && text_matches(
            &self.library_description,
            info.description().trimmed_bytes(),
        ) && self
            .library_version
            .is_none_or(|v| v == info.library_version())
    }

    /// Whether the slot attributes match the slot `slot_id` described by `info`.
    pub fn matches_slot(&self, slot_id: ffi::CK_SLOT_ID, info: &SlotInfo) -> bool {
        self.slot_id.is_none_or(|id| id == ulong(slot_id))
            && text_matches(&self.slot_description, info.description().trimmed_bytes())
            && text_matches(&self.slot_manufacturer, info.manufacturer().trimmed_bytes())
    }

    /// Whether the token attributes (`token`, `manufacturer`, `serial`, `model`) match
    /// `info`.
    pub fn matches_token(&self, info: &TokenInfo) -> bool {
        text_matches(&self.token, info.label().trimmed_bytes())
            && text_matches(&self.manufacturer, info.manufacturer().trimmed_bytes())
            && text_matches(&self.serial, info.serial_number().trimmed_bytes())
            && text_matches(&self.model, info.model().trimmed_bytes())
    }

    /// The search template of the object attributes: `CKA_LABEL` from `object`,
    /// `CKA_ID` from `id`, `CKA_CLASS` from `type` (empty when there are none).
    pub fn object_template(&self) -> Vec<Attribute> {
        let mut template = Vec::new();
        if let Some(label) = &self.object {
            template.push(Attribute::Label(label.clone()));
        }
        if let Some(id) = &self.id {
            template.push(Attribute::Id(id.clone()));
        }
        if let Some(t) = self.object_type {
            template.push(Attribute::Class(ObjectClass::from_raw(t.class())));
        }
        template
    }

    /// The PIN the URI carries: `pin-value` if present, else the contents of the
    /// `pin-source` file (a `file:` URI — `file:/path`, `file:///path`,
    /// `file://localhost/path` — or a plain path), with one trailing line break
    /// removed. `None` when it has neither. The file's bytes are held zeroizing.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the source for a `pin-source` that is not a file
    /// (a program `|/usr/bin/ask-pin`, another scheme: read those yourself) or cannot be
    /// read.
    pub fn read_pin(&self) -> Result<Option<Pin>> {
        if let Some(pin) = &self.pin_value {
            return Ok(Some(pin.clone()));
        }
        let Some(source) = &self.pin_source else {
            return Ok(None);
        };
        let path = match source.strip_prefix("file:") {
            Some(rest) => match rest.strip_prefix("//") {
                // file://host/path: only the local host.
                Some(authority) => {
                    let slash = authority.find('/').unwrap_or(authority.len());
                    let host = &authority[..slash];
                    if !host.is_empty() && !host.eq_ignore_ascii_case("localhost") {
                        return Err(Error::InvalidInput {
                            what: format!("pin-source {source:?}: a file on another host"),
                        });
                    }
                    &authority[slash..]
                }
                None => rest,
            },
            None if source.contains(':') || source.starts_with('|') => {
                return Err(Error::InvalidInput {
                    what: format!(
                        "pin-source {source:?} is not a file: this crate reads only \
                         `file:` URIs and paths"
                    ),
                })
            }
            None => source.as_str(),
        };
        let mut bytes = std::fs::read(path).map_err(|e| Error::InvalidInput {
            what: format!("pin-source {source:?}: cannot read {path}: {e}"),
        })?;
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        Ok(Some(Pin::from_bytes(bytes)))
    }

    /// The URI of the library of `p11`: `library-manufacturer`, `library-description`
    /// and `library-version` from `C_GetInfo`, and `module-path` from the path it was
    /// opened with.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_GetInfo`; [`Error::InvalidInput`] if a field or the
    /// path is not UTF-8.
    #[doc(alias = "C_GetInfo")]
    pub fn for_library(p11: &Pkcs11) -> Result<Pkcs11Uri> {
        let info = p11.info()?;
        let path = p11.path().to_str().ok_or_else(|| Error::InvalidInput {
            what: format!("module path {} is not UTF-8", p11.path().display()),
        })?;
        Ok(Pkcs11Uri::new()
            .with_library_manufacturer(padded_text(
                "the library manufacturer",
                info.manufacturer().trimmed_bytes(),
            )?)
            .with_library_description(padded_text(
                "the library description",
                info.description().trimmed_bytes(),
            )?)
            .with_library_version(info.library_version())
            .with_module_path(path))
    }

    /// The URI of the token in `slot`: its label, manufacturer, model and serial number
    /// (`token`, `manufacturer`, `model`, `serial`), the attributes that identify a
    /// token across processes and slot renumbering.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_GetTokenInfo`; [`Error::InvalidInput`] if a field is
    /// not UTF-8.
    #[doc(alias = "C_GetTokenInfo")]
    pub fn for_token(slot: &Slot) -> Result<Pkcs11Uri> {
        let info = slot.token_info()?;
        Ok(Pkcs11Uri::new()
            .with_token(padded_text(
                "the token label",
                info.label().trimmed_bytes(),
            )?)
            .with_manufacturer(padded_text(
                "the token manufacturer",
                info.manufacturer().trimmed_bytes(),
            )?)
            .with_model(padded_text(
                "the token model",
                info.model().trimmed_bytes(),
            )?)
            .with_serial(padded_text(
                "the token serial number",
                info.serial_number().trimmed_bytes(),
            )?))
    }

    /// The URI of `object`: its token's (see [`Pkcs11Uri::for_token`]) with the
    /// object's label (`object`), `CKA_ID` (`id`) and class (`type`), each when the
    /// object has it (and, for the class, when a URI can name it).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_GetTokenInfo` or `C_GetAttributeValue`;
    /// [`Error::InvalidInput`] if the label is not UTF-8.
    #[doc(alias = "C_GetAttributeValue")]
    pub fn for_object(session: &Session, object: ObjectHandle) -> Result<Pkcs11Uri> {
        let slot = session.pkcs11().slot(session.slot_id());
        let mut uri = Pkcs11Uri::for_token(&slot)?;
        let values = session.get_attributes(
            object,
            &[
                AttributeType::Label,
                AttributeType::Id,
                AttributeType::Class,
            ],
        )?;
        for value in values {
            match value {
                AttributeResult::Value(Attribute::Label(label)) => uri.object = Some(label),
                AttributeResult::Value(Attribute::Id(id)) => uri.id = Some(id),
                AttributeResult::Value(Attribute::Class(class)) => {
                    uri.object_type = UriObjectType::from_class(class.raw());
                }
                AttributeResult::Value(Attribute::Raw { attribute_type, .. })
                    if attribute_type == AttributeType::Label =>
                {
                    return Err(Error::InvalidInput {
                        what: format!("the label of object {object:?} is not UTF-8"),
                    });
                }
                _ => {}
            }
        }
        Ok(uri)
    }
}

impl Pkcs11 {
    /// Opens the module a URI names (see [`Pkcs11Uri::module_file`]: `module-path`,
    /// or `module-name` looked up the way p11-kit does), like [`Pkcs11::open`].
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the URI names no module or a relative path;
    /// [`Error::NotFound`] if `module-name` is not found; then as [`Pkcs11::open`].
    #[doc(alias = "C_Initialize")]
    pub fn open_uri(uri: &Pkcs11Uri) -> Result<Pkcs11> {
        Pkcs11::open_uri_with(uri, &ModuleLocator::system())
    }

    /// [`Pkcs11::open_uri`] with `module-name` looked up by `locator`.
    ///
    /// # Errors
    /// As [`Pkcs11::open_uri`].
    #[doc(alias = "C_Initialize")]
    pub fn open_uri_with(uri: &Pkcs11Uri, locator: &ModuleLocator) -> Result<Pkcs11> {
        match uri.module_file_with(locator)? {
            Some(path) => Pkcs11::open(path),
            None => Err(Error::InvalidInput {
                what: format!("{uri} names no module (module-path or module-name)"),
            }),
        }
    }

    /// The slots matching the URI's library, slot and token attributes (every slot when
    /// it has none; none when the library attributes do not match this module). With
    /// token attributes only slots holding a matching token are returned; slots whose
    /// token vanishes while they are searched are skipped.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_GetInfo`, `C_GetSlotList`, `C_GetSlotInfo` or
    /// `C_GetTokenInfo`.
    #[doc(alias = "C_GetSlotList")]
    pub fn slots_matching(&self, uri: &Pkcs11Uri) -> Result<Vec<Slot>> {
        self.matching(uri, false)
    }

    /// The slots holding a token that match the URI (see [`Pkcs11::slots_matching`]):
    /// only slots with a token present are considered.
    ///
    /// # Errors
    /// As [`Pkcs11::slots_matching`].
    #[doc(alias = "C_GetSlotList")]
    pub fn tokens_matching(&self, uri: &Pkcs11Uri) -> Result<Vec<Slot>> {
        self.matching(uri, true)
    }

    /// The one slot whose token matches the URI.
    ///
    /// # Errors
    /// [`Error::NotFound`] or [`Error::MoreThanOne`] naming the URI (without its PIN);
    /// otherwise as [`Pkcs11::slots_matching`].
    #[doc(alias = "C_GetTokenInfo")]
    pub fn token_by_uri(&self, uri: &Pkcs11Uri) -> Result<Slot> {
        let mut found = self.tokens_matching(uri)?;
        match found.len() {
            1 => Ok(found.remove(0)),
            0 => Err(Error::NotFound {
                what: format!("a token matching {uri}"),
            }),
            n => Err(Error::MoreThanOne {
                what: format!("a token matching {uri} ({n} tokens match)"),
            }),
        }
    }

    fn matching(&self, uri: &Pkcs11Uri, need_token: bool) -> Result<Vec<Slot>> {
        if uri.has_library_attributes() && !uri.matches_library(&self.info()?) {
            return Ok(Vec::new());
        }
        let slots = if need_token || uri.has_token_attributes() {
            self.slots_with_token()?
        } else {
            self.slots()?
        };
        let mut found = Vec::new();
        for slot in slots {
            if uri.has_slot_attributes() && !uri.matches_slot(slot.id(), &slot.info()?) {
                continue;
            }
            if uri.has_token_attributes() {
                match slot.token_info() {
                    Ok(info) if uri.matches_token(&info) => {}
                    Ok(_) => continue,
                    // Removed or unusable since the slot list was read: not a match.
                    Err(Error::Module {
                        rv: Rv::TokenNotPresent | Rv::TokenNotRecognized | Rv::DeviceRemoved,
                        ..
                    }) => continue,
                    Err(other) => return Err(other),
                }
            }
            found.push(slot);
        }
        Ok(found)
    }
}

impl Session {
    /// The objects the URI names: those matching its `object`, `id` and `type` (every
    /// object visible to the session when it has none). When the URI has library, slot
    /// or token attributes that do not match this session's module, slot or token, no
    /// object matches. Private objects are found only after login (see
    /// [`Session::login_with_uri`]).
    ///
    /// # Errors
    /// As [`Session::find_all`]; and [`Error::Module`] naming `C_GetInfo`,
    /// `C_GetSlotInfo` or `C_GetTokenInfo` when those attributes are checked.
    #[doc(alias = "C_FindObjectsInit")]
    #[doc(alias = "C_FindObjects")]
    #[doc(alias = "C_FindObjectsFinal")]
    pub fn find_by_uri(&self, uri: &Pkcs11Uri) -> Result<Vec<ObjectHandle>> {
        let p11 = self.pkcs11();
        if uri.has_library_attributes() && !uri.matches_library(&p11.info()?) {
            return Ok(Vec::new());
        }
        let slot = p11.slot(self.slot_id());
        if uri.has_slot_attributes() && !uri.matches_slot(slot.id(), &slot.info()?) {
            return Ok(Vec::new());
        }
        if uri.has_token_attributes() && !uri.matches_token(&slot.token_info()?) {
            return Ok(Vec::new());
        }
        self.find_all(&uri.object_template())
    }

    /// Logs the user in with the URI's PIN (`pin-value`, else `pin-source`: see
    /// [`Pkcs11Uri::read_pin`]) unless already logged in. Returns whether the URI had a
    /// PIN; without one nothing is called.
    ///
    /// # Errors
    /// As [`Pkcs11Uri::read_pin`] and [`Session::ensure_logged_in`].
    #[doc(alias = "C_Login")]
    pub fn login_with_uri(&self, uri: &Pkcs11Uri) -> Result<bool> {
        match uri.read_pin()? {
            Some(pin) => {
                self.ensure_logged_in(UserType::User, &pin)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}
