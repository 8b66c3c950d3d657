//! The plan: which faults this copy of the module shows, in the grammar the crate
//! documentation describes (`src/lib.rs`), and the effects it has on one call.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Once, RwLock};
use std::time::Duration;

use pkcs11_sys::{CK_ATTRIBUTE_TYPE, CK_RV, CK_ULONG};

use crate::calls::{Function, FunctionSet};

/// The environment variable read when the file name carries no plan.
const PLAN_VARIABLE: &str = "PKCS11_FAULT_PLAN";
/// The file name prefix that carries a plan: `fault-<plan>[--<tag>].so`.
const FILE_PREFIX: &str = "fault-";
/// What separates the plan from a free tag in a file name.
const TAG_SEPARATOR: &str = "--";

/// How the negotiation entry points behave (see the table in the crate documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Negotiation {
    #[default]
    Normal,
    ListOnly3_0,
    ListNotSupported,
    ListNullTables,
    InterfaceOkNull,
    ListCountLies,
    ListCountGrows,
    FunctionListFails,
    FunctionListNull,
}

impl Negotiation {
    const ALL: [(Negotiation, &'static str); 9] = [
        (Negotiation::Normal, "normal"),
        (Negotiation::ListOnly3_0, "list-only-3-0"),
        (Negotiation::ListNotSupported, "list-not-supported"),
        (Negotiation::ListNullTables, "list-null-tables"),
        (Negotiation::InterfaceOkNull, "interface-ok-null"),
        (Negotiation::ListCountLies, "list-count-lies"),
        (Negotiation::ListCountGrows, "list-count-grows"),
        (Negotiation::FunctionListFails, "function-list-fails"),
        (Negotiation::FunctionListNull, "function-list-null"),
    ];
}

/// What the module does in a fork child of the process that initialized it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum ForkMode {
    /// Like SoftHSMv2: the child inherits everything (sessions, login state); its
    /// `C_Initialize` answers `CKR_CRYPTOKI_ALREADY_INITIALIZED`.
    #[default]
    Inherit = 0,
    /// Like NSS: every call answers `CKR_DEVICE_ERROR` until the child calls
    /// `C_Initialize`, which starts afresh.
    DeviceError = 1,
}

/// A lie about a length or a count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lie {
    /// Exactly this value.
    Exact(CK_ULONG),
    /// The truth plus this much.
    Plus(CK_ULONG),
    /// The truth minus this much (at least zero).
    Minus(CK_ULONG),
    /// 2^40 (or the largest value below `CK_UNAVAILABLE_INFORMATION` where `CK_ULONG`
    /// is narrower).
    Huge,
    /// `CK_UNAVAILABLE_INFORMATION`.
    Unavailable,
    /// The truth plus 16 bytes (entries) per call of the rule: a buffer of the size last
    /// reported is never enough.
    Grow,
}

impl Lie {
    /// The value reported for a true value of `truth` at the rule's `hit`-th call.
    pub(crate) fn apply(self, truth: CK_ULONG, hit: u64) -> CK_ULONG {
        match self {
            Lie::Exact(value) => value,
            Lie::Plus(more) => truth.saturating_add(more),
            Lie::Minus(less) => truth.saturating_sub(less),
            Lie::Huge => CK_ULONG::try_from(1_u64 << 40).unwrap_or(CK_ULONG::MAX - 1),
            Lie::Unavailable => pkcs11_sys::CK_UNAVAILABLE_INFORMATION,
            Lie::Grow => {
                let grown = CK_ULONG::try_from(hit.saturating_mul(16)).unwrap_or(CK_ULONG::MAX);
                truth.saturating_add(grown).min(CK_ULONG::MAX - 1)
            }
        }
    }
}

/// How the action `notify` calls the session's `CK_NOTIFY`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NotifyMode {
    /// On the calling thread, before the work; `CKR_CANCEL` from the callback makes the
    /// call answer `CKR_FUNCTION_CANCELED`.
    Inline,
    /// From a new thread of the module, while (or after) the call runs.
    Thread,
}

