import type { ExportError, IpcObject, Todo, TodoSinkObject } from "./todos";

export async function objects(): Promise<void> {
  // A plain object with the capability's methods; the signal may be left out.
  const taken: number = await window.todos.export({ take: (todo: Todo) => todo.done });
  const sink: TodoSinkObject = {
    async take(todo: Todo, sent: Date, signal: AbortSignal): Promise<boolean> {
      if (signal.aborted) return false;
      if (todo.title === "") {
        const refused: ExportError = { kind: "Refused", id: todo.id, reason: "no title" };
        throw { name: "IpcAppError", data: refused };
      }
      return sent.getTime() > 0;
    },
  };
  const same: IpcObject<"todo_sink"> = sink;
  console.log(taken, await window.todos.export(same, { timeoutMs: 1000 }));
}
