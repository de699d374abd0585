// The browser client's stream and port classes: must type-check under `tsc --strict`.
import { IpcPort, IpcStream, connect, type Todo } from "./client.mjs";

export async function browserPorts(): Promise<void> {
  const api = await connect("wss://example.invalid/ipc");
  const stream = await api.watch(3);
  if (stream instanceof IpcStream) {
    for await (const todo of stream) {
      const t: Todo = todo;
      console.log(t.title);
    }
  }
  const port = await api.chat();
  if (port instanceof IpcPort) port.postMessage("hi");
  await api.import((async function* () { yield "x"; })());
  api.handleConfirm(async (question, signal) => !signal.aborted && question !== "");
  // @ts-expect-error made by the bindings only
  new IpcStream();
}