/// What one rule (or all rules matching one call) do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Actions {
    /// Answer this value without doing the work.
    pub(crate) rv: Option<CK_RV>,
    /// Report lengths and counts falsely.
    pub(crate) len: Option<Lie>,
    /// Answer as usual but write nothing through the caller's pointers.
    pub(crate) nowrite: bool,
    /// Write garbage (non-UTF-8 bytes, NULs) into text fields and values.
    pub(crate) garbage: bool,
    /// Report this version (major, minor).
    pub(crate) version: Option<(u8, u8)>,
    /// Sleep this long at the start of the call.
    pub(crate) sleep: Option<Duration>,
    /// Call the session's `CK_NOTIFY` (`CKN_SURRENDER`).
    pub(crate) notify: Option<NotifyMode>,
    /// Restrict `len`, `garbage` and `nowrite` of `C_GetAttributeValue` to this attribute.
    pub(crate) attr: Option<CK_ATTRIBUTE_TYPE>,
}

impl Actions {
    /// `self`, with what `later` sets taking precedence.
    fn merged(self, later: Actions) -> Actions {
        Actions {
            rv: later.rv.or(self.rv),
            len: later.len.or(self.len),
            nowrite: self.nowrite || later.nowrite,
            garbage: self.garbage || later.garbage,
            version: later.version.or(self.version),
            sleep: later.sleep.or(self.sleep),
            notify: later.notify.or(self.notify),
            attr: later.attr.or(self.attr),
        }
    }
}

/// The faults of one call: the merged actions of the rules that matched, and the hit
/// number (calls of the function since the plan was set) that [`Lie::Grow`] uses.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Effects {
    pub(crate) actions: Actions,
    pub(crate) hit: u64,
}

/// Which calls of its function a rule applies to: from the `first`-th, `count` of them
/// (all later ones for `None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct When {
    first: u64,
    count: Option<u64>,
}

impl When {
    const ALWAYS: When = When {
        first: 1,
        count: None,
    };

    fn matches(self, hit: u64) -> bool {
        hit >= self.first && self.count.is_none_or(|count| hit - self.first < count)
    }
}

/// One rule: `<function>:<actions>[@<when>]`.
#[derive(Debug)]
struct Rule {
    /// `None` for `*` (every function).
    function: Option<Function>,
    when: When,
    actions: Actions,
    /// Calls of the function since the rule was set.
    hits: AtomicU64,
}

/// A parsed plan.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// The initial plan (file name or environment) did not parse: every negotiation
    /// entry point answers `CKR_FUNCTION_FAILED`, so a misspelt plan never passes for a
    /// working one.
    pub(crate) invalid: bool,
    pub(crate) negotiation: Negotiation,
    pub(crate) fork: ForkMode,
    pub(crate) noop: bool,
    /// Functions whose table slots are NULL.
    pub(crate) nulls: FunctionSet,
    rules: Vec<Arc<Rule>>,
}

