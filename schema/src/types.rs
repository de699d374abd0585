//! Type descriptions: how a Rust type of the contract is written in TypeScript.
//!
//! The contract names only [`TypeInfo`]; today it is backed by `ts-rs` (any `T: ts_rs::TS`
//! implements it), and user types get it from `#[ipc_runtime::data]`, so user code never names the
//! backend and it can be swapped without touching a contract.

use std::any::TypeId;
use std::cell::RefCell;
use std::collections::HashSet;

use crate::model::{CapabilityLink, LargeInts, TypeDecl, TypeRef};

thread_local! {
    /// The capabilities reached by the type being described on this thread, if one is.
    static REACHED: RefCell<Option<Vec<CapabilityLink>>> = const { RefCell::new(None) };
}

/// Notes that the type being described holds a handle to the capability `link` names (called
/// by the handle type's description; nothing happens outside a description).
///
/// # Examples
///
/// ```
/// use ipc_schema::{CapabilityLink, Service, note_capability};
///
/// fn counter() -> &'static Service {
///     static SCHEMA: std::sync::OnceLock<Service> = std::sync::OnceLock::new();
///     SCHEMA.get_or_init(|| Service::builder("Counter", "counter").build())
/// }
/// note_capability(CapabilityLink::new("counter", counter));
/// ```
pub fn note_capability(link: CapabilityLink) {
    REACHED.with(|reached| {
        if let Some(reached) = reached.borrow_mut().as_mut() {
            if !reached.contains(&link) {
                reached.push(link);
            }
        }
    });
}

/// Runs `describe` and returns what it returns with the capabilities it reached.
pub(crate) fn reaching<R>(describe: impl FnOnce() -> R) -> (R, Vec<CapabilityLink>) {
    let outer = REACHED.with(|reached| reached.borrow_mut().replace(Vec::new()));
    /// Puts the outer description's list back, even if `describe` panics.
    struct Restore(Option<Option<Vec<CapabilityLink>>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(outer) = self.0.take() {
                REACHED.with(|reached| *reached.borrow_mut() = outer);
            }
        }
    }
    let restore = Restore(Some(outer));
    let described = describe();
    let found = REACHED
        .with(|reached| reached.borrow_mut().take())
        .unwrap_or_default();
    drop(restore);
    (described, found)
}

/// A type the contract can describe: its TypeScript expression and the declarations it needs.
///
/// # Examples
///
/// ```
/// use ipc_schema::{LargeInts, TypeInfo};
///
/// let (ty, decls) = <Vec<String> as TypeInfo>::describe("Vec<String>", LargeInts::Reject);
/// assert_eq!(ty.ts, "Array<string>");
/// assert!(decls.is_empty());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used in a contract: it has no TypeScript description",
    label = "`{Self}` is not described for the contract",
    note = "types of your own need `#[ipc_runtime::data]` on their definition (next to `#[derive(Serialize, Deserialize)]`)",
    note = "built-in types are described already: numbers, `bool`, `String`, `Vec<T>`, `Option<T>`, maps, tuples"
)]
pub trait TypeInfo {
    /// Describes the type: `rust` is the type as written in the trait, kept for messages.
    fn describe(rust: &str, rule: LargeInts) -> (TypeRef, Vec<TypeDecl>);
}

impl<T: ts_rs::TS + ?Sized + 'static> TypeInfo for T {
    fn describe(rust: &str, rule: LargeInts) -> (TypeRef, Vec<TypeDecl>) {
        let cfg = config(rule);
        let mut collector = DeclCollector {
            cfg: &cfg,
            seen: HashSet::new(),
            decls: Vec::new(),
        };
        ts_rs::TypeVisitor::visit::<T>(&mut collector);
        (TypeRef::new(rust, T::name(&cfg)), collector.decls)
    }
}

fn config(rule: LargeInts) -> ts_rs::Config {
    let large = match rule {
        LargeInts::Number => "number",
        _ => "bigint",
    };
    ts_rs::Config::new().with_large_int(large)
}

struct DeclCollector<'a> {
    cfg: &'a ts_rs::Config,
    seen: HashSet<TypeId>,
    decls: Vec<TypeDecl>,
}

impl ts_rs::TypeVisitor for DeclCollector<'_> {
    fn visit<T: ts_rs::TS + 'static + ?Sized>(&mut self) {
        if !self.seen.insert(TypeId::of::<T>()) {
            return;
        }
        // Only types with an export path have a declaration of their own; built-ins and
        // wrappers (`Vec`, `Option`, tuples) are written inline.
        if T::output_path().is_some() {
            self.decls.push(TypeDecl::new(
                T::ident(self.cfg),
                T::decl(self.cfg),
                T::docs(),
            ));
        }
        T::visit_dependencies(self);
        T::visit_generics(self);
    }
}
