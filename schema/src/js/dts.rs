//! TypeScript declarations: `<key>.d.ts` for `window.<key>` and `client.d.mts` for the browser
//! client.

use super::model::{CapabilityModel, MethodModel, Model, ServiceModel};
use super::shape;
use super::text::jsdoc;
use crate::model::MethodKind;

/// Whether the error types are interfaces (window: they may be plain objects) or the client
/// module's classes.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Flavor {
    Window,
    Client,
}

pub(super) fn render_window(model: &Model<'_>) -> String {
    let mut out = model.header("//");
    out.push_str(&format!(
        "//\n// Types of `window.{}`, exposed by the generated preload.js. Include this file in the\n\
         // renderer's compilation (tsconfig `include`, or `/// <reference path=\"…\" />`).\n\n",
        model.key
    ));
    body(model, Flavor::Window, &mut out);
    out.push_str("declare global {\n  interface Window {\n");
    out.push_str(&jsdoc(&[root_docs(model)], "    "));
    out.push_str(&format!(
        "    readonly {}: {};\n",
        model.key,
        root_type(model)
    ));
    out.push_str("  }\n}\n\nexport {};\n");
    out
}

pub(super) fn render_client(model: &Model<'_>) -> String {
    let mut out = model.header("//");
    out.push_str(
        "//\n// Types of the generated client.mjs (the browser client over a WebSocket).\n\n",
    );
    body(model, Flavor::Client, &mut out);
    let root = root_type(model);
    out.push_str(&jsdoc(&["Options of `connect`."], ""));
    out.push_str("export interface ConnectOptions {\n");
    for (docs, field) in [
        (
            "Added to the URL as `?token=`, which the main checks when the WebSocket opens.",
            "readonly token?: string;",
        ),
        (
            "The renderer's label on the Rust side (`Caller::label`); default `\"browser\"`.",
            "readonly label?: string;",
        ),
        (
            "The WebSocket class to use; default `globalThis.WebSocket`.",
            "readonly WebSocket?: new (url: string | URL) => WebSocket;",
        ),
        (
            "How long to wait for the main's hello; default 10000.",
            "readonly handshakeTimeoutMs?: number;",
        ),
        (
            "The largest frame accepted from the main, in bytes; default 4 MiB.",
            "readonly maxFrame?: number;",
        ),
        (
            "The largest message accepted from the main in chunks, in bytes; default 64 MiB.",
            "readonly maxMessage?: number;",
        ),
        (
            "Called once when an open connection ends.",
            "readonly onClose?: (error: IpcFrameworkError) => void;",
        ),
    ] {
        out.push_str(&jsdoc(&[docs], "  "));
        out.push_str(&format!("  {field}\n"));
    }
    out.push_str("}\n\n");
    out.push_str(&jsdoc(
        &[
            "Connects to the main over a WebSocket and resolves to the API once the handshake is done.",
            "",
            "@throws {IpcFrameworkError} `version_mismatch` when the main has another version of a contract, `disconnected` when the socket fails.",
        ],
        "",
    ));
    out.push_str(&format!(
        "export declare function connect(url: string | URL, options?: ConnectOptions): Promise<{root}>;\n\n"
    ));
    out.push_str(&jsdoc(
        &["Closes the connection behind `api`; its pending calls fail with `disconnected`."],
        "",
    ));
    out.push_str(&format!(
        "export declare function close(api: {root}, reason?: string): void;\n"
    ));
    out
}

fn root_type(model: &Model<'_>) -> String {
    if model.services.len() == 1 {
        model.services[0].api_type.clone()
    } else {
        "IpcApi".into()
    }
}

fn root_docs(model: &Model<'_>) -> String {
    if model.services.len() == 1 {
        model.services[0].service.docs.clone()
    } else {
        "The IPC API: one namespace per contract.".into()
    }
}