impl Plan {
    /// Parses `text`, adding its items to `self`.
    fn add(&mut self, text: &str) -> Result<(), String> {
        for item in text
            .split(';')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            self.add_item(item)
                .map_err(|error| format!("plan item `{item}`: {error}"))?;
        }
        Ok(())
    }

    fn add_item(&mut self, item: &str) -> Result<(), String> {
        if let Some((function, rest)) = item.split_once(':') {
            return self.add_rule(function.trim(), rest.trim());
        }
        if let Some(mode) = item.strip_prefix("fork=") {
            self.fork = match mode {
                "softhsm" | "inherit" => ForkMode::Inherit,
                "nss" | "device-error" => ForkMode::DeviceError,
                other => return Err(format!("unknown fork mode `{other}`")),
            };
            return Ok(());
        }
        match item {
            "noop" => self.noop = true,
            // Kept as names: the negotiation scenarios of the first loader tests.
            "null-slots" => self.nulls |= Function::GetInfo.bit(),
            "function-list-claims-3" => {
                self.negotiation = Negotiation::ListNotSupported;
                self.rules.push(Arc::new(Rule {
                    function: Some(Function::GetFunctionList),
                    when: When::ALWAYS,
                    actions: Actions {
                        version: Some((3, 2)),
                        ..Actions::default()
                    },
                    hits: AtomicU64::new(0),
                }));
            }
            name => {
                let (negotiation, _) = Negotiation::ALL
                    .into_iter()
                    .find(|(_, known)| *known == name)
                    .ok_or_else(|| "unknown preset".to_owned())?;
                self.negotiation = negotiation;
            }
        }
        Ok(())
    }

    fn add_rule(&mut self, function: &str, rest: &str) -> Result<(), String> {
        let function = match function {
            "*" => None,
            name => Some(
                Function::from_name(name).ok_or_else(|| format!("unknown function `{name}`"))?,
            ),
        };
        let (actions, when) = match rest.split_once('@') {
            Some((actions, when)) => (actions, Some(parse_when(when.trim())?)),
            None => (rest, None),
        };
        let mut parsed = Actions::default();
        let mut null = false;
        for action in actions.split(',').map(str::trim) {
            let (key, value) = match action.split_once('=') {
                Some((key, value)) => (key.trim(), Some(value.trim())),
                None => (action, None),
            };
            match (key, value) {
                ("rv", Some(value)) => parsed.rv = Some(parse_ckr(value)?),
                ("len" | "count", Some(value)) => parsed.len = Some(parse_lie(value)?),
                ("nowrite", None) => parsed.nowrite = true,
                ("garbage", None) => parsed.garbage = true,
                ("null", None) => null = true,
                ("version", Some(value)) => parsed.version = Some(parse_version(value)?),
                ("sleep", Some(value)) => parsed.sleep = Some(parse_duration(value)?),
                ("notify", None) => parsed.notify = Some(NotifyMode::Inline),
                ("notify", Some("thread")) => parsed.notify = Some(NotifyMode::Thread),
                ("attr", Some(value)) => parsed.attr = Some(parse_attribute(value)?),
                _ => return Err(format!("unknown action `{action}`")),
            }
        }
        if null {
            let function = function.ok_or("`null` needs a function name, not `*`")?;
            if parsed != Actions::default() || when.is_some() {
                return Err("`null` takes no other action and no `@`".into());
            }
            self.nulls |= function.bit();
            return Ok(());
        }
        self.rules.push(Arc::new(Rule {
            function,
            when: when.unwrap_or(When::ALWAYS),
            actions: parsed,
            hits: AtomicU64::new(0),
        }));
        Ok(())
    }

    /// The functions some rule applies to (all of them if a rule says `*`).
    fn hot(&self) -> FunctionSet {
        self.rules.iter().fold(0, |set, rule| {
            set | rule.function.map_or(FunctionSet::MAX, Function::bit)
        })
    }
}

/// A number: decimal, or hexadecimal with `0x`.
fn parse_number(text: &str) -> Result<u64, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(&hex.replace('_', ""), 16),
        None => text.replace('_', "").parse(),
    };
    parsed.map_err(|_| format!("`{text}` is not a number"))
}

fn parse_ulong(text: &str) -> Result<CK_ULONG, String> {
    CK_ULONG::try_from(parse_number(text)?).map_err(|_| format!("`{text}` exceeds CK_ULONG"))
}

/// `CKR_DEVICE_ERROR`, `0x30` or `48`.
fn parse_ckr(text: &str) -> Result<CK_RV, String> {
    if text.starts_with("CKR_") {
        return pkcs11_sys::CKR_NAMES
            .iter()
            .find(|(_, name)| *name == text)
            .map(|(value, _)| *value)
            .ok_or_else(|| format!("unknown return value `{text}`"));
    }
    parse_ulong(text)
}

/// `CKA_VALUE`, `0x11` or `17`.
fn parse_attribute(text: &str) -> Result<CK_ATTRIBUTE_TYPE, String> {
    if text.starts_with("CKA_") {
        return pkcs11_sys::CKA_NAMES
            .iter()
            .find(|(_, name)| *name == text)
            .map(|(value, _)| *value)
            .ok_or_else(|| format!("unknown attribute `{text}`"));
    }
    parse_ulong(text)
}

