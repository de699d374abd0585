//! Typed channel descriptors: a channel name bound to its argument and result types.
//!
//! The `#[channels]` macro emits one constant per method (`Todos::ADD`, `Todos::LOG`, ...), so
//! the low-level registry calls on [`Main`](crate::Main) and [`Renderer`](crate::Renderer) stay
//! type-checked too.

use std::fmt;
use std::marker::PhantomData;

/// An invoke channel: arguments `A` (a tuple, or [`NoArgs`](crate::NoArgs)), success `T`,
/// application error `E` (`Never` when the method is not fallible).
///
/// # Examples
///
/// ```
/// use ipc_runtime::Never;
/// use ipc_runtime::InvokeChannel;
///
/// const ADD: InvokeChannel<(String,), u32, Never> = InvokeChannel::new("todos:add");
/// assert_eq!(ADD.name(), "todos:add");
/// ```
pub struct InvokeChannel<A, T, E> {
    name: &'static str,
    types: PhantomData<fn(A) -> (T, E)>,
}

/// A send channel (fire-and-forget, renderer to main) with arguments `A`.
///
/// # Examples
///
/// ```
/// use ipc_runtime::SendChannel;
///
/// const LOG: SendChannel<(String,)> = SendChannel::new("todos:log");
/// assert_eq!(LOG.name(), "todos:log");
/// ```
pub struct SendChannel<A> {
    name: &'static str,
    types: PhantomData<fn(A)>,
}

/// An event channel (main to renderers) with payload arguments `A`.
///
/// # Examples
///
/// ```
/// use ipc_runtime::EventChannel;
///
/// const CHANGED: EventChannel<(u32,)> = EventChannel::new("todos:changed");
/// assert_eq!(CHANGED.name(), "todos:changed");
/// ```
pub struct EventChannel<A> {
    name: &'static str,
    types: PhantomData<fn(A)>,
}

macro_rules! descriptor_impls {
    ($ty:ident < $($param:ident),+ >) => {
        impl<$($param),+> $ty<$($param),+> {
            /// A descriptor for the channel `name`.
            pub const fn new(name: &'static str) -> Self {
                $ty { name, types: PhantomData }
            }

            /// The wire channel name.
            pub const fn name(&self) -> &'static str {
                self.name
            }
        }

        impl<$($param),+> Clone for $ty<$($param),+> {
            fn clone(&self) -> Self {
                *self
            }
        }

        impl<$($param),+> Copy for $ty<$($param),+> {}

        impl<$($param),+> fmt::Debug for $ty<$($param),+> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($ty), self.name)
            }
        }
    };
}

descriptor_impls!(InvokeChannel<A, T, E>);
descriptor_impls!(SendChannel<A>);
descriptor_impls!(EventChannel<A>);
