//! Contract evolution: every difference between two versions of a contract, each judged
//! compatible or breaking for a peer built from the old version talking to one built from the
//! new (a renderer not yet updated, and its updated main).
//!
//! Values are judged by who writes and who reads them. Main reads what a renderer sends
//! (arguments of invokes, sends and sync calls, a request's answer) and the renderer reads what
//! main sends (results and errors, events, a request's arguments); a port's messages go both
//! ways. A reader takes what it knows: a field it does not know is ignored (serde's default), a
//! field it needs must be sent, a variant it does not know is an error, and a number must fit its
//! range. So a field added as optional, or a variant only ever read by the newer side, is
//! compatible; a field removed that the older side still needs, or a variant the older side may
//! receive, is breaking.
//!
//! # Examples
//!
//! ```
//! use ipc_schema::diff::{Verdict, diff};
//! use ipc_schema::{Method, MethodKind, Service};
//!
//! let old = Service::builder("Todos", "todos")
//!     .method(Method::new("add", "todos:add", MethodKind::Invoke).param_raw("title", "String", "string"))
//!     .build();
//! let new = Service::builder("Todos", "todos")
//!     .method(Method::new("add", "todos:add", MethodKind::Invoke).param_raw("title", "String", "string"))
//!     .method(Method::new("list", "todos:list", MethodKind::Invoke).output_raw("Vec<String>", "Array<string>"))
//!     .build();
//! let changes = diff(&old, &new);
//! assert_eq!(changes.len(), 1);
//! assert_eq!(changes[0].verdict, Verdict::Compatible);
//! assert!(changes[0].to_string().contains("todos:list"));
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::js::shape::{self, Shape};
use crate::model::{Method, MethodKind, Service, TypeDecl, TypeRef};

/// Whether a peer built from the old contract still works with one built from the new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// It does: what each side sends, the other reads.
    Compatible,
    /// It does not (or not always): a call, a value or a variant would be refused.
    Breaking,
}

/// One difference between two versions of a contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Where: the channel and the part of it (`todos:add, argument 1 (title), field due`), or
    /// the contract itself.
    pub location: String,
    /// What changed, and why that is the verdict.
    pub what: String,
    /// Compatible or breaking.
    pub verdict: Verdict,
}

impl Change {
    /// Whether the change breaks a peer built from the old contract.
    pub fn is_breaking(&self) -> bool {
        self.verdict == Verdict::Breaking
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = match self.verdict {
            Verdict::Compatible => "compatible",
            Verdict::Breaking => "breaking",
        };
        write!(f, "{verdict:<10} {}: {}", self.location, self.what)
    }
}

/// Every difference between `old` and `new` (the same contract, two versions), in contract
/// order: the contract's own settings, then each channel, then each capability it reaches.
/// Documentation is not compared.
pub fn diff(old: &Service, new: &Service) -> Vec<Change> {
    let mut changes = Changes::default();
    contract(&mut changes, old, new, &new.namespace);
    let old_capabilities: BTreeMap<&str, &Service> = old
        .capabilities
        .iter()
        .map(|c| (c.namespace.as_str(), c))
        .collect();
    let new_capabilities: BTreeMap<&str, &Service> = new
        .capabilities
        .iter()
        .map(|c| (c.namespace.as_str(), c))
        .collect();
    for (namespace, old_capability) in &old_capabilities {
        match new_capabilities.get(namespace) {
            Some(new_capability) => {
                contract(&mut changes, old_capability, new_capability, namespace);
            }
            None => changes.breaking(
                format!("capability {namespace}"),
                "removed: handles the older side holds or expects no longer exist".into(),
            ),
        }
    }
    for namespace in new_capabilities.keys() {
        if !old_capabilities.contains_key(namespace) {
            changes.compatible(
                format!("capability {namespace}"),
                "added: only the newer side hands its handles out".into(),
            );
        }
    }
    changes.0
}

#[derive(Default)]
struct Changes(Vec<Change>);

impl Changes {
    fn push(&mut self, location: String, what: String, verdict: Verdict) {
        self.0.push(Change {
            location,
            what,
            verdict,
        });
    }

    fn breaking(&mut self, location: String, what: String) {
        self.push(location, what, Verdict::Breaking);
    }

    fn compatible(&mut self, location: String, what: String) {
        self.push(location, what, Verdict::Compatible);
    }
}