/// Named types, error and option types, and one API interface per service.
fn body(model: &Model<'_>, flavor: Flavor, out: &mut String) {
    for decl in model.types.values() {
        // ts-rs gives the docs as a finished `/** … */` block.
        match decl.docs.as_deref().map(str::trim) {
            Some(docs) if docs.starts_with("/**") => {
                out.push_str(docs);
                out.push('\n');
            }
            Some(docs) => out.push_str(&jsdoc(&[docs], "")),
            None => {}
        }
        // ts-rs leaves trailing spaces before its line breaks.
        let declaration: Vec<&str> = decl.declaration.trim().lines().map(str::trim_end).collect();
        let declaration = declaration.join("\n");
        if !declaration.starts_with("export ") {
            out.push_str("export ");
        }
        out.push_str(&declaration);
        out.push_str("\n\n");
    }

    out.push_str(&jsdoc(
        &["The framework error codes (docs/PROTOCOL.md, section 6)."],
        "",
    ));
    out.push_str("export type IpcErrorCode =\n");
    for code in crate::naming::FRAMEWORK_ERROR_CODES {
        out.push_str(&format!("  | \"{code}\"\n"));
    }
    out.pop();
    out.push_str(";\n\n");

    let (app_head, framework_head, app_note) = match flavor {
        Flavor::Window => (
            "export interface IpcAppError<E = unknown> extends Error {",
            "export interface IpcFrameworkError extends Error {",
            "\nWith context isolation on Electron older than 35 (no `contextBridge.executeInMainWorld`),\nerrors reach the page as plain frozen objects with these fields: test `name`, not `instanceof`.",
        ),
        Flavor::Client => (
            "export declare class IpcAppError<E = unknown> extends Error {",
            "export declare class IpcFrameworkError extends Error {",
            "",
        ),
    };
    out.push_str(&jsdoc(
        &[format!(
            "The handler's own error: the `Err` value of a fallible method, as the contract types it.{app_note}"
        )],
        "",
    ));
    out.push_str(app_head);
    out.push_str("\n  readonly name: \"IpcAppError\";\n");
    out.push_str(&jsdoc(&["The channel that failed."], "  "));
    out.push_str("  readonly channel: string;\n");
    out.push_str(&jsdoc(&["The application error value."], "  "));
    out.push_str("  readonly data: E;\n}\n\n");

    out.push_str(&jsdoc(
        &["A failure of the IPC machinery rather than of the handler: see `code`."],
        "",
    ));
    out.push_str(framework_head);
    out.push_str("\n  readonly name: \"IpcFrameworkError\";\n");
    for (docs, field) in [
        ("The stable error code.", "readonly code: IpcErrorCode;"),
        ("The channel concerned.", "readonly channel?: string;"),
        (
            "Why (for `bad_arguments`, `protocol`, `disconnected`, `forbidden`, ...).",
            "readonly reason?: string;",
        ),
        (
            "The limit that was hit (`too_large`, `too_many_in_flight`, `too_many_connections`, `too_many_ports`).",
            "readonly limit?: number;",
        ),
        (
            "The size that was refused (`too_large`).",
            "readonly size?: number;",
        ),
        (
            "The deadline that passed (`timeout`).",
            "readonly afterMs?: number;",
        ),
        (
            "This side's version (`version_mismatch`).",
            "readonly ours?: string;",
        ),
        (
            "The other side's version (`version_mismatch`).",
            "readonly theirs?: string;",
        ),
        (
            "The rule that refused the call (`forbidden`): a `#[policy(...)]` as declared, \
             `default`, or `grant without `namespace``.",
            "readonly rule?: string;",
        ),
    ] {
        out.push_str(&jsdoc(&[docs], "  "));
        out.push_str(&format!("  {field}\n"));
    }
    out.push_str("}\n\n");

    out.push_str(&jsdoc(
        &["Options every invoke accepts as an optional last argument."],
        "",
    ));
    out.push_str("export interface IpcCallOptions {\n");
    out.push_str(&jsdoc(
        &["Aborting rejects the call with `cancelled` and cancels the handler in the Rust main."],
        "  ",
    ));
    out.push_str("  readonly signal?: AbortSignal;\n");
    out.push_str(&jsdoc(
        &["A deadline in milliseconds: the call rejects with `timeout` and the handler is cancelled."],
        "  ",
    ));
    out.push_str("  readonly timeoutMs?: number;\n}\n\n");
    out.push_str(&jsdoc(
        &["Options every event subscription accepts as an optional second argument."],
        "",
    ));
    out.push_str("export interface IpcSubscribeOptions {\n");
    out.push_str(&jsdoc(
        &[
            "Called with the number of events of this channel the page missed: the Rust main dropped",
            "them because the page did not read them fast enough. Without it, the miss is reported",
            "with `console.warn`.",
        ],
        "  ",
    ));
    out.push_str("  readonly onLag?: (missed: number) => void;\n}\n\n");
    out.push_str(&jsdoc(
        &["Ends a subscription; calling it again does nothing."],
        "",
    ));
    out.push_str("export type IpcDisposer = () => void;\n\n");
    ports_prelude(flavor, out);
    handle_interfaces(model, flavor, out);

    for service in &model.services {
        api_interface(service, flavor, out);
        errors_interface(service, out);
    }
    if model.services.len() > 1 {
        out.push_str(&jsdoc(&["The IPC API: one namespace per contract."], ""));
        out.push_str("export interface IpcApi {\n");
        for service in &model.services {
            out.push_str(&jsdoc(&[service.service.docs.as_str()], "  "));
            out.push_str(&format!(
                "  readonly {}: {};\n",
                service.property.as_deref().unwrap_or_default(),
                service.api_type
            ));
        }
        out.push_str("}\n\n");
    }
}

