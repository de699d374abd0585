//! The contract as data: `{Trait}::schema()` lists the channels with their kinds, parameter
//! names and TypeScript types, docs and JavaScript names; the contract hash is 16 hex digits,
//! pinned to a literal for small fixed contracts (stable across builds), changes with anything
//! that changes the wire (a parameter type, a field of a struct used as an argument) and not
//! with docs or parameter names.
//!
//! Contracts that must differ in exactly one respect live in their own modules, with the same
//! trait name and namespace, so the only difference between their hashes is that respect.

// Most contracts here exist only for their schema: nothing handles or calls them.
#![allow(dead_code)]

mod common;

use common::Todos;
use ipc_runtime::schema::{MethodKind, Service, hash};

/// The documented hash function: 64-bit FNV-1a over the canonical form, as 16 lowercase hex
/// digits. Recomputed here so the test does not only compare the library with itself.
fn fnv1a64_hex(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

fn is_hash(text: &str) -> bool {
    text.len() == 16 && text.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
}

fn params(service: &Service, channel: &str) -> Vec<(String, String, String, String)> {
    service
        .method(channel)
        .unwrap_or_else(|| panic!("no method {channel}"))
        .params
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.js_name.clone(),
                p.ty.rust.clone(),
                p.ty.ts.clone(),
            )
        })
        .collect()
}

fn strings(items: &[(&str, &str, &str, &str)]) -> Vec<(String, String, String, String)> {
    items
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect()
}