fn contract(changes: &mut Changes, old: &Service, new: &Service, label: &str) {
    if old.namespace != new.namespace {
        changes.breaking(
            format!("contract {label}"),
            format!(
                "namespace changed from `{}` to `{}`: every channel has another name",
                old.namespace, new.namespace
            ),
        );
    }
    if old.large_ints != new.large_ints {
        changes.breaking(
            format!("contract {label}"),
            format!(
                "64-bit integers changed from {:?} to {:?}: JavaScript peers read them as another type",
                old.large_ints, new.large_ints
            ),
        );
    }
    if old.policy != new.policy {
        changes.compatible(
            format!("contract {label}"),
            "policy changed: the wire is the same; a renderer the new policy refuses gets \
             `forbidden`"
                .into(),
        );
    }
    // Channels are matched by their name on the wire, the part after the namespace.
    let wire = |service: &Service, method: &Method| {
        method
            .channel
            .strip_prefix(service.namespace.as_str())
            .and_then(|rest| rest.strip_prefix(':'))
            .unwrap_or(&method.channel)
            .to_string()
    };
    let old_methods: BTreeMap<String, &Method> =
        old.methods.iter().map(|m| (wire(old, m), m)).collect();
    let new_methods: BTreeMap<String, &Method> =
        new.methods.iter().map(|m| (wire(new, m), m)).collect();
    for method in &old.methods {
        let key = wire(old, method);
        match new_methods.get(&key) {
            Some(new_method) => channel(changes, (old, method), (new, new_method)),
            None => removed(changes, method),
        }
    }
    for method in &new.methods {
        if !old_methods.contains_key(&wire(new, method)) {
            added(changes, method);
        }
    }
}

fn removed(changes: &mut Changes, method: &Method) {
    let location = method.channel.clone();
    match method.kind {
        MethodKind::Event => changes.compatible(
            location,
            "event removed: older renderers still listen, and hear nothing".into(),
        ),
        MethodKind::Request => changes.compatible(
            location,
            "request removed: main no longer asks; older renderers keep an unused handler".into(),
        ),
        kind => changes.breaking(
            location,
            format!(
                "{} removed: an older renderer still calls it and gets `no_handler`",
                kind.as_str()
            ),
        ),
    }
}

fn added(changes: &mut Changes, method: &Method) {
    let location = method.channel.clone();
    match method.kind {
        MethodKind::Request => changes.breaking(
            location,
            "request added: main asks older renderers, which have no handler for it".into(),
        ),
        MethodKind::Event => changes.compatible(
            location,
            "event added: older renderers do not subscribe to it".into(),
        ),
        kind => changes.compatible(
            location,
            format!("{} added: older renderers never call it", kind.as_str()),
        ),
    }
}

/// Which way a value travels between the two versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// The older side writes it and the newer reads it (a renderer's arguments to main).
    ToNew,
    /// The newer side writes it and the older reads it (main's results and events).
    ToOld,
    /// Both ways (a port's messages).
    Both,
}

fn channel(changes: &mut Changes, old: (&Service, &Method), new: (&Service, &Method)) {
    let ((old_service, old_method), (new_service, new_method)) = (old, new);
    let location = new_method.channel.clone();
    if old_method.kind != new_method.kind {
        changes.breaking(
            location,
            format!(
                "kind changed from {} to {}: the two sides use the channel differently",
                old_method.kind.as_str(),
                new_method.kind.as_str()
            ),
        );
        return;
    }
    // Which way arguments and results travel: a request is main's call to the renderer.
    let (arguments, results) = match new_method.kind {
        MethodKind::Request | MethodKind::Event => (Flow::ToOld, Flow::ToNew),
        _ => (Flow::ToNew, Flow::ToOld),
    };
    if old_method.params.len() != new_method.params.len() {
        changes.breaking(
            location.clone(),
            format!(
                "{} arguments instead of {}: arguments are positional, and their count is checked",
                new_method.params.len(),
                old_method.params.len()
            ),
        );
    } else {
        for (at, (old_param, new_param)) in
            old_method.params.iter().zip(&new_method.params).enumerate()
        {
            let here = format!("{location}, argument {} ({})", at + 1, new_param.name);
            if old_param.name != new_param.name {
                changes.compatible(
                    here.clone(),
                    format!(
                        "renamed from `{}`: arguments travel by position, not by name",
                        old_param.name
                    ),
                );
            }
            values(
                changes,
                &here,
                (&old_param.ty, &old_service.types),
                (&new_param.ty, &new_service.types),
                arguments,
            );
        }
    }
    for (what, old_ty, new_ty) in [
        ("result", &old_method.output, &new_method.output),
        ("error", &old_method.error, &new_method.error),
    ] {
        let here = format!("{location}, {what}");
        match (old_ty, new_ty) {
            (Some(old_ty), Some(new_ty)) => values(
                changes,
                &here,
                (old_ty, &old_service.types),
                (new_ty, &new_service.types),
                results,
            ),
            (None, None) => {}
            (None, Some(new_ty)) if what == "error" => changes.breaking(
                here,
                format!(
                    "the method may now fail with `{}`, which older callers cannot read",
                    new_ty.rust
                ),
            ),
            (Some(_), None) if what == "error" => changes.compatible(
                here,
                "the method no longer fails with an application error".into(),
            ),
            _ => changes.breaking(
                here,
                format!("{what} added or removed: the two sides expect different answers"),
            ),
        }
    }
    if old_method.policy != new_method.policy {
        changes.compatible(
            location.clone(),
            "policy changed: the wire is the same; a renderer the new policy refuses gets \
             `forbidden`"
                .into(),
        );
    }
    if old_method.timeout_ms != new_method.timeout_ms {
        changes.compatible(
            location,
            format!(
                "sync deadline changed from {} ms to {} ms",
                old_method.sync_timeout_ms(),
                new_method.sync_timeout_ms()
            ),
        );
    }
}