/// `IpcStream`, `IpcStreamSource` and `IpcPort` (`docs/PROTOCOL.md` §7.1): interfaces for the
/// window (the objects may be copies made by `contextBridge`), the module's classes for the
/// client.
fn ports_prelude(flavor: Flavor, out: &mut String) {
    let stream_docs = [
        "A stream from the other side (`ipc_runtime::Stream<T, E>`): read it with `for await`.",
        "Iteration ends when the producer finishes; it throws `IpcAppError<E>` when the producer",
        "fails with its own error and `IpcFrameworkError` when the stream breaks (`disconnected`, ...).",
        "Leaving the loop early (`break`, `return`, a throw) or `cancel()` stops the producer, and so",
        "does aborting the `signal` of the call that returned the stream. Items the page has not read",
        "yet wait here, at most one credit window (16) of them: the producer is held back until the",
        "page reads on.",
    ];
    let port_docs = [
        "One end of a two-way, ordered, flow-controlled channel (`ipc_runtime::Port<Out, In>`): this end",
        "sends `Out` and receives `In`. Messages that arrive before the first `onMessage` listener wait",
        "for it (at most one credit window, 16: the other side is held back until they are taken).",
    ];
    match flavor {
        Flavor::Window => {
            let mut docs = stream_docs.to_vec();
            docs.extend([
                "",
                "With context isolation on Electron older than 35 (no `contextBridge.executeInMainWorld`),",
                "a stream reaches the page as a copy without `Symbol.asyncIterator`: read it with its own",
                "`next()` and `return()` functions instead of `for await`.",
            ]);
            out.push_str(&jsdoc(&docs, ""));
            out.push_str("export interface IpcStream<T, E = never> extends AsyncIterable<T> {\n");
        }
        Flavor::Client => {
            out.push_str(&jsdoc(&stream_docs, ""));
            out.push_str(
                "export declare class IpcStream<T, E = never> implements AsyncIterable<T> {\n  private constructor();\n",
            );
            out.push_str(&jsdoc(
                &["The stream's iterator (one per stream: a second loop continues the first)."],
                "  ",
            ));
            out.push_str("  [Symbol.asyncIterator](): AsyncIterator<T>;\n");
        }
    }
    out.push_str(&jsdoc(
        &[
            "Stops the stream: the producer is told (`close` with reason `reason`, default",
            "`\"cancelled\"`) and iteration ends. Does nothing once the stream has ended.",
        ],
        "  ",
    ));
    out.push_str("  cancel(reason?: string): void;\n}\n\n");

    out.push_str(&jsdoc(
        &[
            "What a stream parameter takes: an iterable or async iterable of items (an array, a",
            "generator, ...). Items are pulled as the receiver grants credit; a source that throws",
            "fails the stream, and the source's `return()` is called when the receiver stops early.",
        ],
        "",
    ));
    out.push_str("export type IpcStreamSource<T> = AsyncIterable<T> | Iterable<T>;\n\n");

    match flavor {
        Flavor::Window => {
            let mut docs = port_docs.to_vec();
            docs.extend([
                "",
                "With context isolation on Electron older than 35, `closed` is read once, when the port",
                "reaches the page.",
            ]);
            out.push_str(&jsdoc(&docs, ""));
            out.push_str("export interface IpcPort<Out, In> {\n");
        }
        Flavor::Client => {
            out.push_str(&jsdoc(&port_docs, ""));
            out.push_str("export declare class IpcPort<Out, In> {\n  private constructor();\n");
        }
    }
    for (docs, member) in [
        (
            &[
                "Sends a message (plain data). Without credit it waits here, in order; past 1024 waiting",
                "messages it throws `IpcFrameworkError` `too_many_in_flight`, and on a closed port",
                "`disconnected`.",
            ][..],
            "postMessage(message: Out): void;",
        ),
        (
            &["Listens for messages; returns the function that stops listening."][..],
            "onMessage(listener: (message: In) => void): IpcDisposer;",
        ),
        (
            &[
                "Called once when the port closes: with `null` when either side closed it, with the",
                "error when it broke (`disconnected`, `protocol`, ...).",
            ][..],
            "onClose(listener: (error: IpcFrameworkError | null) => void): IpcDisposer;",
        ),
        (
            &["Closes the port for both sides; messages not yet taken are dropped."][..],
            "close(): void;",
        ),
        (
            &["Whether the port is closed (by either side, or with the connection)."][..],
            "readonly closed: boolean;",
        ),
    ] {
        out.push_str(&jsdoc(docs, "  "));
        out.push_str(&format!("  {member}\n"));
    }
    out.push_str("}\n\n");
}