#[test]
fn schema_lists_channels_kinds_and_docs_in_declaration_order() {
    let schema = Todos::schema();
    assert_eq!(schema.name, "Todos");
    assert_eq!(schema.namespace, "todos");
    assert_eq!(schema.docs, "Todo list backend.");
    let listed: Vec<(&str, MethodKind, &str, &str)> = schema
        .methods
        .iter()
        .map(|m| {
            (
                m.channel.as_str(),
                m.kind,
                m.name.as_str(),
                m.js_name.as_str(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("todos:add", MethodKind::Invoke, "add", "add"),
            ("todos:try_add", MethodKind::Invoke, "try_add", "tryAdd"),
            ("todos:toggle", MethodKind::Invoke, "toggle", "toggle"),
            ("todos:list", MethodKind::Invoke, "list", "list"),
            ("todos:count", MethodKind::Invoke, "count", "count"),
            ("todos:rename", MethodKind::Invoke, "rename", "rename"),
            ("todos:clear", MethodKind::Invoke, "clear", "clear"),
            ("todos:log", MethodKind::Send, "log", "log"),
            ("todos:changed", MethodKind::Event, "changed", "onChanged"),
            ("todos:cleared", MethodKind::Event, "cleared", "onCleared"),
            ("todos:renamed", MethodKind::Event, "renamed", "onRenamed"),
        ]
    );
    let add = schema.method("todos:add").unwrap();
    assert_eq!(add.docs, "Adds a todo and returns it.");
    assert_eq!(
        schema.method("todos:toggle").unwrap().docs,
        "Toggles a todo's `done` flag."
    );
    assert_eq!(
        schema.method("todos:changed").unwrap().docs,
        "Pushed to renderers whenever a todo changes."
    );
    assert!(schema.method("todos:nope").is_none());
    // The generated constants agree with the schema.
    assert_eq!(add.channel, Todos::ADD.name());
    assert_eq!(Todos::schema().methods.len(), 11);
}

#[test]
fn schema_lists_params_and_result_types_with_their_typescript_forms() {
    let schema = Todos::schema();
    assert_eq!(
        params(schema, "todos:add"),
        strings(&[("title", "title", "String", "string")])
    );
    assert_eq!(
        params(schema, "todos:rename"),
        strings(&[
            ("id", "id", "u32", "number"),
            ("title", "title", "String", "string")
        ])
    );
    assert_eq!(params(schema, "todos:list"), strings(&[]));
    assert_eq!(
        params(schema, "todos:changed"),
        strings(&[("todo", "todo", "Todo", "Todo")])
    );
    assert_eq!(params(schema, "todos:cleared"), strings(&[]));

    let list = schema.method("todos:list").unwrap();
    let output = list.output.as_ref().unwrap();
    assert_eq!(
        (output.rust.as_str(), output.ts.as_str()),
        ("Vec<Todo>", "Array<Todo>")
    );
    assert_eq!(list.error, None);

    let toggle = schema.method("todos:toggle").unwrap();
    assert_eq!(toggle.output.as_ref().unwrap().ts, "Todo");
    let error = toggle.error.as_ref().unwrap();
    assert_eq!(
        (error.rust.as_str(), error.ts.as_str()),
        ("TodoError", "TodoError")
    );

    let log = schema.method("todos:log").unwrap();
    assert_eq!((log.output.as_ref(), log.error.as_ref()), (None, None));
    let changed = schema.method("todos:changed").unwrap();
    assert_eq!(
        (changed.output.as_ref(), changed.error.as_ref()),
        (None, None)
    );

    // Named types carry their TypeScript declarations (and their docs).
    let todo = &schema.types["Todo"];
    assert!(
        todo.declaration.starts_with("type Todo = {"),
        "{}",
        todo.declaration
    );
    for field in ["id: number", "title: string", "done: boolean"] {
        assert!(
            todo.declaration.contains(field),
            "{field} in {}",
            todo.declaration
        );
    }
    assert!(
        todo.docs
            .as_deref()
            .unwrap_or("")
            .contains("One item of the todo list.")
    );
    let error = &schema.types["TodoError"];
    assert!(
        error.declaration.contains("\"kind\": \"NotFound\""),
        "{}",
        error.declaration
    );
    assert_eq!(
        schema.types.keys().collect::<Vec<_>>(),
        ["Todo", "TodoError"]
    );
}

/// Method and parameter names become JavaScript names (camelCase, `on` + name for events);
/// `#[rename]` changes only the wire channel.
mod naming {
    #[ipc_runtime::channels(namespace = "todo_list")]
    pub trait TodoList {
        /// Marks a todo done.
        async fn mark_done(&self, todo_id: u32, done_by_user: String) -> bool;
        /// Renamed on the wire only.
        #[rename = "archive-all"]
        async fn archive_all(&self);
        /// A send with a two-word name.
        #[send]
        fn report_progress(&self, percent_done: u32);
        /// An event with a two-word name.
        #[event]
        fn item_moved(&self, from_index: u32, to_index: u32);
    }

    /// No namespace given: the trait name in snake_case.
    #[ipc_runtime::channels]
    pub trait AppSettings {
        /// Reads one.
        async fn get(&self, key: String) -> Option<String>;
    }
}

#[test]
fn schema_derives_javascript_names_and_namespaces() {
    let schema = naming::TodoList::schema();
    assert_eq!(schema.namespace, "todo_list");
    let names: Vec<(&str, &str, &str)> = schema
        .methods
        .iter()
        .map(|m| (m.name.as_str(), m.js_name.as_str(), m.channel.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("mark_done", "markDone", "todo_list:mark_done"),
            ("archive_all", "archiveAll", "todo_list:archive-all"),
            (
                "report_progress",
                "reportProgress",
                "todo_list:report_progress"
            ),
            ("item_moved", "onItemMoved", "todo_list:item_moved"),
        ]
    );
    assert_eq!(
        params(schema, "todo_list:mark_done"),
        strings(&[
            ("todo_id", "todoId", "u32", "number"),
            ("done_by_user", "doneByUser", "String", "string"),
        ])
    );
    assert_eq!(
        params(schema, "todo_list:item_moved"),
        strings(&[
            ("from_index", "fromIndex", "u32", "number"),
            ("to_index", "toIndex", "u32", "number"),
        ])
    );
    assert_eq!(
        naming::TodoList::ARCHIVE_ALL.name(),
        "todo_list:archive-all"
    );

    let settings = naming::AppSettings::schema();
    assert_eq!(settings.namespace, "app_settings");
    assert_eq!(settings.methods[0].channel, "app_settings:get");
    assert_eq!(
        settings.methods[0].output.as_ref().unwrap().ts,
        "string | null"
    );
}

#[test]
fn the_hash_is_sixteen_hex_digits_over_the_canonical_form() {
    let schema = Todos::schema();
    assert!(is_hash(&schema.hash), "{}", schema.hash);
    assert_eq!(Todos::contract_hash(), schema.hash);
    assert_eq!(hash::contract_hash(schema), schema.hash);
    assert_eq!(fnv1a64_hex(&hash::canonical_form(schema)), schema.hash);
    assert!(is_hash(naming::TodoList::contract_hash()));
    assert_ne!(naming::TodoList::contract_hash(), Todos::contract_hash());
}

/// A small fixed contract with primitive types only.
mod pinned {
    /// A fixed contract whose hash is pinned below.
    #[ipc_runtime::channels(namespace = "pinned")]
    pub trait Pinned {
        /// Adds two numbers.
        async fn add(&self, a: u32, b: u32) -> u32;
        /// Greets, or refuses.
        async fn greet(&self, name: String) -> Result<String, String>;
        /// Resets.
        async fn reset(&self);
        /// Logs a line.
        #[send]
        fn log(&self, line: String, level: u8);
        /// Ticks.
        #[event]
        fn tick(&self, count: u32);
        /// Stopped.
        #[event]
        fn stopped(&self);
    }

    /// A point (a named type in the contract).
    #[ipc_runtime::data]
    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Point {
        pub x: i32,
        pub y: i32,
        pub label: Option<String>,
    }

    /// A fixed contract with a named type, whose hash is pinned below.
    #[ipc_runtime::channels(namespace = "shapes")]
    pub trait Shapes {
        /// Moves a point.
        async fn shift(&self, point: Point, by: i32) -> Point;
        /// Lists points.
        async fn all(&self) -> Vec<Point>;
    }
}

/// The contract hash is what two peers compare at the handshake to agree they were built from
/// the same contract, so it must be the same in every build, on every machine, with every
/// compiler. These literals were computed once and pinned.
///
/// If this test fails, the contract hash algorithm (or the canonical form it hashes, or the
/// type descriptions that feed it) has changed: every peer built before the change will refuse
/// (or be refused by) every peer built after it, although their contracts are the same. That is a
/// breaking change of the wire compatibility; do not just update the literals.
#[test]
fn the_hash_of_a_fixed_contract_is_pinned() {
    let schema = pinned::Pinned::schema();
    assert_eq!(
        hash::canonical_form(schema),
        "ipc-contract/1\n\
         namespace pinned\n\
         large_ints Reject\n\
         invoke pinned:add(number, number) -> number\n\
         invoke pinned:greet(string) -> string throws string\n\
         invoke pinned:reset()\n\
         send pinned:log(string, number)\n\
         event pinned:tick(number)\n\
         event pinned:stopped()\n"
    );
    assert_eq!(schema.hash, "fbe9ba6483278d8d");
    assert_eq!(fnv1a64_hex(&hash::canonical_form(schema)), schema.hash);
}

/// As above, for a contract with a named type: this also pins the TypeScript declaration text
/// the type descriptions produce (a change there changes every contract that uses a struct).
#[test]
fn the_hash_of_a_fixed_contract_with_a_named_type_is_pinned() {
    assert_eq!(pinned::Shapes::contract_hash(), "c47b48389aed770e");
}

/// Version 1 of a contract; the modules after it each change one thing.
mod v1 {
    /// An item of the shop.
    #[ipc_runtime::data]
    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Item {
        /// Its stock-keeping unit.
        pub sku: String,
        /// Its price in cents.
        pub price: u32,
    }

    /// The shop.
    #[ipc_runtime::channels(namespace = "shop")]
    pub trait Shop {
        /// Buys `count` of `item`.
        async fn buy(&self, item: Item, count: u32) -> bool;
        /// Looks an item up.
        async fn find(&self, sku: String) -> Option<Item>;
        /// A note.
        #[send]
        fn note(&self, text: String);
        /// Sold.
        #[event]
        fn sold(&self, item: Item);
    }
}

/// v1 with different docs everywhere and different parameter names.
mod docs_and_names_changed {
    /// Another description of the item.
    #[ipc_runtime::data]
    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Item {
        /// Its stock-keeping unit.
        pub sku: String,
        /// Its price in cents.
        pub price: u32,
    }

    /// Completely different trait docs.
    #[ipc_runtime::channels(namespace = "shop")]
    pub trait Shop {
        /// Purchases things (new wording).
        async fn buy(&self, thing: Item, how_many: u32) -> bool;
        async fn find(&self, code: std::string::String) -> Option<Item>;
        /// Reworded.
        #[send]
        fn note(&self, message: String);
        #[event]
        fn sold(&self, what: Item);
    }
}

/// v1 with `buy`'s `count` parameter a string.
mod param_type_changed {
    pub use super::v1::Item;

    /// The shop.
    #[ipc_runtime::channels(namespace = "shop")]
    pub trait Shop {
        /// Buys `count` of `item`.
        async fn buy(&self, item: Item, count: String) -> bool;
        /// Looks an item up.
        async fn find(&self, sku: String) -> Option<Item>;
        /// A note.
        #[send]
        fn note(&self, text: String);
        /// Sold.
        #[event]
        fn sold(&self, item: Item);
    }
}

/// v1 with `buy`'s `count` parameter signed (the same TypeScript `number`).
mod param_signedness_changed {
    pub use super::v1::Item;

    /// The shop.
    #[ipc_runtime::channels(namespace = "shop")]
    pub trait Shop {
        /// Buys `count` of `item`.
        async fn buy(&self, item: Item, count: i32) -> bool;
        /// Looks an item up.
        async fn find(&self, sku: String) -> Option<Item>;
        /// A note.
        #[send]
        fn note(&self, text: String);
        /// Sold.
        #[event]
        fn sold(&self, item: Item);
    }
}

/// Generates a module with v1's `Shop` trait around a different `Item`.
macro_rules! shop_with_item {
    ($module:ident, $item:item) => {
        mod $module {
            $item

            /// The shop.
            #[ipc_runtime::channels(namespace = "shop")]
            pub trait Shop {
                /// Buys `count` of `item`.
                async fn buy(&self, item: Item, count: u32) -> bool;
                /// Looks an item up.
                async fn find(&self, sku: String) -> Option<Item>;
                /// A note.
                #[send]
                fn note(&self, text: String);
                /// Sold.
                #[event]
                fn sold(&self, item: Item);
            }
        }
    };
}

shop_with_item!(
    same_item_again,
    /// An item of the shop.
    #[ipc_runtime::data]
    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Item {
        /// Its stock-keeping unit.
        pub sku: String,
        /// Its price in cents.
        pub price: u32,
    }
);

shop_with_item!(
    field_added,
    /// An item of the shop.
    #[ipc_runtime::data]
    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Item {
        /// Its stock-keeping unit.
        pub sku: String,
        /// Its price in cents.
        pub price: u32,
        /// Whether it is on sale.
        pub on_sale: bool,
    }
);

shop_with_item!(
    field_type_changed,
    /// An item of the shop.
    #[ipc_runtime::data]
    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Item {
        /// Its stock-keeping unit.
        pub sku: u32,
        /// Its price in cents.
        pub price: u32,
    }
);

shop_with_item!(
    field_renamed,
    /// An item of the shop.
    #[ipc_runtime::data]
    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Item {
        /// Its stock-keeping unit.
        pub code: String,
        /// Its price in cents.
        pub price: u32,
    }
);

shop_with_item!(
    field_docs_changed,
    /// An item of the shop.
    #[ipc_runtime::data]
    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Item {
        /// The SKU (reworded).
        pub sku: String,
        pub price: u32,
    }
);

#[test]
fn the_hash_is_the_same_for_the_same_contract_declared_twice() {
    assert_eq!(
        v1::Shop::contract_hash(),
        same_item_again::Shop::contract_hash()
    );
}

#[test]
fn the_hash_ignores_docs_and_parameter_names() {
    assert_eq!(
        v1::Shop::contract_hash(),
        docs_and_names_changed::Shop::contract_hash()
    );
    // ... which the schema still reports.
    assert_ne!(
        v1::Shop::schema().docs,
        docs_and_names_changed::Shop::schema().docs
    );
    assert_ne!(
        params(v1::Shop::schema(), "shop:buy"),
        params(docs_and_names_changed::Shop::schema(), "shop:buy")
    );
}

#[test]
fn the_hash_changes_when_a_parameter_type_changes() {
    assert_ne!(
        v1::Shop::contract_hash(),
        param_type_changed::Shop::contract_hash()
    );
}

#[test]
fn the_hash_changes_when_a_field_of_an_argument_struct_changes() {
    let base = v1::Shop::contract_hash();
    assert_ne!(base, field_added::Shop::contract_hash(), "field added");
    assert_ne!(
        base,
        field_type_changed::Shop::contract_hash(),
        "field type"
    );
    assert_ne!(base, field_renamed::Shop::contract_hash(), "field renamed");
}

/// The hash covers wire shapes (TypeScript forms): u32 and i32 are both `number` and hash
/// alike. Both codecs are self-describing, so the change never reinterprets bytes: a value out
/// of the receiver's range fails to decode instead (see the hash module's docs).
#[test]
fn a_numeric_signedness_change_keeps_the_wire_shape_and_the_hash() {
    assert_eq!(
        v1::Shop::contract_hash(),
        param_signedness_changed::Shop::contract_hash()
    );
    let five = ipc_runtime::Codec::Binary.encode(&(5u32,)).unwrap();
    assert_eq!(
        ipc_runtime::Codec::Binary.decode::<(i32,)>(&five).unwrap(),
        (5,)
    );
    let big = ipc_runtime::Codec::Binary.encode(&(u32::MAX,)).unwrap();
    assert!(ipc_runtime::Codec::Binary.decode::<(i32,)>(&big).is_err());
}

/// The hash module says doc comments are left out of the hash; a field's doc comment is too.
#[test]
fn the_hash_ignores_field_docs_of_argument_structs() {
    assert_eq!(
        v1::Shop::contract_hash(),
        field_docs_changed::Shop::contract_hash()
    );
}

mod defaulted {
    /// A filter whose optional parts a caller may leave out.
    #[ipc_runtime::data]
    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Filter {
        /// Required: no default.
        pub text: String,
        /// Required too: `null` must be sent, serde has no default for it.
        pub limit: Option<u32>,
        /// May be left out: serde fills in `None`.
        #[serde(default)]
        pub tag: Option<String>,
        /// Told otherwise by the user: left alone.
        #[serde(default)]
        #[ts(optional = false)]
        pub owner: Option<String>,
    }

    /// Every field has a default.
    #[ipc_runtime::data]
    #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(default)]
    pub struct Page {
        pub after: Option<u32>,
        pub size: u32,
    }

    #[ipc_runtime::channels(namespace = "search")]
    pub trait Search {
        async fn find(&self, filter: Filter, page: Page) -> Vec<String>;
    }
}

/// `Option<T>` fields serde defaults are optional properties in TypeScript (a JavaScript caller
/// may leave them out), and the argument checks let them be absent; the others stay required.
#[test]
fn defaulted_option_fields_are_optional_properties() {
    let schema = defaulted::Search::schema();
    let filter = &schema.types["Filter"].declaration;
    assert!(
        filter.contains("limit: number /* u32 */ | null"),
        "{filter}"
    );
    assert!(filter.contains("tag?: string | null"), "{filter}");
    assert!(filter.contains("owner: string | null"), "{filter}");
    let page = &schema.types["Page"].declaration;
    assert!(page.contains("after?: number /* u32 */ | null"), "{page}");
    assert!(page.contains("size: number /* u32 */"), "{page}");
    // What a JavaScript caller may send: `{ text: "x", limit: null }` without `tag`.
    let filter: defaulted::Filter =
        serde_json::from_value(serde_json::json!({"text": "x", "limit": null, "owner": null}))
            .unwrap();
    assert_eq!(filter.tag, None);
}