type Typed<'a> = (&'a TypeRef, &'a BTreeMap<String, TypeDecl>);

fn values(changes: &mut Changes, location: &str, old: Typed<'_>, new: Typed<'_>, flow: Flow) {
    let old_shape = shape::of(old.0, old.1);
    let new_shape = shape::of(new.0, new.1);
    let mut found = Vec::new();
    compare(&old_shape, &new_shape, flow, "", &mut found);
    for (path, what, verdict) in found {
        let location = if path.is_empty() {
            location.to_string()
        } else {
            format!("{location}, {path}")
        };
        changes.push(location, what, verdict);
    }
}

type Found = Vec<(String, String, Verdict)>;

fn join(path: &str, part: &str) -> String {
    if path.is_empty() {
        part.to_string()
    } else {
        format!("{path}.{part}")
    }
}

/// What the older and the newer side make of one value, by the flow's reader and writer.
fn compare(old: &Shape, new: &Shape, flow: Flow, path: &str, found: &mut Found) {
    if flow == Flow::Both {
        let mut both = Vec::new();
        compare(old, new, Flow::ToNew, path, &mut both);
        compare(old, new, Flow::ToOld, path, &mut both);
        let mut seen = BTreeSet::new();
        for item in both {
            if seen.insert((item.0.clone(), item.1.clone())) {
                found.push(item);
            }
        }
        return;
    }
    if old == new {
        return;
    }
    // The writer's shape and the reader's.
    let (writer, reader, writes) = match flow {
        Flow::ToNew => (old, new, "the older side"),
        _ => (new, old, "the newer side"),
    };
    let reads = if flow == Flow::ToNew {
        "the newer side"
    } else {
        "the older side"
    };
    let breaking = |found: &mut Found, what: String| {
        found.push((path.to_string(), what, Verdict::Breaking));
    };
    let compatible = |found: &mut Found, what: String| {
        found.push((path.to_string(), what, Verdict::Compatible));
    };
    match (writer, reader) {
        (Shape::Any, _) | (_, Shape::Any) => {}
        (Shape::Struct(written), Shape::Struct(read)) => {
            for (name, shape, optional) in read {
                match written.iter().find(|(field, ..)| field == name) {
                    Some((_, written_shape, written_optional)) => {
                        if *written_optional && !optional && !admits_null(shape) {
                            breaking(
                                found,
                                format!(
                                    "field `{name}` may be left out by {writes}, and {reads} needs it"
                                ),
                            );
                        }
                        compare_directed(written_shape, shape, flow, &join(path, name), found);
                    }
                    None if *optional || admits_null(shape) => compatible(
                        found,
                        format!(
                            "field `{name}` is optional for {reads}, and {writes} does not send it"
                        ),
                    ),
                    None => breaking(
                        found,
                        format!(
                            "field `{name}` is required by {reads}, and {writes} does not send it"
                        ),
                    ),
                }
            }
            for (name, ..) in written {
                if !read.iter().any(|(field, ..)| field == name) {
                    compatible(
                        found,
                        format!("field `{name}` is sent by {writes} and ignored by {reads}"),
                    );
                }
            }
        }
        (Shape::Int(writer_min, writer_max), Shape::Int(reader_min, reader_max)) => {
            if writer_min >= reader_min && writer_max <= reader_max {
                compatible(
                    found,
                    format!(
                        "integer range {writer_min}..={writer_max} written fits {reader_min}..={reader_max} read"
                    ),
                );
            } else {
                breaking(
                    found,
                    format!(
                        "{writes} may send an integer in {writer_min}..={writer_max}, and {reads} takes {reader_min}..={reader_max}"
                    ),
                );
            }
        }
        (Shape::Int(..), Shape::Number) => compatible(
            found,
            "an integer is written where any number is read".into(),
        ),
        (Shape::Array(written), Shape::Array(read))
        | (Shape::Stream(written), Shape::Stream(read)) => {
            compare_directed(written, read, flow, &join(path, "item"), found);
        }
        (Shape::Map(written_key, written), Shape::Map(read_key, read)) => {
            compare_directed(written_key, read_key, flow, &join(path, "key"), found);
            compare_directed(written, read, flow, &join(path, "value"), found);
        }
        (Shape::Tuple(written), Shape::Tuple(read)) => {
            if written.len() != read.len() {
                breaking(
                    found,
                    format!(
                        "a tuple of {} items is written and one of {} is read",
                        written.len(),
                        read.len()
                    ),
                );
            } else {
                for (at, (written, read)) in written.iter().zip(read).enumerate() {
                    compare_directed(written, read, flow, &join(path, &at.to_string()), found);
                }
            }
        }
        (Shape::Port(written_out, written_in), Shape::Port(read_out, read_in)) => {
            // Messages go both ways: each must be read by whichever side receives it.
            let (old_port, new_port) = match flow {
                Flow::ToNew => ((written_out, written_in), (read_out, read_in)),
                _ => ((read_out, read_in), (written_out, written_in)),
            };
            compare(
                old_port.0,
                new_port.0,
                Flow::Both,
                &join(path, "sent"),
                found,
            );
            compare(
                old_port.1,
                new_port.1,
                Flow::Both,
                &join(path, "received"),
                found,
            );
        }
        (Shape::Handle(written), Shape::Handle(read)) => {
            if written != read {
                breaking(
                    found,
                    format!("a handle to capability `{written}` where `{read}` is expected"),
                );
            }
        }
        (written, read) if is_alternatives(written) || is_alternatives(read) => {
            alternatives(written, read, flow, path, (writes, reads), found);
        }
        (written, read) => breaking(
            found,
            format!(
                "type changed: {writes} writes {} and {reads} reads {}",
                written.to_js(),
                read.to_js()
            ),
        ),
    }
}