/// One interface per capability the contracts reach (`NotebookHandle`: the object's methods,
/// `release()`, `released`), and `IpcHandle<"ns">`, the type the contracts name them by.
fn handle_interfaces(model: &Model<'_>, flavor: Flavor, out: &mut String) {
    if model.capabilities.is_empty() {
        return;
    }
    for capability in &model.capabilities {
        handle_interface(capability, flavor, out);
        object_interface(capability, flavor, out);
    }
    out.push_str(&jsdoc(
        &["The capability handles the contracts hand out, by the capability's namespace."],
        "",
    ));
    out.push_str(
        "export interface IpcHandles {
",
    );
    for capability in &model.capabilities {
        out.push_str(&format!(
            "  readonly {}: {};
",
            super::text::js_string(&capability.service.namespace),
            capability.handle_type
        ));
    }
    out.push_str(
        "}

",
    );
    out.push_str(&jsdoc(
        &["A handle to one object of capability `N` (docs/PROTOCOL.md, section 7.3)."],
        "",
    ));
    out.push_str(
        "export type IpcHandle<N extends keyof IpcHandles> = IpcHandles[N];

",
    );
    out.push_str(&jsdoc(
        &["The objects a page can serve, by the capability's namespace."],
        "",
    ));
    out.push_str("export interface IpcObjects {\n");
    for capability in &model.capabilities {
        out.push_str(&format!(
            "  readonly {}: {};\n",
            super::text::js_string(&capability.service.namespace),
            capability.object_type
        ));
    }
    out.push_str("}\n\n");
    out.push_str(&jsdoc(
        &[
            "An object of the page's own served as capability `N`: what an invoke's parameter of",
            "type `IpcHandle<\"N\">` takes (docs/PROTOCOL.md, section 7.3).",
        ],
        "",
    ));
    out.push_str("export type IpcObject<N extends keyof IpcObjects> = IpcObjects[N];\n\n");
}

/// The interface of an object a page serves as `capability` (`NotebookObject`): each method
/// takes the call's arguments and a signal, and answers with a value or a promise of it.
fn object_interface(capability: &CapabilityModel<'_>, flavor: Flavor, out: &mut String) {
    let service = capability.service;
    out.push_str(&jsdoc(
        &[
            format!(
                "An object the page serves as a `{}` (a capability: docs/PROTOCOL.md, section 7.3):",
                service.namespace
            ),
            "pass it to an invoke whose parameter is a handle of this kind, and the Rust main calls".into(),
            "its methods through the handle it receives, until it drops the handle. Calls may run".into(),
            "concurrently (at most 256 at once).".into(),
        ],
        "",
    ));
    out.push_str(&format!("export interface {} {{\n", capability.object_type));
    let signal_note = if flavor == Flavor::Window {
        "`signal` aborts when main no longer waits (it cancelled, its deadline passed, it released\n\
         the object); it is `undefined` with context isolation on Electron older than 35."
    } else {
        "`signal` aborts when main no longer waits (it cancelled, its deadline passed, it released\n\
         the object)."
    };
    for method in &capability.methods {
        let m = method.method;
        let mut params = typed_params(method, |ts| ts.to_string());
        params.push(format!("{}: AbortSignal", signal_param(method)));
        let mut docs = vec![m.docs.clone(), String::new()];
        docs.push(format!("Answers `{}`.", m.channel));
        docs.push(signal_note.into());
        match &m.error {
            Some(error) => docs.push(format!(
                "Throw `{{ name: \"IpcAppError\", data }}` (`data`: `{}`) to answer with the method's\n\
                 error; any other throw answers `handler_panicked`.",
                error.ts
            )),
            None => docs.push("A throw answers `handler_panicked` (with the error's message).".into()),
        }
        let output = m.output.as_ref().map_or("void", |o| o.ts.as_str());
        out.push_str(&jsdoc(&docs, "  "));
        out.push_str(&format!(
            "  {}({}): {output} | Promise<{output}>;\n",
            m.js_name,
            params.join(", ")
        ));
    }
    out.push_str("}\n\n");
}

