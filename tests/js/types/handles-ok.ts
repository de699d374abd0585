import type { IpcFrameworkError, IpcHandle, NotebookHandle } from "./todos";

export async function handles(): Promise<void> {
  const notebook: NotebookHandle = await window.todos.openNotebook("shopping");
  const same: IpcHandle<"notebook"> = notebook;
  const count: number = await same.write("milk", { timeoutMs: 1000 });
  const lines: string[] = await notebook.read({ signal: new AbortController().signal });
  console.log(count, lines.join(", "));
  const released: boolean = notebook.released;
  notebook.release();
  try {
    await notebook.read();
  } catch (error) {
    console.log((error as IpcFrameworkError).code, released);
  }
  const open: number = await window.todos.notebooksOpen();
  console.log(open);
}
