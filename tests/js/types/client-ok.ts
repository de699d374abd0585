// The browser client's types: must type-check under `tsc --strict`.
import {
  IpcAppError,
  IpcFrameworkError,
  close,
  connect,
  type Todo,
  type TodoError,
  type TodosApi,
  type Usage,
  type View,
} from "./client.mjs";

export async function browser(): Promise<void> {
  const api: TodosApi = await connect("wss://example.invalid/ipc", { token: "t", label: "tab", handshakeTimeoutMs: 1000, maxMessage: 1 << 20 });
  const todo: Todo = await api.add("from a tab", { timeoutMs: 100 });
  // A sync method is an ordinary call in a page on a WebSocket.
  const found: Promise<Todo> = api.lookup(todo.id, 0);
  console.log((await found).title);
  const moved: Date = await api.postpone(new Date(0), 1000, true);
  console.log(moved.toISOString());
  const usage: Usage = await api.measure({ bytes: 2n ** 64n - 1n, delta: -1n, history: [] }, 0n);
  console.log(usage.bytes + 1n);
  const file: Uint8Array = await api.attachment(todo.id);
  await api.attach(todo.id, file.subarray(1));
  const view: View = await api.setView({ order: "newest", filters: [{ by: "title", contains: "x" }], page: { t: "after", c: 3 }, pinned: ["x"], icon: null });
  console.log(view.order);
  const off = api.onChanged((changed: Todo) => console.log(changed.title), { onLag: (missed: number) => console.log(missed) });
  off();
  try {
    api.log("a send on a closed connection throws");
  } catch (e) {
    if (e instanceof IpcFrameworkError && e.code === "disconnected") console.log(e.reason);
  }
  try {
    await api.toggle(todo.id);
  } catch (e) {
    if (e instanceof IpcAppError) {
      const data = e.data as TodoError;
      console.log(data.id);
    } else if (e instanceof IpcFrameworkError) {
      console.log(e.code);
    }
  }
  close(api, "done");
}