fn handle_interface(capability: &CapabilityModel<'_>, flavor: Flavor, out: &mut String) {
    let service = capability.service;
    let mut docs = vec![
        service.docs.clone(),
        String::new(),
        format!(
            "A handle to one `{}` object in the Rust main (a capability: docs/PROTOCOL.md, section 7.3).",
            service.namespace
        ),
        format!(
            "Each method is a call to that object, with the options of an invoke (its deadline is {} s",
            crate::DEFAULT_CALL_TIMEOUT_MS / 1000
        ),
        "unless `timeoutMs` says otherwise). `release()` lets the object go; a handle the page drops".into(),
        "without releasing it is released once it is garbage-collected, which may be much later.".into(),
        "`using` and `await using` release it too, where the runtime has `Symbol.dispose`.".into(),
    ];
    if flavor == Flavor::Window {
        docs.extend([
            String::new(),
            "With context isolation on Electron older than 35, call `release()`: nothing releases a".into(),
            "dropped handle there, and `released` is read once, when the handle reaches the page.".into(),
        ]);
    }
    out.push_str(&jsdoc(&docs, ""));
    out.push_str(&format!(
        "export interface {} {{
",
        capability.handle_type
    ));
    for method in &capability.methods {
        let m = method.method;
        let mut params = typed_params(method, |ts| param_type(ts, m.kind, false));
        params.push("options?: IpcCallOptions".into());
        let mut docs = vec![m.docs.clone(), String::new()];
        docs.push(format!("Calls `{}` on the object.", m.channel));
        let levels = capability.service.policy_levels(m);
        if !levels.is_empty() {
            docs.push(format!(
                "Where main serves the object, it answers `forbidden` to a holder its policy does not admit: {}.",
                describe_levels(&levels)
            ));
        }
        if let Some(error) = &m.error {
            docs.push(format!(
                "@throws {{IpcAppError<{}>}} when the method returns an error (`data`).",
                error.ts
            ));
        }
        docs.push(
            "@throws {IpcFrameworkError} when the call fails (timeout, cancelled, revoked, released, ...)."
                .into(),
        );
        let output = m.output.as_ref().map_or("void", |o| o.ts.as_str());
        out.push_str(&jsdoc(&docs, "  "));
        out.push_str(&format!(
            "  {}({}): Promise<{output}>;
",
            m.js_name,
            params.join(", ")
        ));
    }
    out.push_str(&jsdoc(
        &[
            "Releases the object in the Rust main: calls in flight and later ones reject with",
            "`disconnected`. Calling it again does nothing.",
        ],
        "  ",
    ));
    out.push_str(
        "  release(): void;
",
    );
    out.push_str(&jsdoc(
        &["Whether the handle can no longer be called: released, revoked by its owner (`revoked`), or its connection gone."],
        "  ",
    ));
    out.push_str(
        "  readonly released: boolean;
}

",
    );
}

/// `name: type` for each of a method's parameters, the type as `ty` writes the contract's.
fn typed_params(method: &MethodModel<'_>, ty: impl Fn(&str) -> String) -> Vec<String> {
    method
        .param_names
        .iter()
        .zip(&method.method.params)
        .map(|(name, p)| format!("{name}: {}", ty(&p.ty.ts)))
        .collect()
}