/// `compare` for a part whose writer and reader are already known (`written` is the writer's).
fn compare_directed(written: &Shape, read: &Shape, flow: Flow, path: &str, found: &mut Found) {
    match flow {
        Flow::ToNew => compare(written, read, flow, path, found),
        _ => compare(read, written, flow, path, found),
    }
}

/// Whether a field of this shape may be absent when read (serde reads a missing `Option` as
/// `None`).
fn admits_null(shape: &Shape) -> bool {
    match shape {
        Shape::Null => true,
        Shape::Union(items) => items.iter().any(admits_null),
        _ => false,
    }
}

fn is_alternatives(shape: &Shape) -> bool {
    matches!(shape, Shape::Union(_) | Shape::OneOf(_) | Shape::Null)
}

/// A shape as the alternatives a value of it may be: a union's, a literal set's values, or
/// itself alone.
fn alternatives_of(shape: &Shape) -> Vec<Shape> {
    match shape {
        Shape::Union(items) => items.iter().flat_map(alternatives_of).collect(),
        Shape::OneOf(values) => values
            .iter()
            .map(|v| Shape::OneOf(vec![v.clone()]))
            .collect(),
        other => vec![other.clone()],
    }
}

/// How an alternative is known: a literal by its value, a tagged variant by its tag, an
/// externally tagged one by its key, anything else by its kind.
fn key_of(shape: &Shape) -> String {
    match shape {
        Shape::OneOf(values) => values.join("|"),
        Shape::Struct(fields) => {
            if let Some((name, Shape::OneOf(values), _)) = fields
                .iter()
                .find(|(_, shape, _)| matches!(shape, Shape::OneOf(v) if v.len() == 1))
            {
                return format!("{name}={}", values.join("|"));
            }
            if fields.len() == 1 {
                return format!("{{{}}}", fields[0].0);
            }
            "object".into()
        }
        Shape::Null => "null".into(),
        other => {
            let js = other.to_js();
            js.split(',').next().unwrap_or_default().to_string()
        }
    }
}

fn describe(shape: &Shape) -> String {
    match shape {
        Shape::OneOf(values) => values.join(" | "),
        Shape::Null => "null".into(),
        other => format!("the variant {}", key_of(other)),
    }
}

fn alternatives(
    written: &Shape,
    read: &Shape,
    flow: Flow,
    path: &str,
    (writes, reads): (&str, &str),
    found: &mut Found,
) {
    let written = alternatives_of(written);
    let read = alternatives_of(read);
    for alternative in &written {
        let key = key_of(alternative);
        match read.iter().find(|r| key_of(r) == key) {
            Some(known) => compare_directed(alternative, known, flow, path, found),
            None => found.push((
                path.to_string(),
                format!(
                    "{writes} may send {}, which {reads} does not know",
                    describe(alternative)
                ),
                Verdict::Breaking,
            )),
        }
    }
    for alternative in &read {
        let key = key_of(alternative);
        if !written.iter().any(|w| key_of(w) == key) {
            found.push((
                path.to_string(),
                format!(
                    "{reads} also takes {}, which {writes} never sends",
                    describe(alternative)
                ),
                Verdict::Compatible,
            ));
        }
    }
}