fn parse_lie(text: &str) -> Result<Lie, String> {
    Ok(match text {
        "huge" => Lie::Huge,
        "unavailable" => Lie::Unavailable,
        "grow" => Lie::Grow,
        _ => match (text.strip_prefix('+'), text.strip_prefix('-')) {
            (Some(more), _) => Lie::Plus(parse_ulong(more)?),
            (_, Some(less)) => Lie::Minus(parse_ulong(less)?),
            _ => Lie::Exact(parse_ulong(text)?),
        },
    })
}

/// `3.2`.
fn parse_version(text: &str) -> Result<(u8, u8), String> {
    let (major, minor) = text
        .split_once('.')
        .ok_or_else(|| format!("`{text}` is not a version <major>.<minor>"))?;
    let byte = |part: &str| {
        part.parse::<u8>()
            .map_err(|_| format!("`{text}` is not a version <major>.<minor>"))
    };
    Ok((byte(major)?, byte(minor)?))
}

/// `200ms` or `2s`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    if let Some(ms) = text.strip_suffix("ms") {
        return Ok(Duration::from_millis(parse_number(ms)?));
    }
    if let Some(s) = text.strip_suffix('s') {
        return Ok(Duration::from_secs(parse_number(s)?));
    }
    Err(format!("`{text}` is not a duration (`200ms`, `2s`)"))
}

/// `3` (the third call), `3+` (the third and later), `3*2` (the third and fourth).
fn parse_when(text: &str) -> Result<When, String> {
    let positive = |text: &str| match parse_number(text)? {
        0 => Err("calls are counted from 1".to_owned()),
        n => Ok(n),
    };
    if let Some(first) = text.strip_suffix('+') {
        return Ok(When {
            first: positive(first)?,
            count: None,
        });
    }
    if let Some((first, count)) = text.split_once('*') {
        return Ok(When {
            first: positive(first)?,
            count: Some(positive(count)?),
        });
    }
    Ok(When {
        first: positive(text)?,
        count: Some(1),
    })
}

// ---------------------------------------------------------------------------------------
// The current plan
// ---------------------------------------------------------------------------------------

/// The current plan (read on every call that has rules; replaced by the control
/// functions).
static PLAN: RwLock<Option<Arc<Plan>>> = RwLock::new(None);
/// The functions that some rule of the current plan applies to: the fast path for the
/// others.
static HOT: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
/// The current plan's `noop`.
static NOOP: AtomicBool = AtomicBool::new(false);
/// The current plan's [`ForkMode`].
static FORK: AtomicU8 = AtomicU8::new(0);
/// Loads the initial plan once.
static LOADED: Once = Once::new();

/// Makes `plan` the current plan.
fn install(plan: Plan) {
    let hot = plan.hot();
    HOT[0].store(hot as u64, Ordering::Release);
    HOT[1].store((hot >> 64) as u64, Ordering::Release);
    NOOP.store(plan.noop, Ordering::Release);
    FORK.store(plan.fork as u8, Ordering::Release);
    *PLAN.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(plan));
}

/// Loads the initial plan (file name, else environment, else empty) if not done yet.
fn ensure_loaded() {
    LOADED.call_once(|| install(initial()));
}

/// The plan from the file name or the environment.
fn initial() -> Plan {
    let text = match own_file().and_then(|path| from_file_name(path.file_name()?)) {
        Some(text) => Some(text),
        None => match std::env::var(PLAN_VARIABLE) {
            Ok(text) => Some(text),
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(_)) => {
                return Plan {
                    invalid: true,
                    ..Plan::default()
                }
            }
        },
    };
    let mut plan = Plan::default();
    if let Some(text) = text {
        if plan.add(&text).is_err() {
            return Plan {
                invalid: true,
                ..Plan::default()
            };
        }
    }
    plan
}

/// The plan text carried by the file name `fault-<plan>[--<tag>].<ext>`, if any.
fn from_file_name(file_name: &OsStr) -> Option<String> {
    let file_name = file_name.to_str()?;
    let stem = file_name.strip_prefix(FILE_PREFIX)?;
    let stem = stem
        .rsplit_once('.')
        .map_or(stem, |(plan, _extension)| plan);
    let plan = stem
        .split_once(TAG_SEPARATOR)
        .map_or(stem, |(plan, _tag)| plan);
    Some(plan.to_owned())
}

