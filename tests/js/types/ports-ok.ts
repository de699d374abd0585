import type { IpcDisposer, IpcFrameworkError, IpcPort, IpcStream, IpcStreamSource, Todo } from "./todos";

export async function ports(): Promise<void> {
  const stream: IpcStream<Todo, never> = await window.todos.watch(10);
  for await (const todo of stream) {
    const id: number = todo.id;
    if (id > 3) break;
  }
  stream.cancel();
  stream.cancel("done");
  const controller = new AbortController();
  const again = await window.todos.watch(5, { signal: controller.signal });
  const iterator: AsyncIterator<Todo> = again[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (!first.done) console.log(first.value.title);

  const added: number = await window.todos.import(["a", "b"]);
  async function* titles(): AsyncGenerator<string> {
    yield "c";
  }
  await window.todos.import(titles());
  await window.todos.import(new Set(["d"]));
  const source: IpcStreamSource<string> = ["e"];
  await window.todos.import(source, { timeoutMs: 1000 });

  const port: IpcPort<string, string> = await window.todos.chat();
  const stop: IpcDisposer = port.onMessage((line) => console.log(line.toUpperCase()));
  port.onClose((error: IpcFrameworkError | null) => console.log(error?.code));
  port.postMessage("hello");
  const closed: boolean = port.closed;
  port.close();
  stop();

  const dispose: IpcDisposer = window.todos.handleConfirm((question, signal) => {
    signal.addEventListener("abort", () => console.log(signal.reason));
    return question.length > added + Number(closed);
  });
  window.todos.handleConfirm(async (question: string) => question === "yes");
  dispose();
  window.todos.onIntroduce((peer) => peer.postMessage("hi"));

  // What the types refuse:
  // @ts-expect-error the stream's items are todos
  for await (const text of stream) console.log(text.toUpperCase());
  // @ts-expect-error a stream argument takes items of its type
  await window.todos.import([1, 2]);
  // @ts-expect-error a stream argument is a source of items, not one item
  await window.todos.import(5);
  // @ts-expect-error this end sends strings
  port.postMessage(42);
  // @ts-expect-error and receives strings
  port.onMessage((n: number) => console.log(n));
  // @ts-expect-error closed is read-only
  port.closed = true;
  // @ts-expect-error the handler answers a boolean
  window.todos.handleConfirm(() => "yes");
  // @ts-expect-error the question is a string
  window.todos.handleConfirm((question: number) => question > 0);
  // @ts-expect-error cancel takes a string reason
  stream.cancel(5);
}