/// The name of the `AbortSignal` a handler gets after a method's parameters (`signal_` when a
/// parameter has that name).
fn signal_param(method: &MethodModel<'_>) -> &'static str {
    if method.param_names.iter().any(|n| n == "signal") {
        "signal_"
    } else {
        "signal"
    }
}

/// A parameter's type as the page passes it: a stream parameter of an invoke (`IpcStream<T, E>`)
/// takes any source of items (`IpcStreamSource<T>`); a capability parameter of an invoke takes an
/// object the page serves (`IpcObject<"ns">`); a handle anywhere else is `never` (a page cannot
/// hand one on: they reach pages from the Rust side); everything else is as the contract says.
fn param_type(ts: &str, kind: MethodKind, serves: bool) -> String {
    if kind == MethodKind::Invoke && serves {
        if let Some(namespace) = shape::generic_argument(ts.trim(), "IpcHandle") {
            return format!("IpcObject<{namespace}>");
        }
    }
    let mut ts = ts.to_string();
    while let Some(at) = ts.find("IpcHandle<") {
        let Some(end) = ts[at..].find('>') else {
            break;
        };
        ts.replace_range(at..at + end + 1, "never");
    }
    let ts = ts.as_str();
    let trimmed = ts.trim();
    if kind == MethodKind::Invoke {
        if let Some(inner) = shape::generic_argument(trimmed, "IpcStream") {
            if let Some(item) = shape::split_top(inner, ',').first() {
                return format!("IpcStreamSource<{item}>");
            }
        }
    }
    ts.to_string()
}

fn api_interface(service: &ServiceModel<'_>, flavor: Flavor, out: &mut String) {
    out.push_str(&jsdoc(&[service.service.docs.as_str()], ""));
    out.push_str(&format!("export interface {} {{\n", service.api_type));
    for method in &service.methods {
        let m = method.method;
        let params = typed_params(method, |ts| param_type(ts, m.kind, true));
        let mut docs = vec![m.docs.clone(), String::new()];
        let signature = match m.kind {
            MethodKind::Invoke => {
                docs.push(format!("Invokes `{}`.", m.channel));
                if let Some(error) = &m.error {
                    docs.push(format!(
                        "@throws {{IpcAppError<{}>}} when the handler returns an error (`data`).",
                        error.ts
                    ));
                }
                docs.push(
                    "@throws {IpcFrameworkError} when the call fails (timeout, cancelled, no handler, ...)."
                        .into(),
                );
                let mut all = params.clone();
                all.push("options?: IpcCallOptions".into());
                let output = m.output.as_ref().map_or("unknown", |o| o.ts.as_str());
                format!("{}({}): Promise<{output}>;", m.js_name, all.join(", "))
            }
            MethodKind::Sync => {
                let millis = m.sync_timeout_ms();
                let output = m.output.as_ref().map_or("unknown", |o| o.ts.as_str());
                if flavor == Flavor::Client {
                    // A page cannot block on a WebSocket: the browser client calls it as an invoke.
                    docs.push(format!(
                        "Invokes `{}` (declared `#[sync]`: a page cannot block on a WebSocket, so\n\
                         here it is an ordinary call, with the contract's deadline of {millis} ms).",
                        m.channel
                    ));
                } else {
                    docs.push(format!(
                        "Calls `{}` synchronously (Electron's `sendSync`): the page is blocked until the\n\
                         Rust main answers, at most {millis} ms. The last resort it is in Electron: prefer\n\
                         an invoke wherever the page can wait for a promise.",
                        m.channel
                    ));
                }
                if let Some(error) = &m.error {
                    docs.push(format!(
                        "@throws {{IpcAppError<{}>}} when the handler returns an error (`data`).",
                        error.ts
                    ));
                }
                docs.push(
                    "@throws {IpcFrameworkError} when the call fails (`timeout` past the deadline, no handler, ...)."
                        .into(),
                );
                if flavor == Flavor::Client {
                    format!("{}({}): Promise<{output}>;", m.js_name, params.join(", "))
                } else {
                    format!("{}({}): {output};", m.js_name, params.join(", "))
                }
            }
            MethodKind::Send => {
                docs.push(format!("Sends `{}` (fire-and-forget).", m.channel));
                format!("{}({}): void;", m.js_name, params.join(", "))
            }
            MethodKind::Event => {
                docs.push(format!(
                    "Subscribes to `{}`; returns the function that unsubscribes.",
                    m.channel
                ));
                docs.push(
                    "`options.onLag(missed)` hears of events the page missed (else `console.warn` does)."
                        .into(),
                );
                format!(
                    "{}(listener: ({}) => void, options?: IpcSubscribeOptions): IpcDisposer;",
                    m.js_name,
                    params.join(", ")
                )
            }
            MethodKind::Request => {
                docs.push(format!(
                    "Answers `{}`: the Rust main asks this page, and `handler` answers with the value\n\
                     (or a promise of it). Returns the function that stops answering (main's later\n\
                     requests then fail with `no_handler`); one handler at a time.",
                    m.channel
                ));
                docs.push(
                    "`signal` aborts when main no longer waits (it cancelled, or its `timeout_ms` passed);\n\
                     it is `undefined` with context isolation on Electron older than 35."
                        .into(),
                );
                match &m.error {
                    Some(error) => docs.push(format!(
                        "A handler that throws `{{ name: \"IpcAppError\", data }}` (`data`: `{}`) answers with\n\
                         that application error; any other throw answers `handler_panicked`.",
                        error.ts
                    )),
                    None => docs.push(
                        "A handler that throws answers `handler_panicked` (with the error's message)."
                            .into(),
                    ),
                }
                let output = m.output.as_ref().map_or("unknown", |o| o.ts.as_str());
                let mut all = params.clone();
                all.push(format!("{}: AbortSignal", signal_param(method)));
                format!(
                    "{}(handler: ({}) => {output} | Promise<{output}>): IpcDisposer;",
                    m.js_name,
                    all.join(", ")
                )
            }
        };
        let levels = service.service.policy_levels(m);
        let signature = if may_be_hidden(&levels) {
            docs.insert(
                2.min(docs.len()),
                format!(
                    "Present only where the contract's policy admits the page: {}.",
                    describe_levels(&levels)
                ),
            );
            signature.replacen(&format!("{}(", m.js_name), &format!("{}?(", m.js_name), 1)
        } else {
            signature
        };
        out.push_str(&jsdoc(&docs, "  "));
        out.push_str(&format!("  {signature}\n"));
    }
    out.push_str("}\n\n");
}

/// A method's policy levels in words: each level's rules, the levels joined with "and".
fn describe_levels(levels: &[&[crate::Rule]]) -> String {
    levels
        .iter()
        .map(|level| crate::policy::describe(level))
        .collect::<Vec<_>>()
        .join(", and ")
}

/// Whether the preload or the browser client may leave a method out of a page's API: some
/// level has no rule that admits every window and every page (a rule that names an origin, the
/// main frame, or only other kinds). Capabilities are main's to decide and hide nothing.
fn may_be_hidden(levels: &[&[crate::Rule]]) -> bool {
    use crate::RendererKind;
    let admits_all = |rule: &crate::Rule, kind: RendererKind| {
        rule.origins.is_empty()
            && !rule.main_frame
            && (rule.renderers.is_empty() || rule.renderers.contains(&kind))
    };
    levels.iter().any(|level| {
        [RendererKind::Window, RendererKind::Page]
            .into_iter()
            .any(|kind| !level.iter().any(|rule| admits_all(rule, kind)))
    })
}

fn errors_interface(service: &ServiceModel<'_>, out: &mut String) {
    let first = service
        .methods
        .iter()
        .find(|m| matches!(m.method.kind, MethodKind::Invoke | MethodKind::Sync))
        .map_or("method", |m| m.method.js_name.as_str());
    out.push_str(&jsdoc(
        &[
            format!(
                "What each invoke of `{}` rejects with{}, by method name:",
                service.service.namespace,
                if service
                    .methods
                    .iter()
                    .any(|m| m.method.kind == MethodKind::Sync)
                {
                    " (and each sync call throws)"
                } else {
                    ""
                }
            ),
            format!(
                "`catch (e) {{ const error = e as {}[\"{first}\"]; ... }}`.",
                service.errors_type
            ),
        ],
        "",
    ));
    out.push_str(&format!("export interface {} {{\n", service.errors_type));
    for method in &service.methods {
        let m = method.method;
        if !matches!(m.kind, MethodKind::Invoke | MethodKind::Sync) {
            continue;
        }
        let union = match &m.error {
            Some(error) => format!("IpcAppError<{}> | IpcFrameworkError", error.ts),
            None => "IpcFrameworkError".into(),
        };
        out.push_str(&format!("  {}: {union};\n", m.js_name));
    }
    out.push_str("}\n\n");
}