/// The current plan.
pub(crate) fn current() -> Arc<Plan> {
    ensure_loaded();
    let plan = PLAN.read().unwrap_or_else(|e| e.into_inner());
    plan.clone().unwrap_or_default()
}

/// Replaces the plan with `text` (`append`: adds `text`'s items to the current plan,
/// whose rules keep counting). On error the plan is unchanged.
pub(crate) fn set(text: &str, append: bool) -> Result<(), String> {
    ensure_loaded();
    let mut plan = Plan::default();
    if append {
        let current = current();
        plan = Plan {
            invalid: false,
            negotiation: current.negotiation,
            fork: current.fork,
            noop: current.noop,
            nulls: current.nulls,
            rules: current.rules.clone(),
        };
    }
    plan.add(text)?;
    install(plan);
    Ok(())
}

/// Whether the plan says `noop`.
#[inline]
pub(crate) fn noop() -> bool {
    NOOP.load(Ordering::Acquire)
}

/// The plan's fork mode.
pub(crate) fn fork_mode() -> ForkMode {
    ensure_loaded();
    match FORK.load(Ordering::Acquire) {
        1 => ForkMode::DeviceError,
        _ => ForkMode::Inherit,
    }
}

/// The faults of this call of `function`, if any rule applies to it.
pub(crate) fn effects(function: Function) -> Option<Effects> {
    ensure_loaded();
    let bit = function as usize;
    if HOT[bit / 64].load(Ordering::Acquire) & (1 << (bit % 64)) == 0 {
        return None;
    }
    let plan = current();
    let mut effects: Option<Effects> = None;
    for rule in &plan.rules {
        if rule.function.is_some_and(|f| f != function) {
            continue;
        }
        let hit = rule.hits.fetch_add(1, Ordering::Relaxed) + 1;
        if rule.when.matches(hit) {
            let before = effects.unwrap_or_default();
            effects = Some(Effects {
                actions: before.actions.merged(rule.actions),
                hit: before.hit.max(hit),
            });
        }
    }
    effects
}

/// The path this copy of the library was loaded from, as the dynamic loader knows it.
#[cfg(unix)]
fn own_file() -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;

    /// Any address inside this library will do.
    static ANCHOR: u8 = 0;
    let mut info = core::mem::MaybeUninit::<libc::Dl_info>::uninit();
    // SAFETY: `ANCHOR` is an address in this library; `info` is writable.
    let found = unsafe { libc::dladdr((&raw const ANCHOR).cast(), info.as_mut_ptr()) };
    if found == 0 {
        return None;
    }
    // SAFETY: dladdr succeeded, so it filled `info`.
    let info = unsafe { info.assume_init() };
    if info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: `dli_fname` is the loader's NUL-terminated name of the library, alive as
    // long as the library is loaded (we copy it at once).
    let name = unsafe { core::ffi::CStr::from_ptr(info.dli_fname) };
    Some(PathBuf::from(OsStr::from_bytes(name.to_bytes())))
}

/// Elsewhere only the environment variable selects a plan.
#[cfg(not(unix))]
fn own_file() -> Option<PathBuf> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Plan, String> {
        let mut plan = Plan::default();
        plan.add(text).map(|()| plan)
    }

    #[test]
    fn presets_and_settings() {
        for (negotiation, name) in Negotiation::ALL {
            assert_eq!(parse(name).unwrap().negotiation, negotiation);
        }
        let plan = parse(" noop ; fork=nss; null-slots;").unwrap();
        assert!(plan.noop);
        assert_eq!(plan.fork, ForkMode::DeviceError);
        assert_eq!(plan.nulls, Function::GetInfo.bit());
        assert!(parse("no-such-plan").is_err());
        assert!(parse("fork=maybe").is_err());
        assert!(parse("").unwrap().rules.is_empty());
    }

    #[test]
    fn rules() {
        let plan = parse(
            "C_Sign:rv=0x30;C_GetAttributeValue:len=huge,attr=CKA_VALUE@2;\
             C_Digest:sleep=200ms;C_GetTokenInfo:garbage;C_Login:rv=CKR_PIN_INCORRECT@3*2;\
             C_FindObjects:count=+5@2+;C_Verify:null;*:notify=thread",
        )
        .unwrap();
        assert_eq!(plan.nulls, Function::Verify.bit());
        let rules: Vec<_> = plan.rules.iter().map(|r| (r.function, r.when)).collect();
        assert_eq!(rules[0], (Some(Function::Sign), When::ALWAYS));
        assert_eq!(
            rules[1].1,
            When {
                first: 2,
                count: Some(1)
            }
        );
        assert_eq!(
            rules[4].1,
            When {
                first: 3,
                count: Some(2)
            }
        );
        assert_eq!(
            rules[5].1,
            When {
                first: 2,
                count: None
            }
        );
        assert_eq!(rules[6].0, None);
        assert_eq!(plan.rules[0].actions.rv, Some(0x30));
        assert_eq!(plan.rules[1].actions.len, Some(Lie::Huge));
        assert_eq!(plan.rules[1].actions.attr, Some(pkcs11_sys::CKA_VALUE));
        assert_eq!(
            plan.rules[2].actions.sleep,
            Some(Duration::from_millis(200))
        );
        assert!(plan.rules[3].actions.garbage);
        assert_eq!(
            plan.rules[4].actions.rv,
            Some(pkcs11_sys::CKR_PIN_INCORRECT)
        );
        assert_eq!(plan.rules[5].actions.len, Some(Lie::Plus(5)));
        assert_eq!(plan.rules[6].actions.notify, Some(NotifyMode::Thread));
        assert_eq!(plan.hot(), FunctionSet::MAX);
        for bad in [
            "C_Nope:rv=1",
            "C_Sign:rv=CKR_NOPE",
            "C_Sign:len=many",
            "C_Sign:rv=1@0",
            "C_Sign:null,rv=1",
            "*:null",
            "C_Sign:version=3",
            "C_Sign:sleep=3m",
            "C_Sign:explode",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn when_counts_calls() {
        let when = |text| parse_when(text).unwrap();
        let hits = |w: When| (1..=6).filter(|&n| w.matches(n)).collect::<Vec<_>>();
        assert_eq!(hits(When::ALWAYS), [1, 2, 3, 4, 5, 6]);
        assert_eq!(hits(when("2")), [2]);
        assert_eq!(hits(when("2+")), [2, 3, 4, 5, 6]);
        assert_eq!(hits(when("2*3")), [2, 3, 4]);
    }

    #[test]
    fn lies() {
        assert_eq!(Lie::Plus(5).apply(10, 1), 15);
        assert_eq!(Lie::Minus(50).apply(10, 1), 0);
        assert_eq!(Lie::Exact(3).apply(10, 1), 3);
        assert_eq!(Lie::Unavailable.apply(10, 1), CK_ULONG::MAX);
        assert!(Lie::Grow.apply(10, 2) > Lie::Grow.apply(10, 1));
        assert!(Lie::Huge.apply(10, 1) >= 1 << 31);
    }

    #[test]
    fn plans_come_from_file_names() {
        let plan = |name: &str| from_file_name(OsStr::new(name));
        assert_eq!(plan("fault-null-slots.so").as_deref(), Some("null-slots"));
        assert_eq!(
            plan("fault-list-only-3-0.dylib").as_deref(),
            Some("list-only-3-0")
        );
        assert_eq!(plan("fault-normal--test-7.so").as_deref(), Some("normal"));
        assert_eq!(
            plan("fault-C_GetInfo:version=9.9--x.so").as_deref(),
            Some("C_GetInfo:version=9.9")
        );
        assert_eq!(plan("libpkcs11_fault_module.so"), None);
    }

    #[cfg(unix)]
    #[test]
    fn finds_its_own_file() {
        // In a unit test the "library" is the test executable itself.
        let own = own_file().expect("dladdr names the object");
        let exe = std::env::current_exe().unwrap();
        assert_eq!(own.file_name(), exe.file_name());
    }
}
